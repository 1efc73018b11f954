// The bank-transfer rail (issue 19, Fio banka), in-process: the real poller and Fio's closing port against the
// Firestore emulator ("money" database, test/helpers/money.ts) and the fake Fio banka behind the real client. Pay
// exactly, short, over; an unknown reference; pay after close; duplicate and reordered feed items; Fio down then back
// and its 409; refunds on close and on expiry confirmed by the feed; reconciliation repairing a missed item; the money
// invariant across card and bank transfer on one wish, and across all three rails on one wish.
import assert from "node:assert/strict";
import { closeWish } from "../../src/closing/close";
import { donate } from "../../src/donations/donate";
import { reserveVariableSymbol } from "../../src/donations/bank-transfer";
import { BANK_TRANSFER_GRACE_DAYS } from "../../src/model/bank-transfer";
import { DomainError } from "../../src/lib/errors";
import { expireWish } from "../../src/closing/deadline";
import { AUDIT_GRACE_MS, auditWish } from "../../src/settlement/audit";
import { createOrder, FEED_STALE_MESSAGE, runFioPoll } from "../../src/settlement/fio";
import { bankDay } from "../../src/payments/fio-match";
import { referenceExpiresAt } from "../../src/donations/bank-transfer";
import { bankRefs } from "../../src/store/bank-transfer";
import { BankWorld } from "../helpers/bank";
import { bitcoinRail } from "../../src/donations/bitcoin";
import type { BitcoinDonateResult } from "../../src/donations/rails";
import { reconcileWish } from "../../src/donations/reconcile";
import { clearMoneyDb } from "../helpers/money";
import { retryRefund } from "../../src/ops/refunds";

const WISH = 100_000;

async function setUp(over: Parameters<BankWorld["seedWish"]>[1] = {}): Promise<{ world: BankWorld; wishId: string }> {
  const world = new BankWorld();
  const wishId = `wish-bank-${Math.random().toString(36).slice(2, 10)}`;
  await world.seedWish(wishId, { amount: WISH, currency: "CZK", ...over });
  return { world, wishId };
}

const donationOf = async (world: BankWorld, donationId: string) => (await world.doc(`donations/${donationId}`)) ?? {};
const ledgerOf = async (world: BankWorld, donationId: string) =>
  (await world.db.collection("ledger").where("donationId", "==", donationId).get()).docs.map((doc) => [doc.get("kind") as string, doc.get("amount") as number, doc.get("provider") as string]).sort();
const ordersOf = async (world: BankWorld) => (await bankRefs.orders(world.db).get()).docs.map((doc) => ({ id: doc.id, ...doc.data() }));
const finding = (world: BankWorld, id: string) => world.doc(`ops/reconciliation/findings/${id}`);

