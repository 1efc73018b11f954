import { foldWishCounters } from "../../src/donations/counters";
import { systemClock } from "../../src/lib/clock";
import assert from "node:assert/strict";
import type { Timestamp } from "firebase-admin/firestore";
import { StripeClosingProvider } from "../../src/payments/refunds";
import { FINDINGS, RECONCILE_LOOKBACK_MS, RECONCILIATION_DOC, reconcileRefunds, reconcileWithStripe } from "../../src/settlement/reconcile";
import type { ReconcileDeps } from "../../src/settlement/reconcile";
import { reconcileDeps } from "../../src/settlement/settle";
import { closeWish } from "../../src/closing/close";
import { fixedClock } from "../helpers/clock";
import type { Clock } from "../../src/lib/clock";
import type { TaskEnqueuer } from "../../src/lib/tasks";
import { StripePayoutProvider } from "../../src/payments/transfers";
import { adminDb } from "../../devtools/support/admin";
import { seedWish } from "../helpers/closing";
import { donationOf, donationReceivedEvent } from "../../src/donations/received";
import { functionUrl } from "../../devtools/support/emulators";
import { fakeStripe } from "../../devtools/support/fakes";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";
import { paidDonation, pendingDonation, testStripe } from "../helpers/payments";
const noTasks: TaskEnqueuer = { enqueue: () => Promise.resolve("enqueued") };

/** Reconciliation as the deployed reconcileStripe runs it (src/settlement/settle.ts), with the test's clock. */
function reconDeps(clock: Clock): ReconcileDeps {
  return reconcileDeps({ db: adminDb(), clock, tasks: noTasks, provider: new StripeClosingProvider(testStripe()), payouts: new StripePayoutProvider(testStripe()) });
}

async function countDocs(path: string): Promise<number> {
  return (await adminDb().collection(path).count().get()).data().count;
}

/** Everything a payment moves, to show that a rerun or a late webhook moves nothing more. */
/** The wish after its counters' fold (the task the ledger queued; these tests queue nothing). */
async function foldedWish(wishId: string) {
  await foldWishCounters({ db: adminDb(), clock: systemClock }, wishId);
  return adminDb().collection("wishes").doc(wishId).get();
}

async function moneyOf(wishId: string, donationId: string, donorId: string) {
  const wish = (await foldedWish(wishId)).data();
  const donation = (await adminDb().collection("donations").doc(donationId).get()).data();
  const contribution = (await adminDb().doc(`users/${donorId}/contributions/${wishId}`).get()).data();
  const ledger = await adminDb().collection("ledger").where("donationId", "==", donationId).get();
  return {
    raised: wish?.raised as unknown,
    donorCount: wish?.donorCount as unknown,
    paymentStatus: donation?.paymentStatus as unknown,
    netAmount: donation?.netAmount as unknown,
    contribution: contribution ? { amount: contribution.amount as unknown, donationCount: contribution.donationCount as unknown } : null,
    ledger: ledger.docs.map((entry) => `${entry.id}:${String(entry.get("amount"))}`).sort(),
    supporters: await countDocs(`wishes/${wishId}/supporters`),
    findings: await countDocs(FINDINGS),
  };
}

