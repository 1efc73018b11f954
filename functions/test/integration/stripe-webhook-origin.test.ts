// The Stripe webhooks book only the platform's own payment of a donation (docs/donations.md "Webhooks"), through the
// deployed endpoints on the emulators: a connected account's event on the Connect endpoint, or another PaymentIntent
// whose metadata names a donation that has its own, books nothing. Both were booked before.
import assert from "node:assert/strict";
import type { CardDonateResult } from "../../src/donations/donate";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import { functionUrl } from "../../devtools/support/emulators";
import { fakeStripe } from "../../devtools/support/fakes";
import { seedWish } from "../helpers/donation-fixtures";
import { testStripe } from "../helpers/payments";

const WISH = "wish-review";

async function donationOf(id: string) {
  return (await adminDb().doc(`donations/${id}`).get()).data() ?? {};
}

async function ledgerEntriesOf(donationId: string): Promise<number> {
  return (await adminDb().collection("ledger").where("donationId", "==", donationId).count().get()).data().count;
}

describe("Stripe webhooks: only the donation's own payment is booked", function () {
  this.timeout(90_000);

  beforeEach(async () => {
    fakeStripe().reset();
    await seedWish(adminDb(), WISH);
  });

  // The Connect endpoint takes account.updated only; a payment that happened on a connected account (carrying a copy
  // of our metadata) would otherwise succeed the donation with no money on the platform account.
  it("stripeConnectWebhook does not book a connected account's payment as a donation", async () => {
    const dana = await signedInClient("dana");
    const donated = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 50_000, currency: "CZK" });
    const ours = (await donationOf(donated.donationId)).paymentIntentId as string;
    // A PaymentIntent that is not the donation's, with our metadata: here made on the fake, played as a connected
    // account's (the event carries `account`, and the fake signs it with the Connect endpoint's secret).
    const foreign = await testStripe().paymentIntents.create({
      amount: 50_000,
      currency: "czk",
      metadata: { donationId: donated.donationId, wishId: WISH, donorId: "dana" },
    });
    const event = { ...fakeStripe().succeed(foreign.id), account: "acct_someone_elses" };
    const response = await fakeStripe().deliver(await functionUrl("stripeConnectWebhook"), event);
    const body = (await response.json()) as Record<string, unknown>;

    const after = await donationOf(donated.donationId);
    assert.equal(after.paymentStatus, "pending", `the Connect endpoint answered ${response.status} ${JSON.stringify(body)}; the donation (PI ${ours}) is now ${String(after.paymentStatus)}`);
    assert.equal(await ledgerEntriesOf(donated.donationId), 0, "no ledger entry for money that never reached the platform");
    assert.deepEqual([response.status, body.outcome], [200, "ignored"], "acknowledged, so Stripe stops sending it");
  });

  // Another PaymentIntent of the platform whose metadata names a donation that holds its own: booked, it would take
  // the donation's place, and the real payment could never be booked. As the bitcoin rail does (btcpay_stray_invoice),
  // it is recorded and ignored; reconciliation reports the money it took (payment_unknown_donation).
  it("stripeWebhook does not book a payment of another PaymentIntent against a donation that has its own", async () => {
    const dana = await signedInClient("dana");
    const donated = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 50_000, currency: "CZK" });
    const foreign = await testStripe().paymentIntents.create({
      amount: 1_500,
      currency: "czk",
      metadata: { donationId: donated.donationId, wishId: WISH, donorId: "dana" },
    });
    const response = await fakeStripe().deliver(await functionUrl("stripeWebhook"), fakeStripe().succeed(foreign.id));
    const body = (await response.json()) as Record<string, unknown>;

    const after = await donationOf(donated.donationId);
    assert.equal(after.paymentStatus, "pending", `stripeWebhook answered ${response.status} ${JSON.stringify(body)}; the donation is now ${String(after.paymentStatus)}`);
    assert.equal(await ledgerEntriesOf(donated.donationId), 0, "a stray PaymentIntent books nothing (an ops finding instead)");
    const stray = body.received === true ? (await adminDb().collection("providerEvents").where("donationId", "==", donated.donationId).get()).docs : [];
    assert.deepEqual(stray.map((record) => String(record.get("outcome"))), ["unknown_object"], "recorded, so a redelivery is a duplicate");

    // The donation's own payment is still booked.
    const ownPaymentIntent = String((await donationOf(donated.donationId)).paymentIntentId);
    const own = await fakeStripe().deliver(await functionUrl("stripeWebhook"), fakeStripe().succeed(ownPaymentIntent));
    assert.equal(((await own.json()) as Record<string, unknown>).outcome, "applied");
    assert.equal((await donationOf(donated.donationId)).paymentStatus, "succeeded");
    assert.equal(await ledgerEntriesOf(donated.donationId), 1);
  });

  // A transfer that is not one of ours (another product on the same platform account) with metadata we never write:
  // recorded as unknown and answered 200, not a 500 that Stripe retries for days.
  it("a transfer event naming an impossible wish id or an unsupported currency is recorded as unknown (200), not retried for days", async () => {
    for (const [id, wishId, currency] of [
      ["tr_review_slash", "a/b", "czk"],
      ["tr_review_currency", WISH, "xyz"],
    ] as const) {
      const transfer = { id, object: "transfer", amount: 1_000, amount_reversed: 0, currency, created: Math.floor(Date.now() / 1000), destination: "acct_someone", metadata: { wishId, seq: "0" }, reversals: { object: "list", data: [] }, transfer_group: `wish_${wishId}` };
      const event = { id: `evt_${id}`, object: "event", type: "transfer.created", created: Math.floor(Date.now() / 1000), livemode: false, api_version: "2025-01-27.acacia", data: { object: transfer } };
      const response = await fakeStripe().deliver(await functionUrl("stripeWebhook"), event as unknown as Parameters<ReturnType<typeof fakeStripe>["deliver"]>[1]);
      assert.deepEqual([response.status, ((await response.json()) as Record<string, unknown>).outcome], [200, "unknown_object"], id);
      assert.equal((await adminDb().doc(`providerEvents/evt_${id}`).get()).get("outcome"), "unknown_object");
    }
  });
});
