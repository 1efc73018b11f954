import assert from "node:assert/strict";
import { doc, getDoc } from "firebase/firestore";
import { closeWish } from "../../src/closing/close";
import { MAX_REFUND_GENERATIONS, refundIdempotencyKey, runRefundTask, settleDonation } from "../../src/closing/refunds";
import { retryRefund } from "../../src/ops/refunds";
import { deleteAccount } from "../../src/social/account";
import { foldWishCounters } from "../../src/donations/counters";
import { systemClock } from "../../src/lib/clock";
import { recordingTasks } from "../helpers/tasks";
import { adminAuth, adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import { outboxEvent, seedWish } from "../helpers/closing";
import { fakeStripe } from "../../devtools/support/fakes";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";
import { LONG_WAIT, deliverNewEvents, paidDonation, resetDeliveries } from "../helpers/payments";
import { waitFor } from "../helpers/wait";

const LONG = LONG_WAIT;

async function donation(donationId: string) {
  return (await adminDb().collection("donations").doc(donationId).get()).data();
}
async function refundRequest(donationId: string) {
  return (await adminDb().collection("refundRequests").doc(donationId).get()).data();
}

/** Plays Stripe's webhook delivery of every refund event the fake has produced so far. */
const deliverRefundEvents = () => deliverNewEvents(["refund.created", "refund.updated", "refund.failed", "charge.refund.updated", "charge.refunded"]);

async function refundCompleted(donationId: string): Promise<void> {
  await waitFor(
    `the refund of ${donationId} to complete`,
    async () => {
      await deliverRefundEvents();
      return (await refundRequest(donationId))?.status === "succeeded" ? true : undefined;
    },
    LONG,
  );
}

describe("closing: refunds (fan-out, idempotency, failures, ops)", function () {
  this.timeout(300_000);

  before(() => clearMoneyDb());
  beforeEach(() => {
    fakeStripe().reset();
    resetDeliveries();
  });

  it("close → every succeeded donation is refunded once, final on Stripe's refund events, refund.processed published", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana", "dave"] });
    const a = await paidDonation(wishId, "dana", 20_000);
    const b = await paidDonation(wishId, "dave", 35_000);
    const olga = await signedInClient("olga");
    await olga.call("closeWish", { wishId });

    for (const paid of [a, b]) await refundCompleted(paid.donationId);
    for (const [paid, amount] of [
      [a, 20_000],
      [b, 35_000],
    ] as const) {
      const refunds = fakeStripe().refundsApi.refundsOf(paid.paymentIntentId);
      assert.equal(refunds.length, 1, "exactly one refund per payment");
      assert.equal(refunds[0]?.amount, amount);
      assert.deepEqual((refunds[0]?.metadata as Record<string, string>).donationId, paid.donationId);
      const keys = new Set(fakeStripe().callsTo("POST", "/v1/refunds").filter((call) => call.params.payment_intent === paid.paymentIntentId).map((call) => call.idempotencyKey));
      assert.deepEqual([...keys], [refundIdempotencyKey(paid.donationId, 0)]);
      assert.equal((await donation(paid.donationId))?.status, "refunded");
      const event = await outboxEvent(`refund.processed:${paid.donationId}`);
      assert.equal(event?.amount, amount);
    }
  });

  it("a donor who deleted their account is refunded like the others; their contribution is not written back, and reconciling the wish finds no drift", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana", "dave"] });
    const a = await paidDonation(wishId, "dana", 20_000);
    const b = await paidDonation(wishId, "dave", 35_000);
    await adminDb().doc("users/dave/private/account").set({ settings: { locale: "en", mutedCategories: [], showDonationsInFeed: true } });
    await adminDb().doc("users/dana/private/account").set({ settings: { locale: "en", mutedCategories: [], showDonationsInFeed: true } });
    assert.equal((await adminDb().doc(`users/dana/contributions/${wishId}`).get()).get("amount"), 20_000);
    await deleteAccount({ db: adminDb(), auth: adminAuth(), clock: systemClock, tasks: recordingTasks() }, "dana");
    assert.equal((await adminDb().doc(`users/dana/contributions/${wishId}`).get()).exists, false);

    const olga = await signedInClient("olga");
    await olga.call("closeWish", { wishId });
    for (const paid of [a, b]) await refundCompleted(paid.donationId);
    assert.equal((await donation(a.donationId))?.status, "refunded", "the money goes back to a deleted donor's card all the same");
    assert.equal((await adminDb().doc(`users/dana/contributions/${wishId}`).get()).exists, false, "not written back under the deleted account");
    assert.equal((await adminDb().doc(`users/dave/contributions/${wishId}`).get()).get("amount"), 0);

    // A quiet wish, as the runbook asks: its refunds folded into raised (the fold task may still be on its way).
    await foldWishCounters({ db: adminDb(), clock: systemClock }, wishId);
    const ada = await signedInClient("ada", {}, { admin: true });
    const check = await ada.call<{ drift: boolean; repaired: boolean }>("reconcileWishLedger", { wishId, repair: true, reason: "closing check" });
    assert.deepEqual([check.drift, check.repaired], [false, false]);
    assert.equal((await adminDb().doc(`users/dana/contributions/${wishId}`).get()).exists, false, "nor by a repair");
  });

  it("expiry → refunds (the deadline moved closer reschedules the chain)", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", deadline: new Date(Date.now() + 86_400_000) });
    const paid = await paidDonation(wishId, "dana", 20_000);
    await adminDb().collection("wishes").doc(wishId).update({ deadline: new Date(Date.now() + 2_000) });
    await waitFor("the wish to expire", async () => ((await adminDb().collection("wishes").doc(wishId).get()).get("status") === "expired" ? true : undefined), LONG);
    await refundCompleted(paid.donationId);
    assert.equal((await refundRequest(paid.donationId))?.reason, "expired");
    assert.equal(fakeStripe().refundsApi.refundsOf(paid.paymentIntentId).length, 1);
  });

  it("a duplicate task, or a crash between the Stripe call and our write, never refunds twice", async () => {
    // In the money database (test/helpers/money.ts): only this test acts on the closed wish's refund.
    const world = new MoneyWorld();
    const wishId = `refunds-${Date.now()}`;
    await world.seedWish(wishId);
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await world.fireTriggers(wishId);
    await closeWish(world.ledger, "olga", { wishId });
    await world.fireTriggers(wishId);
    // (The other queued task is the counters' fold the webhook asked for.)
    const refundTasks = () => world.tasks.pending.filter((task) => task.queue === "refundDonation");
    assert.equal(refundTasks().length, 1);
    assert.equal(await settleDonation(world.refundDeps, paid.donationId), "none", "settling again changes nothing");
    assert.equal(await world.tasks.enqueue("refundDonation", {}, { id: refundTasks()[0]?.id }), "duplicate", "the same deterministic task id");

    // An earlier attempt reached Stripe, then crashed before writing anything: the task first learns what Stripe
    // holds for the payment, folds it into the ledger, and finds nothing left to refund.
    await world.closing.refund({
      paymentIntentId: paid.paymentIntentId,
      amount: 20_000,
      metadata: { donationId: paid.donationId, wishId, donorId: "dana", generation: "0" },
      idempotencyKey: refundIdempotencyKey(paid.donationId, 0),
    });
    assert.equal(await runRefundTask(world.refundDeps, { donationId: paid.donationId, generation: 0 }, 1), "settled");
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded");
    assert.equal((await world.doc(`donations/${paid.donationId}`))?.status, "refunded");
    // The same task delivered again.
    assert.equal(await runRefundTask(world.refundDeps, { donationId: paid.donationId, generation: 0 }, 0), "already-handled");
    // Our write lost once more: the task runs again from "queued", and still asks Stripe for nothing.
    await world.db.collection("refundRequests").doc(paid.donationId).update({ status: "queued" });
    assert.equal(await runRefundTask(world.refundDeps, { donationId: paid.donationId, generation: 0 }, 2), "settled");
    assert.equal(world.stripe.refundsApi.refundsOf(paid.paymentIntentId).length, 1, "Stripe holds exactly one refund");
    const requests = world.stripe.callsTo("POST", "/v1/refunds").filter((call) => call.params.payment_intent === paid.paymentIntentId);
    assert.equal(requests.length, 1, "only the crashed attempt's request reached Stripe");
    // A stale generation does nothing.
    assert.equal(await runRefundTask(world.refundDeps, { donationId: paid.donationId, generation: 7 }, 0), "stale");
  });

  it("Stripe failing, then recovering: Cloud Tasks retries with the same idempotency key and one refund results", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const paid = await paidDonation(wishId, "dana", 20_000);
    // Three 500s: the SDK's own attempt and its two network retries, so the first task attempt fails.
    fakeStripe().failNext(3, "/v1/refunds", "POST");
    const olga = await signedInClient("olga");
    await olga.call("closeWish", { wishId });
    await refundCompleted(paid.donationId);
    const request = await refundRequest(paid.donationId);
    assert.ok(Number(request?.attempts) >= 2, `a retry happened (attempts ${String(request?.attempts)})`);
    const calls = fakeStripe().callsTo("POST", "/v1/refunds");
    assert.ok(calls.length >= 4);
    assert.deepEqual([...new Set(calls.map((call) => call.idempotencyKey))], [refundIdempotencyKey(paid.donationId, 0)]);
    assert.equal(fakeStripe().refundsApi.refundsOf(paid.paymentIntentId).length, 1);
  });

  it("a permanent Stripe error lands in the ops queue; an admin retries it (audited) and it completes", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const paid = await paidDonation(wishId, "dana", 20_000);
    fakeStripe().refundsApi.failRefunds(1, "resource_missing", 404);
    const olga = await signedInClient("olga");
    await olga.call("closeWish", { wishId });
    const failure = await waitFor(
      "the failure in the ops queue",
      async () => (await adminDb().doc(`ops/refundFailures/items/${paid.donationId}`).get()).data(),
      LONG,
    );
    assert.equal(failure.code, "resource_missing");
    assert.equal(failure.resolvedAt, null);
    assert.equal((await refundRequest(paid.donationId))?.status, "failed");

    const dana = await signedInClient("dana");
    await assert.rejects(dana.call("retryRefund", { donationId: paid.donationId, reason: "dispute won" }), /permission-denied|Admins only/);
    const ada = await signedInClient("ada", {}, { admin: true });
    await assert.rejects(ada.call("retryRefund", { donationId: paid.donationId }), /reason/);
    assert.deepEqual(await ada.call("retryRefund", { donationId: paid.donationId, reason: "Stripe fixed it" }), { result: "queued", generation: 1 });
    await refundCompleted(paid.donationId);
    assert.ok((await adminDb().doc(`ops/refundFailures/items/${paid.donationId}`).get()).get("resolvedAt"));
    assert.deepEqual(
      [...new Set(fakeStripe().callsTo("POST", "/v1/refunds").map((call) => call.idempotencyKey))].sort(),
      [refundIdempotencyKey(paid.donationId, 0), refundIdempotencyKey(paid.donationId, 1)].sort(),
    );
    assert.equal(fakeStripe().refundsApi.refundsOf(paid.paymentIntentId).length, 1);
    // Retrying a refund that is not failed is refused.
    await assert.rejects(ada.call("retryRefund", { donationId: paid.donationId, reason: "again" }), /not failed/);
    // Audited: the retry and the refusal (input that does not parse names no target and is not audited).
    const audit = await adminDb().collection("auditLog").where("action", "==", "retryRefund").get();
    assert.deepEqual(audit.docs.map((doc) => String(doc.get("result"))).sort(), ["queued", "refused: failed-precondition"]);
    assert.ok(audit.docs.every((doc) => doc.get("actorId") === "ada" && doc.get("target") === `donations/${paid.donationId}`));
  });

  it("an ops retry past the automatic cap of generations is accepted: the cap stops automatic generations only", async () => {
    const world = new MoneyWorld();
    const wishId = `refund-cap-${Date.now()}`;
    await world.seedWish(wishId);
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await world.fireTriggers(wishId);
    await closeWish(world.ledger, "olga", { wishId });
    await world.quiesce(wishId);
    const [refund] = world.stripe.refundsApi.refundsOf(paid.paymentIntentId);
    assert.ok(refund);
    world.stripe.refundsApi.settle(String(refund.id), "failed", "expired_or_canceled_card");
    await world.quiesce(wishId);
    // The request failed at the last automatic generation (no automatic one may follow it).
    await world.db.collection("refundRequests").doc(paid.donationId).update({ generation: MAX_REFUND_GENERATIONS - 1 });
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "failed");

    assert.deepEqual(await retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "the donor has a new card" }), {
      result: "queued",
      generation: MAX_REFUND_GENERATIONS,
    });
    await world.quiesce(wishId);
    const request = await world.doc(`refundRequests/${paid.donationId}`);
    assert.equal(request?.status, "succeeded");
    assert.equal(request?.generation, MAX_REFUND_GENERATIONS);
    assert.ok(world.stripe.callsTo("POST", "/v1/refunds").some((call) => call.idempotencyKey === refundIdempotencyKey(paid.donationId, MAX_REFUND_GENERATIONS)));
    assert.deepEqual(world.stripe.refundsApi.refundsOf(paid.paymentIntentId).map((item) => String(item.status)).sort(), ["failed", "succeeded"]);
  });

  it("a payment that succeeds after its wish closed is refunded too", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const olga = await signedInClient("olga");
    await olga.call("closeWish", { wishId });
    const paid = await paidDonation(wishId, "dana", 20_000);
    await refundCompleted(paid.donationId);
    assert.equal((await refundRequest(paid.donationId))?.reason, "late_donation");
  });

  it("freezeWish: admins freeze and unfreeze (audited); others are refused", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "friend"] });
    const olga = await signedInClient("olga");
    await assert.rejects(olga.call("freezeWish", { wishId, frozen: true, reason: "mine" }), /permission-denied|Admins only/);
    const ada = await signedInClient("ada", {}, { admin: true });
    assert.deepEqual(await ada.call("freezeWish", { wishId, frozen: true, reason: "fraud report #12" }), { result: "frozen" });
    const frozen = (await adminDb().collection("wishes").doc(wishId).get()).data();
    assert.ok(frozen?.frozenAt);
    assert.equal(frozen && "frozenReason" in frozen, false, "ops' reason is not on the wish, which its viewers read");
    const olgaSees = (await getDoc(doc(olga.db, `wishes/${wishId}`))).data();
    assert.ok(olgaSees?.frozenAt && !JSON.stringify(olgaSees).includes("fraud report"), "the organizer sees the hold, not why");
    assert.deepEqual(await ada.call("freezeWish", { wishId, frozen: true, reason: "again" }), { result: "unchanged" });
    assert.deepEqual(await ada.call("freezeWish", { wishId, frozen: false, reason: "report cleared" }), { result: "unfrozen" });
    assert.equal((await adminDb().collection("wishes").doc(wishId).get()).get("frozenAt"), null);
    await assert.rejects(ada.call("freezeWish", { wishId: "missing", frozen: true, reason: "x-ray" }), /No such wish/);
    const audit = await adminDb().collection("auditLog").where("target", "==", `wishes/${wishId}`).get();
    assert.deepEqual(audit.docs.map((entry) => String(entry.get("result"))).sort(), ["frozen", "unchanged", "unfrozen"]);
    assert.ok(audit.docs.some((entry) => entry.get("reason") === "fraud report #12"), "the reason is in the audit log");
  });
});