describe("closing: reconciliation with Stripe", function () {
  this.timeout(300_000);
  before(() => clearMoneyDb());
  beforeEach(() => fakeStripe().reset());

  it("repairs a dropped refund webhook through the webhook's own handler, once; records what it cannot explain", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const paid = await paidDonation(wishId, "dana", 20_000);
    // Someone refunds the donation in the Stripe dashboard; Stripe's refund events never reach us. Plus a refund of a
    // payment that is not ours.
    fakeStripe().refund(paid.paymentIntentId);
    const stranger = await testStripe().paymentIntents.create({ amount: 5_000, currency: "czk" });
    fakeStripe().succeed(stranger.id);
    fakeStripe().refund(stranger.id);
    assert.equal((await adminDb().collection("donations").doc(paid.donationId).get()).get("status"), "succeeded");

    const clock = fixedClock(new Date(Date.now() + 10 * 60 * 1000)); // past the grace period for in-flight webhooks
    const deps = reconDeps(clock);
    assert.deepEqual(await reconcileRefunds(deps), { refundsChecked: 2, repaired: 1, findings: 2 });

    const donation = (await adminDb().collection("donations").doc(paid.donationId).get()).data();
    assert.equal(donation?.status, "refunded");
    assert.equal(donation?.refundedAmount, 20_000);
    assert.equal(donation?.netAmount, 0);
    const refundId = fakeStripe().refundsApi.refundsOf(paid.paymentIntentId)[0]?.id as string;
    const repaired = (await adminDb().collection(FINDINGS).doc(`missed_refund_webhook_${refundId}`).get()).data();
    assert.equal(repaired?.repaired, true);
    assert.equal(repaired?.donationId, paid.donationId);
    const unknown = await adminDb().collection(FINDINGS).where("kind", "==", "refund_unknown_payment").get();
    assert.equal(unknown.size, 1);
    assert.equal(unknown.docs[0]?.get("paymentIntentId"), stranger.id);

    // A second run finds the ledger in order: nothing repaired again, the unexplained refund stays one finding.
    assert.deepEqual(await reconcileRefunds(deps), { refundsChecked: 2, repaired: 0, findings: 1 });
    assert.equal((await adminDb().collection("ledger").where("kind", "==", "refund").get()).size, 1);
    assert.equal((await adminDb().collection(FINDINGS).get()).size, 2);
    // The hourly entry point also checks payments: the refunded donation's PaymentIntent is in order (nothing to do).
    assert.deepEqual(await reconcileWithStripe(deps), { paymentsChecked: 1, refundsChecked: 2, transfersChecked: 0, repaired: 0, findings: 1 });
    assert.equal((await adminDb().collection(FINDINGS).get()).size, 2);
    assert.equal((await adminDb().doc(RECONCILIATION_DOC).get()).get("repaired"), 0);
    // The late webhooks change nothing.
    for (const event of fakeStripe().events.filter((candidate) => candidate.type.startsWith("refund.") || candidate.type === "charge.refunded")) {
      assert.equal((await fakeStripe().deliver(await functionUrl("stripeWebhook"), event)).status, 200);
    }
    assert.equal((await adminDb().collection("donations").doc(paid.donationId).get()).get("netAmount"), 0);
    assert.equal((await adminDb().collection("ledger").where("kind", "==", "refund").get()).size, 1);
  });

  it("a refund Stripe failed after it succeeded (webhook dropped): booked back, and the refund request goes to the ops queue", async () => {
    // In the money database (test/helpers/money.ts): only this test acts on the closed wish's refund.
    const world = new MoneyWorld();
    const wishId = `recon-${Date.now()}`;
    await world.seedWish(wishId);
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await world.fireTriggers(wishId);
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded");
    const refund = world.stripe.refundsApi.refundsOf(paid.paymentIntentId)[0];
    assert.ok(refund);
    world.stripe.refundsApi.settle(String(refund.id), "failed", "expired_or_canceled_card");
    for (const event of world.undelivered()) world.delivered.add(event.id); // its webhooks never arrive

    world.clock.advance(10 * 60 * 1000);
    const deps = reconcileDeps({ ...world.ledger, tasks: world.tasks, provider: world.closing, payouts: world.payouts });
    const summary = await reconcileRefunds(deps, { now: world.clock.now(), since: new Date(world.clock.now().getTime() - RECONCILE_LOOKBACK_MS) });
    assert.equal(summary.repaired, 1, "the refund's failure is booked");
    const donation = await world.doc(`donations/${paid.donationId}`);
    assert.equal(donation?.netAmount, 20_000, "the money is back with us");
    assert.equal(donation?.status, "succeeded");
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "failed");
    assert.equal((await world.doc(`ops/refundFailures/items/${paid.donationId}`))?.code, "refund_failed");
    assert.match(String((await world.doc(`${FINDINGS}/refund_failed_at_provider_${String(refund.id)}`))?.detail), /expired_or_canceled_card/);
  });

  it("repairs a dropped payment_intent.succeeded through the webhook's own handler, once; a rerun and the late webhook change nothing", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const pending = await pendingDonation(wishId, "dana", 20_000);
    const late = fakeStripe().succeed(pending.paymentIntentId); // Stripe sent it; it never reached us
    const clock = fixedClock(new Date());
    const deps = reconDeps(clock);
    // Inside the grace period the webhook may still be in flight: not judged.
    assert.deepEqual(await reconcileWithStripe(deps), { paymentsChecked: 0, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 0 });
    assert.equal((await adminDb().collection("donations").doc(pending.donationId).get()).get("paymentStatus"), "pending");

    clock.advance(10 * 60 * 1000);
    const beforeRepair = donationOf(await adminDb().collection("donations").doc(pending.donationId).get());
    assert.deepEqual(await reconcileWithStripe(deps), { paymentsChecked: 1, refundsChecked: 0, transfersChecked: 0, repaired: 1, findings: 1 });
    const repaired = await moneyOf(wishId, pending.donationId, "dana");
    assert.deepEqual(repaired, {
      raised: 20_000,
      donorCount: 1,
      paymentStatus: "succeeded",
      netAmount: 20_000,
      contribution: { amount: 20_000, donationCount: 1 },
      ledger: [`charge_${pending.paymentIntentId}:20000`],
      supporters: 1,
      findings: 1,
    });
    const donation = (await adminDb().collection("donations").doc(pending.donationId).get()).data();
    assert.equal(donation?.status, "succeeded");
    assert.equal(donation?.chargeId, fakeStripe().paymentIntents.get(pending.paymentIntentId)?.latest_charge);
    const entry = (await adminDb().collection("ledger").doc(`charge_${pending.paymentIntentId}`).get()).data();
    assert.equal(entry?.eventId, `reconcile_${pending.paymentIntentId}_succeeded`);
    const afterRepair = donationOf(await adminDb().collection("donations").doc(pending.donationId).get());
    // The donation trigger announces the repair's booking of the charge exactly as a webhook's (received.ts).
    assert.equal(donationReceivedEvent(pending.donationId, beforeRepair, afterRepair)?.id, `donation.received:${pending.donationId}`, "the donor's friends hear of it as after a webhook");
    const finding = (await adminDb().collection(FINDINGS).doc(`missed_payment_webhook_${pending.paymentIntentId}`).get()).data();
    assert.equal(finding?.repaired, true);
    assert.equal(finding?.donationId, pending.donationId);
    assert.equal(finding?.paymentIntentId, pending.paymentIntentId);
    assert.equal(finding?.amount, 20_000);
    assert.ok(finding?.resolvedAt);
    const { lastRunAt, windowStart, ...summary } = (await adminDb().doc(RECONCILIATION_DOC).get()).data() ?? {};
    assert.deepEqual(summary, { paymentsChecked: 1, refundsChecked: 0, transfersChecked: 0, repaired: 1, findings: 1 });
    assert.equal((lastRunAt as Timestamp).toMillis(), clock.now().getTime());
    assert.equal((windowStart as Timestamp).toMillis(), clock.now().getTime() - RECONCILE_LOOKBACK_MS);

    // Again: the ledger is in order now.
    assert.deepEqual(await reconcileWithStripe(deps), { paymentsChecked: 1, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 0 });
    assert.deepEqual(await moneyOf(wishId, pending.donationId, "dana"), repaired);

    // Stripe's retry of the original event finally arrives.
    const response = await fakeStripe().deliver(await functionUrl("stripeWebhook"), late);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { received: true, outcome: "no_change" });
    assert.deepEqual(await moneyOf(wishId, pending.donationId, "dana"), repaired);
  });

  it("a succeeded payment for a donation we do not have goes to ops unapplied; payments of other products are ignored", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const ghost = await testStripe().paymentIntents.create({ amount: 15_000, currency: "czk", metadata: { donationId: "don-ghost", wishId, donorId: "dana" } });
    fakeStripe().succeed(ghost.id);
    // Ours but never paid (the donor closed the payment sheet): nothing moved, nothing to say.
    await testStripe().paymentIntents.create({ amount: 15_000, currency: "czk", metadata: { donationId: "don-abandoned", wishId, donorId: "dana" } });
    const foreign = await testStripe().paymentIntents.create({ amount: 9_900, currency: "czk", metadata: { orderId: "shop-42" } });
    fakeStripe().succeed(foreign.id);
    const clock = fixedClock(new Date(Date.now() + 10 * 60 * 1000));

    assert.deepEqual(await reconcileWithStripe(reconDeps(clock)), { paymentsChecked: 2, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 1 });
    const finding = (await adminDb().collection(FINDINGS).doc(`payment_unknown_donation_${ghost.id}`).get()).data();
    assert.equal(finding?.repaired, false);
    assert.equal(finding?.donationId, "don-ghost");
    assert.equal(finding?.amount, 15_000);
    assert.equal(finding?.currency, "CZK");
    assert.equal(finding?.resolvedAt, null);
    for (const path of ["donations", "ledger", "providerEvents"]) assert.equal(await countDocs(path), 0, path);
    assert.equal((await foldedWish(wishId)).get("raised"), 0);

    // Still unexplained on the next run: the same finding, not a second one, counted again while unresolved.
    assert.deepEqual(await reconcileWithStripe(reconDeps(clock)), { paymentsChecked: 2, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 1 });
    assert.equal(await countDocs(FINDINGS), 1);

    // Ops handled it and set resolvedAt: the PaymentIntent stays in the window, but the runs count it no more (the
    // reconciliation-findings alert, on findings > 0, stops) and it stays resolved.
    const resolvedAt = new Date();
    await adminDb().collection(FINDINGS).doc(`payment_unknown_donation_${ghost.id}`).update({ resolvedAt });
    clock.advance(60 * 60 * 1000);
    assert.deepEqual(await reconcileWithStripe(reconDeps(clock)), { paymentsChecked: 2, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 0 });
    assert.equal((await adminDb().doc(RECONCILIATION_DOC).get()).get("findings"), 0);
    const seenAgain = (await adminDb().collection(FINDINGS).doc(`payment_unknown_donation_${ghost.id}`).get()).data();
    assert.equal((seenAgain?.resolvedAt as Timestamp).toMillis(), resolvedAt.getTime());
    assert.equal((seenAgain?.lastSeenAt as Timestamp).toMillis(), clock.now().getTime());
  });

  it("a dropped payment_intent.canceled cancels the donation; an amount other than the donation's is booked as received and goes to ops", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const canceled = await pendingDonation(wishId, "dana", 20_000);
    fakeStripe().cancel(canceled.paymentIntentId);
    const odd = await pendingDonation(wishId, "dave", 20_000, 25_000);
    fakeStripe().succeed(odd.paymentIntentId);
    const clock = fixedClock(new Date(Date.now() + 10 * 60 * 1000));

    assert.deepEqual(await reconcileWithStripe(reconDeps(clock)), { paymentsChecked: 2, refundsChecked: 0, transfersChecked: 0, repaired: 2, findings: 3 });
    const cancelledDonation = (await adminDb().collection("donations").doc(canceled.donationId).get()).data();
    assert.equal(cancelledDonation?.paymentStatus, "canceled");
    assert.equal(cancelledDonation?.status, "canceled");
    assert.equal(cancelledDonation?.netAmount, 0);
    const missed = (await adminDb().collection(FINDINGS).doc(`missed_payment_webhook_${canceled.paymentIntentId}`).get()).data();
    assert.equal(missed?.repaired, true);

    const oddDonation = (await adminDb().collection("donations").doc(odd.donationId).get()).data();
    assert.equal(oddDonation?.paymentStatus, "succeeded");
    assert.equal(oddDonation?.amountReceived, 25_000);
    assert.equal(oddDonation?.netAmount, 25_000, "the ledger books what Stripe received");
    const mismatch = (await adminDb().collection(FINDINGS).doc(`payment_amount_mismatch_${odd.paymentIntentId}`).get()).data();
    assert.equal(mismatch?.repaired, false);
    assert.equal(mismatch?.donationId, odd.donationId);
    assert.equal(mismatch?.resolvedAt, null);
    assert.match(String(mismatch?.detail), /received 25000 CZK.*20000/);
    const ledger = (await adminDb().collection("ledger").get()).docs.map((entry) => `${String(entry.get("kind"))}:${String(entry.get("amount"))}`).sort();
    assert.deepEqual(ledger, ["charge:20000", "charge_adjustment:5000"]);
    assert.equal((await foldedWish(wishId)).get("raised"), 25_000);

    // Both are settled; the mismatch stays one finding, counted in each run, until ops resolve it.
    assert.deepEqual(await reconcileWithStripe(reconDeps(clock)), { paymentsChecked: 2, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 1 });
    assert.equal(await countDocs(FINDINGS), 3);
    await adminDb().collection(FINDINGS).doc(`payment_amount_mismatch_${odd.paymentIntentId}`).update({ resolvedAt: new Date() });
    assert.deepEqual(await reconcileWithStripe(reconDeps(clock)), { paymentsChecked: 2, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 0 });
    assert.equal(await countDocs(FINDINGS), 3);
  });
  it("the PaymentIntent list pages through Stripe newest first and stops at the window's start", async () => {
    const created = await Promise.all(Array.from({ length: 102 }, (_, index) => testStripe().paymentIntents.create({ amount: 1_500 + index, currency: "czk" })));
    const old = fakeStripe().paymentIntents.get(created[0]?.id ?? "");
    assert.ok(old);
    old.created = Math.floor(Date.now() / 1000) - 5 * 86_400; // before the window
    const listed: { id: string; createdMs: number }[] = [];
    for await (const payment of new StripeClosingProvider(testStripe()).paymentsSince(new Date(Date.now() - 86_400_000))) {
      listed.push({ id: payment.paymentIntentId, createdMs: payment.createdMs });
    }
    assert.equal(listed.length, 101);
    assert.equal(new Set(listed.map((payment) => payment.id)).size, 101);
    assert.ok(!listed.some((payment) => payment.id === old.id));
    assert.ok(listed.every((payment, index) => index === 0 || (listed[index - 1]?.createdMs ?? 0) >= payment.createdMs), "newest first");
    const pages = fakeStripe().callsTo("GET", "/v1/payment_intents");
    assert.equal(pages.length, 2);
    assert.equal(pages[0]?.params.starting_after, undefined);
    assert.equal(pages[1]?.params.starting_after, listed[99]?.id);
  });
});