describe("bank transfer (Fio): the poller, matching, returns and refunds", function () {
  this.timeout(120_000);
  // Each test its own money database: the poller's lease, references and records are per account.
  beforeEach(() => clearMoneyDb());

  it("donate (bank_transfer): instructions with a unique symbol, the SPD string and a due date; a retry answers the same; CZK only", async () => {
    const { world, wishId } = await setUp();
    const now = world.clock.now();
    await world.db.collection("users").doc("dana").set({ displayName: "Dana", photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now });
    const input = { wishId, amount: 45_000, currency: "CZK", method: "bank_transfer", requestId: "bank-tap-0001" };
    const first = await donate(world.donateDeps(), "dana", input);
    assert.equal(first.method, "bank_transfer");
    if (first.method !== "bank_transfer") return;
    const { instructions } = first;
    assert.match(instructions.variableSymbol, /^[1-9]\d{9}$/);
    assert.deepEqual(
      [instructions.iban, instructions.accountNumber, instructions.bankCode, instructions.amount, instructions.currency, instructions.message],
      ["CZ1120100000002801234567", "2801234567", "2010", 45_000, "CZK", `ElateMe ${instructions.variableSymbol}`],
    );
    assert.equal(instructions.spdQr, `SPD*1.0*ACC:CZ1120100000002801234567*AM:450.00*CC:CZK*X-VS:${instructions.variableSymbol}*MSG:ELATEME ${instructions.variableSymbol}*RN:ELATEME`);
    assert.equal(instructions.dueAt, new Date(now.getTime() + 7 * 86_400_000).toISOString());
    const donation = await donationOf(world, first.donationId);
    assert.deepEqual([donation.status, donation.method, donation.provider, donation.paymentIntentId], ["pending", "bank_transfer", "fio", `fio_vs_${instructions.variableSymbol}`]);
    assert.deepEqual(await donate(world.donateDeps(), "dana", input), first, "a retried tap answers the same instructions");
    assert.equal((await world.db.collection("bankTransferReferences").get()).size, 1);

    const euros = `${wishId}-eur`;
    await world.seedWish(euros, { amount: 50_000, currency: "EUR" });
    await assert.rejects(donate(world.donateDeps(), "dana", { wishId: euros, amount: 5_000, currency: "EUR", method: "bank_transfer" }), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.deepEqual([error.reason, error.field, error.params.currency], ["bank_transfer_czk_only", "method", "EUR"]);
      return true;
    });
  });

  it("variable symbols: reserved with create(), a collision draws another", async () => {
    const { world } = await setUp();
    const draws = ["1111111111", "1111111111", "2222222222"];
    const next = () => draws.shift() ?? "3333333333";
    const reference = { donationId: "d1", wishId: "w1", donorId: "dana", amount: 100, currency: "CZK", createdAt: world.clock.now(), dueAt: world.clock.now() };
    assert.equal(await reserveVariableSymbol(world.db, reference, next), "1111111111");
    assert.equal(await reserveVariableSymbol(world.db, { ...reference, donationId: "d2" }, next), "2222222222");
    assert.equal((await world.doc("bankTransferReferences/1111111111"))?.donationId, "d1");

    // A symbol a requestId race left behind for a donation that carries another one: it expires without touching it.
    const { wishId } = await setUp();
    const { donationId } = await world.bankDonation(wishId, "dana", 20_000);
    await reserveVariableSymbol(world.db, { ...reference, donationId, wishId }, next);
    // Expired once the feed is known complete past the end of the expiry day (a bank day later at most).
    world.later((BANK_TRANSFER_GRACE_DAYS + 1) * 86_400_000 + 60_000);
    assert.equal((await world.poll()).expired, 3, "d1, d2 (no donation) and the race loser");
    assert.equal((await donationOf(world, donationId)).status, "pending");
  });

  it("pay exactly → succeeded and booked once; the same movement downloaded again (set-last-id) changes nothing", async () => {
    const { world, wishId } = await setUp();
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 50_000);
    assert.equal((await donationOf(world, donationId)).status, "pending");
    const paid = world.fio.addIncoming({ amount: 50_000, variableSymbol, message: `ElateMe ${variableSymbol}` });
    const run = await world.poll();
    assert.deepEqual([run.call, run.result, run.recorded, run.applied], ["download", "ok", 1, 1]);
    const donation = await donationOf(world, donationId);
    assert.deepEqual([donation.status, donation.amountReceived, donation.netAmount, donation.provider], ["succeeded", 50_000, 50_000, "fio"]);
    assert.deepEqual(await ledgerOf(world, donationId), [["charge", 50_000, "fio"]]);
    assert.deepEqual((await world.doc(`bankTransferReferences/${variableSymbol}`))?.payer, { account: "1998087029", bankCode: "3030", name: "Jana Nováková" });

    // Fio's cursor set back: the movement comes again; recorded once, booked once.
    world.later();
    await world.bank.setLastId(String(paid.id - 1));
    const again = await world.poll();
    assert.deepEqual([again.result, again.recorded, again.applied], ["ok", 0, 0]);
    assert.deepEqual(await ledgerOf(world, donationId), [["charge", 50_000, "fio"]]);
    assert.equal((await world.db.collection("fioOrders").get()).size, 0);
  });

  it("pay short → succeeded with what arrived (no finding); pay over → booked as it arrived, the excess refunded to the sender and confirmed by the feed", async () => {
    const { world, wishId } = await setUp();
    const short = await world.bankDonation(wishId, "dana", 50_000);
    const over = await world.bankDonation(wishId, "dave", 20_000);
    world.fio.addIncoming({ amount: 30_000, variableSymbol: short.variableSymbol });
    world.fio.addIncoming({ amount: 25_000, variableSymbol: over.variableSymbol, counterAccount: "19-2000145399", bankCode: "0800" });
    await world.poll();

    const shortDonation = await donationOf(world, short.donationId);
    assert.deepEqual([shortDonation.status, shortDonation.amountReceived, shortDonation.netAmount], ["succeeded", 30_000, 30_000]);
    assert.equal((await world.db.collection("ops/reconciliation/findings").get()).size, 0, "another amount is an outcome, not an ops item");
    let overDonation = await donationOf(world, over.donationId);
    assert.deepEqual([overDonation.status, overDonation.amountReceived, overDonation.netAmount], ["succeeded", 25_000, 25_000], "the ledger holds what the statement shows");

    // The donation's trigger asks for the excess back (refund reason overpayment); the refund task queues Fio's order.
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${over.donationId}`))?.reason, "overpayment");
    const [order] = await ordersOf(world);
    assert.deepEqual([order?.kind, order?.amount, order?.accountTo, order?.bankCode, order?.status], ["refund", 5_000, "19-2000145399", "0800", "queued"]);

    const sent = await world.poll();
    assert.deepEqual([sent.call, sent.result], ["import", "ok"]);
    assert.deepEqual(world.fio.orders.map((bankOrder) => [bankOrder.amount, bankOrder.accountTo, bankOrder.bankCode]), [[5_000, "19-2000145399", "0800"]]);
    assert.equal(world.fio.executeOrders(), 1);
    await world.poll();
    await world.quiesce(wishId);
    assert.equal((await ordersOf(world))[0]?.status, "executed");
    overDonation = await donationOf(world, over.donationId);
    assert.deepEqual([overDonation.status, overDonation.netAmount], ["succeeded", 20_000], "the donation still counts: only the excess went back");
    assert.deepEqual(await ledgerOf(world, over.donationId), [["charge", 20_000, "fio"], ["charge_adjustment", 5_000, "fio"], ["refund", -5_000, "fio"]]);
    assert.equal((await world.doc(`refundRequests/${over.donationId}`))?.status, "succeeded");
  });

  it("an unknown reference is an ops finding; money after the wish closed goes back in full, never booked", async () => {
    const { world, wishId } = await setUp();
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 40_000);
    const stranger = world.fio.addIncoming({ amount: 12_300, variableSymbol: "777" });
    await world.poll();
    const unmatched = await finding(world, `bank_transfer_unmatched_${stranger.id}`);
    assert.deepEqual([unmatched?.amount, unmatched?.provider, unmatched?.resolvedAt], [12_300, "fio", null]);

    await world.db.collection("wishes").doc(wishId).update({ status: "closed", closedAt: world.clock.now() });
    // Booked the day after the wish closed: too late (booked on the closing day it would be booked, then refunded).
    const late = world.fio.addIncoming({ amount: 40_000, variableSymbol, date: bankDay(new Date(world.clock.now().getTime() + 86_400_000)) });
    await world.poll();
    assert.equal((await donationOf(world, donationId)).status, "pending");
    assert.deepEqual(await ledgerOf(world, donationId), []);
    const order = (await ordersOf(world)).find((candidate) => candidate.id === `x_${late.id}`);
    assert.deepEqual([order?.reason, order?.amount], ["wish_closed", 40_000]);
  });

  it("a refund order the bank refuses: the refund fails into the ops queue, ops retry, and a new order pays the donor back once", async () => {
    const { world, wishId } = await setUp();
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 30_000);
    world.fio.addIncoming({ amount: 30_000, variableSymbol, counterAccount: "123456789", bankCode: "0100" });
    await world.poll();
    world.fio.refuseAccount("123456789"); // e.g. the payer's account was closed meanwhile
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);
    // The import is refused, and the instance dies before the refund is failed through the ledger ...
    const apply = world.fioDeps.applyPaymentEvent;
    world.fioDeps.applyPaymentEvent = () => Promise.reject(new Error("the instance died"));
    await assert.rejects(world.poll(), /the instance died/);
    world.fioDeps.applyPaymentEvent = apply;
    assert.equal((await world.doc(`refundRequests/${donationId}`))?.status, "requested");
    await world.poll(); // ... the next run's sweep finishes it
    await world.quiesce(wishId);
    const [refused] = (await ordersOf(world)).filter((candidate) => candidate.kind === "refund");
    assert.equal(refused?.status, "refused");
    assert.ok(refused?.refundFailedAt, "its refund was failed, once");
    assert.ok(await finding(world, `fio_order_refused_${refused?.id ?? ""}`));
    const request = await world.doc(`refundRequests/${donationId}`);
    assert.equal(request?.status, "failed", "no money left: the request fails instead of waiting for ever");
    assert.equal((await world.doc(`ops/refundFailures/items/${donationId}`))?.resolvedAt, null, "in the ops queue");

    world.fio.refuseAccount(null); // the donor's account works again (ops checked with them)
    assert.deepEqual(await retryRefund(world.refundDeps, "ada", { donationId, reason: "the donor's account is open again" }), { result: "queued", generation: 1 });
    await world.quiesce(wishId);
    await world.poll(); // one call per run: the feed first ...
    await world.poll(); // ... then the new order is imported
    assert.equal(world.fio.executeOrders(), 1);
    await world.poll(); // its outgoing movement confirms the refund
    await world.quiesce(wishId);
    const orders = (await ordersOf(world)).filter((candidate) => candidate.kind === "refund");
    assert.deepEqual(orders.map((order) => order.status).sort(), ["executed", "refused"], "one new order, once");
    const refunded = await donationOf(world, donationId);
    assert.deepEqual([refunded.status, refunded.netAmount], ["refunded", 0]);
    // The refused order's refund was booked when it was made and reversed when it failed; the new one stays.
    const entries = await ledgerOf(world, donationId);
    assert.deepEqual(entries, [["charge", 30_000, "fio"], ["refund", -30_000, "fio"], ["refund", -30_000, "fio"], ["refund_failed", 30_000, "fio"]]);
    assert.equal(entries.reduce((sum, [, amount]) => sum + Number(amount), 0), 0, "the wish holds nothing");
    assert.equal((await world.doc(`refundRequests/${donationId}`))?.status, "succeeded");
  });

  it("an order the bank holds for days is an ops finding: flagged on every run, it keeps its first sighting and stays resolved once ops resolve it", async () => {
    const { world, wishId } = await setUp();
    const { variableSymbol } = await world.bankDonation(wishId, "dana", 30_000);
    world.fio.requireConfirmation(true);
    world.fio.addIncoming({ amount: 30_000, variableSymbol, counterAccount: "123456789", bankCode: "0100" });
    await world.poll();
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);
    await world.poll(); // the refund order is imported; the bank waits for a confirmation nobody gives
    const [order] = (await ordersOf(world)).filter((candidate) => candidate.kind === "refund");
    assert.equal(order?.status, "sent");
    world.later(3 * 24 * 60 * 60 * 1000);
    await world.poll();
    const id = `fio_order_unconfirmed_${order?.id ?? ""}`;
    const first = await finding(world, id);
    assert.ok(first?.detectedAt, "flagged once the order has waited for days");
    assert.equal(first?.resolvedAt, null);
    // Ops confirmed it in internet banking and resolved the finding; the bank has not executed it yet.
    await world.db.doc(`ops/reconciliation/findings/${id}`).update({ resolvedAt: world.clock.now() });
    await world.poll();
    const again = await finding(world, id);
    assert.deepEqual(again?.detectedAt, first.detectedAt, "the first sighting stays");
    assert.ok(again?.resolvedAt, "resolved by ops stays resolved");
    assert.ok((again?.lastSeenAt as { toMillis(): number }).toMillis() > (first.lastSeenAt as { toMillis(): number }).toMillis(), "seen again");
  });

  it("duplicate and reordered feed items: a second payment to one symbol goes back; a movement seen twice (period) is applied once", async () => {
    const { world, wishId } = await setUp();
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 30_000);
    const first = world.fio.addIncoming({ amount: 30_000, variableSymbol });
    const second = world.fio.addIncoming({ amount: 30_000, variableSymbol });
    // The reconciliation's period download records both first (in the bank's order, whatever order they are listed in).
    await world.poll("period");
    await world.poll();
    assert.deepEqual(await ledgerOf(world, donationId), [["charge", 30_000, "fio"]]);
    assert.equal((await world.doc(`bankTransferReferences/${variableSymbol}`))?.paidByMovementId, String(first.id));
    const orders = await ordersOf(world);
    assert.deepEqual(
      orders.map((order) => [order.id, order.reason, order.amount]),
      [[`x_${second.id}`, "already_paid", 30_000]],
    );
    // Both polls saw both movements; each is one record.
    assert.equal((await world.db.collection("fioTransactions").get()).size, 2);
  });

  it("Fio down then back, and its 409: nothing lost, never two calls within 30 s even from overlapping runs", async () => {
    const { world, wishId } = await setUp();
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 30_000);
    world.fio.addIncoming({ amount: 30_000, variableSymbol });
    world.fio.setDown(true);
    const down = await world.poll();
    assert.deepEqual([down.result, down.recorded], ["unavailable", 0]);
    assert.equal((await world.doc("fioState/poller"))?.lastError, "fio_http_503");
    world.fio.setDown(false);

    // Another system using the same token called a moment ago: the bank answers 409; we try later.
    world.later();
    await world.bank.periodMovements("2000-01-01", "2000-01-02");
    const limited = await runFioPoll(world.fioDeps);
    assert.equal(limited.result, "rate_limited");
    // Two overlapping runs after the limit: one calls, the other only applies.
    world.later();
    const runs = await Promise.all([runFioPoll(world.fioDeps), runFioPoll(world.fioDeps)]);
    assert.deepEqual(runs.map((run) => run.result).sort(), ["ok", "too_soon"]);
    assert.equal(world.fio.calls.filter((call) => call.status === 409).length, 1);
    assert.equal((await donationOf(world, donationId)).status, "succeeded");
  });

  it("Fio down across a reference's expiry and a wish's deadline: transfers the bank booked in time are booked when it is back (the closed wish's refunded through the refund path), never returned unbooked", async () => {
    const { world, wishId } = await setUp({ deadline: new Date(Date.now() + 30 * 86_400_000) });
    const shortWish = `${wishId}-short`;
    await world.seedWish(shortWish, { amount: WISH, currency: "CZK", deadline: new Date(world.clock.now().getTime() + 3 * 86_400_000) });
    const a = await world.bankDonation(wishId, "dana", 30_000); // due in 7 days, expires 4 days later
    const b = await world.bankDonation(shortWish, "dave", 20_000); // due on the wish's deadline (3 days)
    const expiresA = referenceExpiresAt(new Date(world.clock.now().getTime() + 7 * 86_400_000));
    const deadlineB = new Date(world.clock.now().getTime() + 3 * 86_400_000);
    assert.equal((await world.poll()).result, "ok");

    world.fio.setDown(true); // e.g. the token was revoked
    // The bank books both in time: A on its reference's expiry day, B on its wish's deadline day.
    world.fio.addIncoming({ amount: 30_000, variableSymbol: a.variableSymbol, date: bankDay(expiresA) });
    world.fio.addIncoming({ amount: 20_000, variableSymbol: b.variableSymbol, counterAccount: "123456789", bankCode: "0100", date: bankDay(deadlineB) });
    world.later(12 * 86_400_000);
    const down = await world.poll();
    assert.deepEqual([down.result, down.expired], ["unavailable", 0], "nothing expires while the feed is not read");
    assert.ok(await expireWish(world.ledger, shortWish, "test"), "the short wish's deadline passed meanwhile");
    await world.quiesce(shortWish);
    world.later(40 * 60_000);
    assert.equal((await world.poll()).expired, 0);
    const state = await world.doc("fioState/poller");
    assert.ok(state?.failingSince, "how long Fio has been failing, for ops");
    assert.ok(FEED_STALE_MESSAGE.startsWith("Fio feed stale"));
    assert.equal((await donationOf(world, a.donationId)).status, "pending");

    world.fio.setDown(false);
    await world.poll();
    await world.poll();
    await world.quiesce(wishId);
    await world.quiesce(shortWish);
    assert.equal((await world.doc("fioState/poller"))?.failingSince, null);
    const donationA = await donationOf(world, a.donationId);
    assert.deepEqual([donationA.status, donationA.netAmount], ["succeeded", 30_000], "booked on the expiry day: in time");
    assert.deepEqual(await ledgerOf(world, a.donationId), [["charge", 30_000, "fio"]]);
    assert.deepEqual(await ledgerOf(world, b.donationId), [["charge", 20_000, "fio"]], "booked on the deadline day: booked, though the wish has expired since");
    assert.deepEqual((await ordersOf(world)).filter((order) => order.kind === "return"), [], "nothing returned unbooked");
    assert.ok(await world.doc(`refundRequests/${b.donationId}`), "the expired wish's donation goes back through the refund path");

    await world.poll(); // import the refund order
    assert.equal(world.fio.executeOrders(), 1);
    await world.poll(); // its outgoing movement confirms the refund
    await world.quiesce(shortWish);
    const donationB = await donationOf(world, b.donationId);
    assert.deepEqual([donationB.status, donationB.netAmount], ["refunded", 0], "never kept for the closed wish");
    assert.deepEqual(await ledgerOf(world, b.donationId), [["charge", 20_000, "fio"], ["refund", -20_000, "fio"]]);
  });

  it("a reference expires once the feed is known complete past its expiry day: not while Fio is down, at the first good read after", async () => {
    const { world, wishId } = await setUp({ deadline: new Date(Date.now() + 30 * 86_400_000) });
    const unpaid = await world.bankDonation(wishId, "dana", 10_000);
    await world.poll();
    world.fio.setDown(true);
    world.later(13 * 86_400_000);
    assert.equal((await world.poll()).expired, 0);
    assert.equal((await donationOf(world, unpaid.donationId)).status, "pending");
    world.fio.setDown(false);
    const back = await world.poll(); // a download: everything since the bank's cursor (a period read would not count)
    assert.deepEqual([back.call, back.result, back.expired], ["download", "ok", 1], "the feed is complete past the expiry day and nothing arrived");
    const donation = await donationOf(world, unpaid.donationId);
    assert.deepEqual([donation.status, donation.cancellationReason], ["canceled", "expired"]);

    // Read normally all along: it expires on the first run after its expiry day ends.
    const other = await world.bankDonation(wishId, "dave", 10_000);
    world.later(10 * 86_400_000);
    assert.equal((await world.poll()).expired, 0, "before its expiry");
    world.later(2 * 86_400_000);
    assert.equal((await world.poll()).expired + (await world.poll()).expired, 1, "after the day's period read, the next download");
    assert.equal((await donationOf(world, other.donationId)).status, "canceled");
  });

  it("an order ops re-queued that gets stuck again reopens the finding they had resolved", async () => {
    const { world, wishId } = await setUp();
    const { variableSymbol } = await world.bankDonation(wishId, "dana", 30_000);
    world.fio.addIncoming({ amount: 30_000, variableSymbol, counterAccount: "123456789", bankCode: "0100" });
    await world.poll();
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);
    world.fio.setDown(true); // the import gets no answer: the order is unknown
    await world.poll();
    const [order] = (await ordersOf(world)).filter((candidate) => candidate.kind === "refund");
    assert.equal(order?.status, "unknown");
    const id = `fio_order_unknown_${order?.id ?? ""}`;
    assert.equal((await finding(world, id))?.resolvedAt, null);
    // Ops looked in internet banking: not there. They re-queue it and resolve the finding (the runbook's steps).
    await world.db.doc(`ops/reconciliation/findings/${id}`).update({ resolvedAt: world.clock.now() });
    await bankRefs.order(world.db, order?.id ?? "").update({ status: "queued", queuedAt: world.clock.now() });
    for (let run = 0; run < 3 && (await bankRefs.order(world.db, order?.id ?? "").get()).get("status") === "queued"; run++) await world.poll(); // one call per run
    assert.equal((await bankRefs.order(world.db, order?.id ?? "").get()).get("status"), "unknown", "no answer again");
    const again = await finding(world, id);
    assert.equal(again?.resolvedAt, null, "reopened: it happened again after ops resolved it");
    world.fio.setDown(false);
  });

  it("stuck orders: handled ones leave the sweep, so more than a page of them never hides a crash-stuck `sending` order", async () => {
    const { world } = await setUp();
    const old = new Date(world.clock.now().getTime() - 4 * 86_400_000);
    const order = (id: string) =>
      createOrder(world.fioDeps, id, {
        kind: "return",
        donationId: null,
        wishId: null,
        paymentIntentId: null,
        sourceMovementId: null,
        reason: "wish_closed",
        amount: 100,
        accountTo: "123456789",
        bankCode: "0100",
        variableSymbol: null,
        message: "test",
      });
    // Three orders already unknown (from before unknown orders dropped awaitingSince), three sent and unconfirmed,
    // then one an instance crashed on while sending: a page of two.
    for (const [id, status] of [["u1", "unknown"], ["u2", "unknown"], ["u3", "unknown"], ["s1", "sent"], ["s2", "sent"], ["s3", "sent"], ["z_sending", "sending"]] as const) {
      await order(id);
      await bankRefs.order(world.db, id).update({ status, queuedAt: null, awaitingSince: id === "z_sending" ? new Date(old.getTime() + 60_000) : old });
    }
    world.later();
    await runFioPoll(world.fioDeps, { stuckBatch: 2 });
    const crashed = (await bankRefs.order(world.db, "z_sending").get()).data();
    assert.deepEqual([crashed?.status, crashed?.awaitingSince], ["unknown", null]);
    assert.ok(await finding(world, "fio_order_unknown_z_sending"));
    for (const id of ["s1", "s2", "s3"]) assert.ok(await finding(world, `fio_order_unconfirmed_${id}`), `${id} flagged`);
    for (const id of ["u1", "u2", "u3"]) assert.equal(await finding(world, `fio_order_unknown_${id}`), undefined, "already handled: not flagged again");
  });

  it("reconciliation: a download lost between the bank's answer and our record is repaired by the period download", async () => {
    const { world, wishId } = await setUp();
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 25_000);
    world.fio.addIncoming({ amount: 25_000, variableSymbol });
    // The bank answered (its cursor moved) and the instance died before recording.
    world.later();
    assert.equal((await world.bank.lastMovements()).movements.length, 1);
    const missed = await world.poll();
    assert.deepEqual([missed.call, missed.recorded], ["download", 0]);
    assert.equal((await donationOf(world, donationId)).status, "pending");
    const repaired = await world.poll("period");
    assert.deepEqual([repaired.call, repaired.recorded, repaired.applied], ["period", 1, 1]);
    assert.equal((await donationOf(world, donationId)).status, "succeeded");
  });

  it("refund on close: a payment order back to the payer, pending until its movement is in the feed, then refunded; the invariant holds with a card donation beside it", async () => {
    const { world, wishId } = await setUp();
    const card = await world.paidDonation(wishId, "dave", 20_000);
    const { donationId, variableSymbol } = await world.bankDonation(wishId, "dana", 30_000);
    world.fio.requireConfirmation(true);
    world.fio.addIncoming({ amount: 30_000, variableSymbol, counterAccount: "123456789", bankCode: "0100" });
    await world.poll();
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);

    const [order] = (await ordersOf(world)).filter((candidate) => candidate.kind === "refund");
    assert.deepEqual([order?.donationId, order?.amount, order?.accountTo, order?.bankCode, order?.status], [donationId, 30_000, "123456789", "0100", "queued"]);
    assert.equal((await donationOf(world, donationId)).status, "succeeded", "pending refund: the money has not left yet");
    await world.poll(); // import
    assert.equal(world.fio.executeOrders(), 0, "the bank waits for ops to confirm it in internet banking");
    world.fio.confirmOrders();
    world.fio.executeOrders();
    await world.poll(); // the outgoing movement confirms the refund
    await world.quiesce(wishId);
    const refunded = await donationOf(world, donationId);
    assert.deepEqual([refunded.status, refunded.netAmount], ["refunded", 0]);
    assert.deepEqual(await ledgerOf(world, donationId), [["charge", 30_000, "fio"], ["refund", -30_000, "fio"]]);
    assert.equal((await world.doc(`refundRequests/${donationId}`))?.status, "succeeded");
    assert.equal((await world.doc(`refundRequests/${card.donationId}`))?.status, "succeeded");
    // The money invariant, by the audit itself: the providers' figures (Stripe's and Fio's) and the ledger agree.
    world.clock.advance(AUDIT_GRACE_MS + 60_000);
    const audit = await auditWish({ ...world.refundDeps, payouts: world.payouts }, wishId, { repair: false });
    assert.ok(audit && !audit.inFlight);
    assert.deepEqual(audit.ours, audit.stripe);
    assert.deepEqual(audit.breaches, []);
    assert.equal(audit.held, 0);
  });

  it("the money invariant across all three rails on one wish: card, bitcoin (over-paid) and bank transfer, then closed and refunded by each provider", async () => {
    const { world, wishId } = await setUp();
    const card = await world.paidDonation(wishId, "dave", 20_000);
    const bitcoinDeps = { ...world.donateDeps(), rails: { bitcoin: bitcoinRail({ ...world.ledger, invoices: world.btcpayClient, redirectUrl: null }) } };
    await world.db.collection("users").doc("dora").set({ displayName: "dora", photoUrl: null, facebookLinked: false, createdAt: world.clock.now(), updatedAt: world.clock.now() }, { merge: true });
    const bitcoin = (await donate(bitcoinDeps, "dora", { wishId, amount: 30_000, currency: "CZK", method: "bitcoin" })) as BitcoinDonateResult;
    world.btcpay.pay(bitcoin.invoiceId, 1.5);
    world.btcpay.confirm(bitcoin.invoiceId);
    const bank = await world.bankDonation(wishId, "dana", 30_000);
    world.fio.addIncoming({ amount: 30_000, variableSymbol: bank.variableSymbol, counterAccount: "123456789", bankCode: "0100" });
    await world.poll();
    await world.quiesce(wishId);
    const raised = (await world.doc(`wishes/${wishId}`))?.raised;
    assert.equal(raised, 20_000 + 45_000 + 30_000, "each rail booked what arrived");

    // Closed: every donor refunded by their own provider (the bitcoin donor claims both pull payments).
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);
    await world.poll(); // Fio: import the refund order
    world.fio.executeOrders();
    await world.poll(); // Fio: its outgoing movement confirms the refund
    for (const id of Object.keys((await donationOf(world, bitcoin.donationId)).refunds as Record<string, unknown>)) world.btcpay.claim(id);
    await world.quiesce(wishId);
    for (const id of Object.keys((await donationOf(world, bitcoin.donationId)).refunds as Record<string, unknown>)) world.btcpay.claim(id);
    await world.quiesce(wishId);

    for (const donationId of [card.donationId, bitcoin.donationId, bank.donationId]) {
      const donation = await donationOf(world, donationId);
      assert.deepEqual([donation.status, donation.netAmount], ["refunded", 0], `${String(donation.method)} donation refunded in full`);
    }
    const report = await reconcileWish(world.ledger, wishId, { repair: false });
    assert.equal(report.drift, false, JSON.stringify(report));
    assert.deepEqual([report.expected.raised, report.actual.raised], [0, 0], "ledger totals = raised");
    world.clock.advance(AUDIT_GRACE_MS + 60_000);
    const audit = await auditWish({ ...world.refundDeps, payouts: world.payouts }, wishId, { repair: false });
    assert.ok(audit && !audit.inFlight);
    assert.deepEqual(audit.ours, audit.stripe, "our ledger and the three providers' own figures agree");
    assert.deepEqual(audit.breaches, []);
    assert.equal(audit.held, 0);
  });

  it("expiry: a paid donation is refunded through the feed; an unpaid reference expires and later money goes back", async () => {
    const { world, wishId } = await setUp();
    const paid = await world.bankDonation(wishId, "dana", 30_000);
    const unpaid = await world.bankDonation(wishId, "dave", 10_000);
    world.fio.addIncoming({ amount: 30_000, variableSymbol: paid.variableSymbol });
    await world.poll();
    world.later(8 * 86_400_000);
    assert.ok(await expireWish(world.ledger, wishId, "test"));
    await world.quiesce(wishId);
    await world.poll(); // import the refund
    assert.equal((await donationOf(world, unpaid.donationId)).status, "pending", "a transfer sent on the due day may still land");
    world.later(4 * 86_400_000);
    await world.poll(); // the daily period read (it does not tell that the feed is complete)
    await world.poll(); // a download: the feed is complete past the expiry day, so the unpaid reference expires
    assert.deepEqual([(await donationOf(world, unpaid.donationId)).status, (await donationOf(world, unpaid.donationId)).cancellationReason], ["canceled", "expired"]);
    world.fio.executeOrders();
    const late = world.fio.addIncoming({ amount: 10_000, variableSymbol: unpaid.variableSymbol });
    await world.poll();
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, paid.donationId)).status, "refunded");
    const back = (await ordersOf(world)).find((order) => order.id === `x_${late.id}`);
    assert.deepEqual([back?.reason, back?.amount], ["reference_closed", 10_000]);
    assert.equal((await donationOf(world, unpaid.donationId)).status, "canceled");
  });
});
