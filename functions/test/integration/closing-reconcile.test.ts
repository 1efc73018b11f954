import assert from "node:assert/strict";
import { StripeClosingProvider } from "../../src/closing/provider";
import { FINDINGS, RECONCILIATION_DOC, reconcileRefunds } from "../../src/closing/reconcile";
import { refundIdempotencyKey, requestRefund, runRefundTask } from "../../src/closing/refunds";
import { processPaymentEvent } from "../../src/donations/ledger";
import { fixedClock } from "../../src/lib/clock";
import type { TaskEnqueuer } from "../../src/lib/tasks";
import { stripeClient } from "../../src/payments/stripe";
import { adminDb } from "../helpers/admin";
import { donationData, outboxEvent, seedWish } from "../helpers/closing";
import { functionUrl } from "../helpers/emulators";
import { fakeStripe } from "../helpers/fakes";
import { waitFor } from "../helpers/wait";

const LONG = { timeoutMs: 150_000 };
const testStripe = () => stripeClient("sk_test_closing_tests");
const noTasks: TaskEnqueuer = { enqueue: () => Promise.resolve("enqueued") };

async function paidDonation(wishId: string, donorId: string, amount: number) {
  const donationId = `don-${donorId}-${Math.random().toString(36).slice(2, 10)}`;
  const intent = await testStripe().paymentIntents.create({ amount, currency: "czk", metadata: { donationId, wishId, donorId } });
  await adminDb()
    .collection("donations")
    .doc(donationId)
    .set(donationData(wishId, { donorId, amount, status: "pending", paymentStatus: "pending", paymentStatusAt: null, paymentIntentId: intent.id, chargeId: null, netAmount: 0, succeededAt: null }));
  const response = await fakeStripe().deliver(await functionUrl("stripeWebhook"), fakeStripe().succeed(intent.id));
  assert.equal(response.status, 200);
  await waitFor("the donation to succeed", async () => ((await adminDb().collection("donations").doc(donationId).get()).get("paymentStatus") === "succeeded" ? true : undefined), LONG);
  return { donationId, paymentIntentId: intent.id };
}

describe("closing: reconciliation with Stripe", function () {
  this.timeout(300_000);
  beforeEach(() => fakeStripe().reset());

  it("repairs a dropped charge.refunded webhook through the webhook's own handler, once; records what it cannot explain", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const paid = await paidDonation(wishId, "dana", 20_000);
    const clock = fixedClock(new Date());
    const provider = new StripeClosingProvider(testStripe());
    const deps = { db: adminDb(), clock, tasks: noTasks, provider };
    await requestRefund(deps, paid.donationId, "closed");
    assert.equal(await runRefundTask(deps, { donationId: paid.donationId, generation: 0 }, 0), "requested");
    // Stripe refunded and sent charge.refunded, which we never received. Plus a refund of a payment that is not ours.
    assert.equal(fakeStripe().events.filter((event) => event.type === "charge.refunded").length, 1);
    const stranger = await testStripe().paymentIntents.create({ amount: 5_000, currency: "czk" });
    fakeStripe().succeed(stranger.id);
    await provider.refund({ paymentIntentId: stranger.id, amount: 5_000, metadata: { donationId: "", wishId: "", donorId: "" }, idempotencyKey: "dashboard-refund" });
    assert.equal((await adminDb().collection("donations").doc(paid.donationId).get()).get("status"), "succeeded");

    clock.advance(10 * 60 * 1000); // past the grace period for in-flight webhooks
    const recon = { db: adminDb(), clock, provider, applyRefundEvent: (event: Parameters<typeof processPaymentEvent>[1]) => processPaymentEvent({ db: adminDb(), clock }, event) };
    assert.deepEqual(await reconcileRefunds(recon), { refundsChecked: 2, repaired: 1, findings: 2 });

    const donation = (await adminDb().collection("donations").doc(paid.donationId).get()).data();
    assert.equal(donation?.status, "refunded");
    assert.equal(donation?.refundedAmount, 20_000);
    // The refund request completes from the donation's change, as after a webhook.
    await waitFor("the refund request to complete", async () => ((await adminDb().collection("refundRequests").doc(paid.donationId).get()).get("status") === "succeeded" ? true : undefined), LONG);
    assert.ok(await outboxEvent(`refund.processed:${paid.donationId}`));
    const refundId = fakeStripe().refundsApi.refundsOf(paid.paymentIntentId)[0]?.id as string;
    const repaired = (await adminDb().collection(FINDINGS).doc(`missed_refund_webhook_${refundId}`).get()).data();
    assert.equal(repaired?.repaired, true);
    assert.equal(repaired?.donationId, paid.donationId);
    const unknown = await adminDb().collection(FINDINGS).where("kind", "==", "refund_unknown_payment").get();
    assert.equal(unknown.size, 1);
    assert.equal(unknown.docs[0]?.get("paymentIntentId"), stranger.id);

    // A second run finds the ledger in order: nothing repaired again, the unexplained refund stays one finding.
    assert.deepEqual(await reconcileRefunds(recon), { refundsChecked: 2, repaired: 0, findings: 1 });
    assert.equal((await adminDb().collection("ledger").where("kind", "==", "refund").get()).size, 1);
    assert.equal((await adminDb().collection(FINDINGS).get()).size, 2);
    assert.equal((await adminDb().doc(RECONCILIATION_DOC).get()).get("repaired"), 0);
    assert.deepEqual(
      fakeStripe().callsTo("POST", "/v1/refunds").filter((call) => call.params.payment_intent === paid.paymentIntentId).map((call) => call.idempotencyKey),
      [refundIdempotencyKey(paid.donationId, 0)],
    );
  });

  it("a refund Stripe failed after accepting it goes to the ops queue", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const paid = await paidDonation(wishId, "dana", 20_000);
    const clock = fixedClock(new Date());
    const provider = new StripeClosingProvider(testStripe());
    const deps = { db: adminDb(), clock, tasks: noTasks, provider };
    await requestRefund(deps, paid.donationId, "closed");
    await runRefundTask(deps, { donationId: paid.donationId, generation: 0 }, 0);
    const refund = fakeStripe().refundsApi.refundsOf(paid.paymentIntentId)[0];
    assert.ok(refund);
    Object.assign(refund, { status: "failed", failure_reason: "expired_or_canceled_card" });
    clock.advance(10 * 60 * 1000);
    const summary = await reconcileRefunds({ db: adminDb(), clock, provider, applyRefundEvent: () => Promise.resolve() });
    assert.deepEqual(summary, { refundsChecked: 1, repaired: 0, findings: 1 });
    assert.equal((await adminDb().collection("refundRequests").doc(paid.donationId).get()).get("status"), "failed");
    assert.equal((await adminDb().doc(`ops/refundFailures/items/${paid.donationId}`).get()).get("code"), "refund_failed");
  });
});
