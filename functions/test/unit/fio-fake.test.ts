// The fake Fio banka (devtools/fakes/fio.ts) driven through our real client (src/payments/fio.ts): the per-token
// cursor, the 30-second limit (409, and time passing on the fake's clock), the import and orders executed into the
// feed, cursor repair, periods, and the bank going down. In-process on a free port; no emulator.
import assert from "node:assert/strict";
import { FioRateLimited, FioRestClient } from "../../src/payments/fio";
import { PaymentProviderError } from "../../src/payments/provider";
import { orderComment } from "../../src/payments/fio-match";
import { FAKE_FIO_TOKEN, startFakeFio } from "../../devtools/fakes/fio";
import type { FakeFio } from "../../devtools/fakes/fio";

describe("fake Fio banka through the real client", () => {
  let fio: FakeFio;
  let client: FioRestClient;
  const later = () => fio.advance(30_000);

  before(async () => {
    fio = await startFakeFio(0);
    client = new FioRestClient(`${fio.url}/`, FAKE_FIO_TOKEN);
  });
  after(() => fio.close());
  beforeEach(() => fio.reset());

  it("answers new movements once per token (its cursor), and 409 within 30 s of the last answer", async () => {
    fio.addIncoming({ amount: 50_000, variableSymbol: "1234567890" });
    const first = await client.lastMovements();
    assert.deepEqual(
      first.movements.map((movement) => [movement.amount, movement.variableSymbol, movement.counterAccount, movement.bankCode]),
      [[50_000, "1234567890", "1998087029", "3030"]],
    );
    await assert.rejects(client.lastMovements(), FioRateLimited);
    fio.advance(29_000);
    await assert.rejects(client.lastMovements(), FioRateLimited);
    fio.advance(1_000);
    assert.deepEqual((await client.lastMovements()).movements, []);
    // Another token (another system) has its own cursor and its own limit.
    assert.equal((await new FioRestClient(fio.url, "staging-token").lastMovements()).movements.length, 1);
  });

  it("imports orders; once confirmed and executed they appear in the feed with our comment", async () => {
    fio.requireConfirmation(true);
    const result = await client.importOrders([
      { accountFrom: fio.account.accountId, currency: "CZK", amount: 20_000, accountTo: "19-2000145399", bankCode: "0800", variableSymbol: "42", messageForRecipient: "ElateMe: vrácení", comment: orderComment("o1"), date: "2026-11-30" },
    ]);
    assert.equal(result.errorCode, 0);
    assert.ok(result.idInstruction);
    assert.equal(fio.executeOrders(), 0, "waits for the confirmation in internet banking");
    assert.equal(fio.confirmOrders(), 1);
    assert.equal(fio.executeOrders(), 1);
    later();
    const [out] = (await client.lastMovements()).movements;
    assert.deepEqual([out?.amount, out?.comment, out?.counterAccount, out?.bankCode, out?.variableSymbol], [-20_000, orderComment("o1"), "19-2000145399", "0800", "42"]);
    later();
    const refused = await client.importOrders([
      { accountFrom: "999", currency: "CZK", amount: 1, accountTo: "1", bankCode: "0800", variableSymbol: null, messageForRecipient: "x", comment: "y", date: "2026-11-30" },
    ]);
    assert.notEqual(refused.errorCode, 0);
  });

  it("re-downloads after set-last-id and answers a period without moving the cursor", async () => {
    const a = fio.addIncoming({ amount: 100 });
    fio.addIncoming({ amount: 200 });
    assert.equal((await client.lastMovements()).movements.length, 2);
    later();
    await client.setLastId(String(a.id));
    later();
    assert.deepEqual((await client.lastMovements()).movements.map((movement) => movement.amount), [200]);
    later();
    const today = new Date(Date.now() + 120_000).toISOString().slice(0, 10);
    assert.equal((await client.periodMovements("2000-01-01", today)).movements.length, 2);
  });

  it("down: every call fails with the HTTP status (not a rate limit); back: the movements are still there", async () => {
    fio.addIncoming({ amount: 100 });
    fio.setDown(true);
    const error = await client.lastMovements().then(
      () => null,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof PaymentProviderError);
    assert.equal(error.httpStatus, 503);
    fio.setDown(false);
    assert.equal((await client.lastMovements()).movements.length, 1);
  });
});
