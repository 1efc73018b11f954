// The five money faults of issue 12, each as the combination of faults that produced it: refunds and payouts driven
// in-process against their own emulator database (test/helpers/money.ts), Stripe played by the fake through the real
// SDK, Cloud Tasks and Firestore triggers dispatched by the test. Each failed before the fix (docs/operations.md says
// what each path does now); the money audit then finds nothing to report.
import assert from "node:assert/strict";
import { AUDIT_GRACE_MS, auditMoney, auditWish } from "../../src/settlement/audit";
import { closeWish } from "../../src/closing/close";
import { retryRefund } from "../../src/ops/refunds";
import { deleteWish } from "../../src/wishes/manage";
import { runRefundTask } from "../../src/closing/refunds";
import { PAYOUT_MAX_ATTEMPTS, runPayoutTask } from "../../src/payouts/payouts";
import { retryPayout } from "../../src/ops/payouts";
import { transferGroupOf } from "../../src/payments/transfers";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";
import type { QueuedTask } from "../helpers/money";

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** What the wish still holds by its ledger (charges − refunds − disputes − transfers). */
async function heldByLedger(world: MoneyWorld, wishId: string): Promise<number> {
  const entries = await world.db.collection("ledger").where("wishId", "==", wishId).get();
  return sum(entries.docs.map((entry) => Number(entry.get("amount"))));
}

function refundedAtStripe(world: MoneyWorld, paymentIntentId: string): number {
  return sum(world.stripe.refundsApi.refundsOf(paymentIntentId).filter((refund) => refund.status === "succeeded").map((refund) => Number(refund.amount)));
}

/** Our refund requests to Stripe for one payment. */
const refundCalls = (world: MoneyWorld, paymentIntentId: string) => world.stripe.callsTo("POST", "/v1/refunds").filter((call) => call.params.payment_intent === paymentIntentId);

function only(tasks: QueuedTask[], queue: string): QueuedTask {
  const matching = tasks.filter((task) => task.queue === queue);
  assert.equal(matching.length, 1, `one ${queue} task queued`);
  const [task] = matching;
  assert.ok(task);
  return task;
}

async function auditIsClean(world: MoneyWorld, wishId: string): Promise<void> {
  world.clock.advance(AUDIT_GRACE_MS + 1000); // past the time webhooks may still be in flight
  const audit = await auditWish({ ...world.refundDeps, payouts: world.payouts }, wishId, { repair: false });
  assert.ok(audit);
  assert.equal(audit.inFlight, false, "the wish's money is at rest");
  assert.deepEqual(audit.breaches.map((breach) => `${breach.kind}: ${breach.suspectedCause}`), []);
  assert.deepEqual(audit.ours, audit.stripe, "Stripe and we agree on every figure");
}

/** The wish holds nothing by its ledger, and the audit finds it clean and in agreement with Stripe. */
async function endsClean(world: MoneyWorld, wishId: string): Promise<void> {
  assert.equal(await heldByLedger(world, wishId), 0, "the wish holds nothing");
  await auditIsClean(world, wishId);
}

const closeAs = (world: MoneyWorld, wishId: string) => closeWish(world.ledger, "olga", { wishId });

describe("money under faults: the five reproduced (in-process, money database)", function () {
  this.timeout(120_000);
  let counter = 0;
  /** A fresh world with an open wish of its own. */
  async function openWish(over: Parameters<MoneyWorld["seedWish"]>[1] = {}): Promise<{ world: MoneyWorld; wishId: string }> {
    const world = new MoneyWorld();
    const wishId = `fault-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, over);
    return { world, wishId };
  }

  before(async function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
    await clearMoneyDb();
  });

  it("1. a transfer still in flight at Stripe + a duplicate task that marks the payout failed + ops retryPayout: one transfer", async () => {
    const { world, wishId } = await openWish({ amount: 30_000 });
    world.stripe.connect.addPlatformBalance("czk", 1_000_000); // the platform's other money: Stripe would not stop a second transfer
    await world.onboard("olga");
    await world.paidDonation(wishId, "dana", 30_000);
    await world.fireTriggers(wishId); // funded → the payout is requested
    const task = only(world.tasks.pending, "payOutWish");

    // Attempt A reaches Stripe, which is still executing the transfer when…
    const inFlight = world.stripe.hold("POST", "/v1/transfers", "executing");
    const attemptA = runPayoutTask(world.payoutDeps, { wishId, round: 0 }, 0);
    await inFlight.arrived;
    // …Cloud Tasks delivers the same task again, on its last attempt: it cannot know what A did, and gives up.
    assert.equal(await runPayoutTask(world.payoutDeps, { wishId, round: 0 }, PAYOUT_MAX_ATTEMPTS - 1), "failed");
    assert.equal((await world.doc(`payouts/${wishId}`))?.status, "failed");
    // Ops retry: first asks Stripe (nothing there yet), then queues a new round that repeats A's very request.
    const retried = await retryPayout({ ...world.payoutDeps }, "ada", { wishId, reason: "duplicate task gave up" });
    assert.equal(retried.result, "queued");
    const roundOne = world.tasks.pending.find((queued) => queued.queue === "payOutWish" && queued !== task);
    assert.ok(roundOne);
    const roundOneOutcome = await world.runTask(roundOne);

    inFlight.release();
    assert.equal(await attemptA, "transferred");
    await world.quiesce(wishId);

    const transfers = world.stripe.connect.transfersOf(transferGroupOf(wishId));
    assert.deepEqual(
      transfers.map((transfer) => transfer.amount),
      [30_000],
      "exactly one transfer of the 30,000 raised",
    );
    const payout = await world.doc(`payouts/${wishId}`);
    assert.equal(payout?.status, "paid");
    assert.equal(payout?.paidAmount, 30_000);
    assert.equal(roundOneOutcome, "retry", "Stripe refused a second request under A's key while A was executing");
    const transferCalls = world.stripe.callsTo("POST", "/v1/transfers").filter((call) => call.params.transfer_group === transferGroupOf(wishId));
    assert.equal(new Set(transferCalls.map((call) => call.idempotencyKey)).size, 1, "one idempotency key for the one transfer");
    await endsClean(world, wishId);
  });

  it("2. a dispute open at close: won → the donor is refunded then; lost → settled by the bank (nothing refunded)", async () => {
    const { world, wishId } = await openWish();
    const won = await world.paidDonation(wishId, "dana", 20_000);
    const lost = await world.paidDonation(wishId, "dave", 15_000);
    const wonDispute = world.stripe.dispute(won.paymentIntentId);
    const lostDispute = world.stripe.dispute(lost.paymentIntentId);
    await world.deliverAll();
    await world.fireTriggers(wishId);

    await closeAs(world, wishId);
    await world.quiesce(wishId);
    for (const { donationId } of [won, lost]) {
      const request = await world.doc(`refundRequests/${donationId}`);
      assert.equal(request?.status, "disputed", "the refund waits for the bank, visible to ops");
    }
    assert.equal(refundCalls(world, won.paymentIntentId).length + refundCalls(world, lost.paymentIntentId).length, 0, "no refund while the bank decides");

    await world.deliver(world.stripe.closeDispute(String(wonDispute.data.object.id), "won"));
    await world.deliver(world.stripe.closeDispute(String(lostDispute.data.object.id), "lost"));
    await world.quiesce(wishId);

    assert.equal(refundedAtStripe(world, won.paymentIntentId), 20_000, "the won dispute's money went back to the donor");
    assert.equal((await world.doc(`refundRequests/${won.donationId}`))?.status, "succeeded");
    assert.equal((await world.doc(`refundRequests/${won.donationId}`))?.reason, "dispute_won");
    assert.equal((await world.doc(`donations/${won.donationId}`))?.status, "refunded");
    assert.equal(refundedAtStripe(world, lost.paymentIntentId), 0, "the lost dispute already gave the donor their money");
    assert.equal((await world.doc(`refundRequests/${lost.donationId}`))?.status, "settled");
    await endsClean(world, wishId);
  });

  it("3. a partial dashboard refund whose webhook arrives after the close: only what is still refundable is refunded", async () => {
    const { world, wishId } = await openWish();
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await world.fireTriggers(wishId);
    world.stripe.refund(paid.paymentIntentId, 10_000); // by hand, in the Stripe dashboard
    const late = world.undelivered(); // its refund.created / charge.refunded are still on their way

    await closeAs(world, wishId);
    await world.fireTriggers(wishId);
    const task = only(world.tasks.pending, "refundDonation");
    assert.equal(await world.runTask(task), "done");
    const requests = refundCalls(world, paid.paymentIntentId).map((call) => Number(call.params.amount));
    assert.deepEqual(requests, [10_000], "asked Stripe for the half that is left, not a stale full amount");

    for (const event of late) await world.deliver(event); // the dashboard refund's webhook, late
    await world.quiesce(wishId);
    assert.equal(refundedAtStripe(world, paid.paymentIntentId), 20_000, "the donor has all of it back");
    const request = await world.doc(`refundRequests/${paid.donationId}`);
    assert.equal(request?.status, "succeeded");
    assert.equal(request?.amount, 10_000);
    assert.equal((await world.doc(`donations/${paid.donationId}`))?.status, "refunded");
    await endsClean(world, wishId);
  });

  it("4. a closed wish holds nothing after close and its refunds: disputes, dashboard refunds, late payments together", async () => {
    const { world, wishId } = await openWish({ amount: 99_500 });
    const plain = await world.paidDonation(wishId, "dana", 30_000);
    const disputed = await world.paidDonation(wishId, "dave", 25_000);
    const dashboard = await world.paidDonation(wishId, "dora", 27_250);
    const late = await world.pendingDonation(wishId, "dana", 17_250);
    const dispute = world.stripe.dispute(disputed.paymentIntentId);
    await world.deliverAll();
    world.stripe.refund(dashboard.paymentIntentId, 10_000);
    const lateWebhooks = world.undelivered();
    await world.fireTriggers(wishId);

    await closeAs(world, wishId);
    await world.fireTriggers(wishId);
    for (const task of [...world.tasks.pending]) await world.runTask(task);
    for (const event of lateWebhooks) await world.deliver(event);
    await world.deliver(world.stripe.succeed(late.paymentIntentId)); // a payment in flight at close
    await world.deliver(world.stripe.closeDispute(String(dispute.data.object.id), "won"));
    await world.quiesce(wishId);

    assert.equal(await heldByLedger(world, wishId), 0, "the closed wish holds nothing");
    for (const [donation, amount] of [
      [plain, 30_000],
      [disputed, 25_000],
      [dashboard, 27_250],
      [late, 17_250],
    ] as const) {
      assert.equal(refundedAtStripe(world, donation.paymentIntentId), amount, "every cent went back to its donor");
    }
    await auditIsClean(world, wishId);
  });

  it("5. refund events processed before the refund API's answer (and after it): the request follows Stripe, never backwards", async () => {
    for (const order of ["webhook first", "answer first"] as const) {
      const { world, wishId } = await openWish();
      const paid = await world.paidDonation(wishId, "dana", 20_000);
      await world.fireTriggers(wishId);
      await closeAs(world, wishId);
      await world.fireTriggers(wishId);
      only(world.tasks.pending, "refundDonation");

      // Stripe refunds at once; its answer to our task travels slower than the webhooks it caused (or faster).
      const answer = world.stripe.hold("POST", "/v1/refunds", "answering");
      const task = runRefundTask(world.refundDeps, { donationId: paid.donationId, generation: 0 }, 0);
      await answer.arrived;
      if (order === "webhook first") {
        await world.deliverAll();
        await world.fireTriggers(wishId);
        assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded", `${order}: Stripe's event completes it`);
        answer.release();
        assert.equal(await task, "requested");
      } else {
        answer.release();
        assert.equal(await task, "requested");
        await world.deliverAll();
        await world.fireTriggers(wishId);
      }
      const request = await world.doc(`refundRequests/${paid.donationId}`);
      assert.equal(request?.status, "succeeded", `${order}: never back to requested`);
      assert.equal(request?.providerRefundId === null || request?.providerRefundId === world.stripe.refundsApi.refundsOf(paid.paymentIntentId)[0]?.id, true);
      assert.equal((await world.doc(`donations/${paid.donationId}`))?.status, "refunded");
      assert.ok(await world.doc(`events/refund.processed:${paid.donationId}`), `${order}: the donor hears of it once`);
      await world.quiesce(wishId);
      assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded");
      assert.equal(refundedAtStripe(world, paid.paymentIntentId), 20_000);
      await auditIsClean(world, wishId);
    }
  });

  it("the audit reports a closed wish whose refund failed at Stripe, with the cause; ops retry; the next audit resolves it", async () => {
    const { world, wishId } = await openWish();
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await world.fireTriggers(wishId);
    await closeAs(world, wishId);
    await world.quiesce(wishId);
    const [refund] = world.stripe.refundsApi.refundsOf(paid.paymentIntentId);
    assert.ok(refund);
    world.stripe.refundsApi.settle(String(refund.id), "failed", "expired_or_canceled_card"); // the card was closed
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "failed");
    assert.equal((await world.doc(`ops/refundFailures/items/${paid.donationId}`))?.code, "refund_failed");

    const auditDeps = { ...world.refundDeps, payouts: world.payouts };
    world.clock.advance(60 * 60 * 1000);
    const audit = await auditWish(auditDeps, wishId);
    assert.deepEqual(audit?.breaches.map((breach) => breach.kind), ["closed_wish_holds_money"]);
    const breach = await world.doc(`ops/moneyAudit/breaches/closed_wish_holds_money_${wishId}`);
    assert.equal(breach?.held, 20_000);
    assert.equal(breach?.repaired, false, "a failed refund waits for ops");
    assert.match(String(breach?.suspectedCause), /refund failed \(refund_failed\)/);
    assert.deepEqual((breach?.donations as { donationId: string }[]).map((item) => item.donationId), [paid.donationId]);

    assert.deepEqual(await retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "the donor has a new card" }), { result: "queued", generation: 1 });
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded");
    world.clock.advance(60 * 60 * 1000);
    assert.deepEqual((await auditWish(auditDeps, wishId))?.breaches, []);
    assert.ok((await world.doc(`ops/moneyAudit/breaches/closed_wish_holds_money_${wishId}`))?.resolvedAt, "resolved by the audit that found it clean");
  });

  it("deleteWish: a payment that succeeded but is not folded into the wish yet already refuses the delete", async () => {
    const { world, wishId } = await openWish();
    const paid = await world.pendingDonation(wishId, "dana", 20_000, { busyWish: true });
    await world.deliver(world.stripe.succeed(paid.paymentIntentId)); // to a shard: the wish learns of it at the next fold
    assert.equal((await world.doc(`wishes/${wishId}`))?.hasSucceededDonation, false);
    await assert.rejects(deleteWish(world.ledger, "olga", { wishId }), /close it instead/);
    assert.ok(await world.doc(`wishes/${wishId}`), "the wish stays");
  });

  it("a wish deleted while a payment was pending, then paid: refunded in full once, and the audit finds what is left clean", async () => {
    const { world, wishId } = await openWish();
    const pending = await world.pendingDonation(wishId, "dave", 15_000);
    // A pending donation does not block the delete (an abandoned payment sheet would block it for ever) ...
    assert.deepEqual(await deleteWish(world.ledger, "olga", { wishId }), { deleted: true });
    // ... and the payment, made after it, reaches a wish that no longer exists: it goes back, as for a closed wish.
    const succeeded = world.stripe.succeed(pending.paymentIntentId);
    await world.deliver(succeeded);
    await world.deliver(succeeded); // a redelivery changes nothing
    await world.quiesce(wishId);
    assert.equal(refundedAtStripe(world, pending.paymentIntentId), 15_000);
    assert.equal(refundCalls(world, pending.paymentIntentId).length, 1, "one refund request to Stripe");
    assert.equal((await world.doc(`refundRequests/${pending.donationId}`))?.reason, "closed");
    world.clock.advance(AUDIT_GRACE_MS + 1000);
    const audit = await auditWish({ ...world.refundDeps, payouts: world.payouts }, wishId, { repair: false });
    assert.ok(audit, "a deleted wish whose money moved is still audited");
    assert.deepEqual(audit.breaches, []);
    assert.equal(audit.held, 0);
  });

  it("a deleted wish's late payment whose trigger was lost: the hourly audit finds the money and refunds it", async () => {
    const { world, wishId } = await openWish();
    const pending = await world.pendingDonation(wishId, "dana", 20_000);
    await deleteWish(world.ledger, "olga", { wishId });
    await world.deliver(world.stripe.succeed(pending.paymentIntentId)); // booked; the donation trigger never runs
    world.clock.advance(AUDIT_GRACE_MS + 1000);
    const deps = { ...world.refundDeps, payouts: world.payouts };
    const first = await auditMoney(deps);
    assert.ok(first.repaired >= 1, JSON.stringify(first));
    const breach = await world.doc(`ops/moneyAudit/breaches/closed_wish_holds_money_${wishId}`);
    assert.equal(breach?.wishStatus, "deleted");
    assert.equal(breach?.held, 20_000);
    assert.match(String(breach?.suspectedCause), /A deleted wish must hold 0/);
    assert.equal((await world.doc(`refundRequests/${pending.donationId}`))?.reason, "audit_repair");
    await world.quiesce(wishId);
    assert.equal(refundedAtStripe(world, pending.paymentIntentId), 20_000);
    world.clock.advance(AUDIT_GRACE_MS + 1000);
    await auditMoney(deps);
    assert.ok((await world.doc(`ops/moneyAudit/breaches/closed_wish_holds_money_${wishId}`))?.resolvedAt, "resolved once the money went back");
  });

  it("the hourly audit finds the wishes whose money moved, repairs a closed wish's forgotten refund, and resolves it later", async () => {
    const { world, wishId } = await openWish();
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await closeAs(world, wishId); // its fan-out trigger never runs: no refund request is ever made
    world.clock.advance(AUDIT_GRACE_MS + 1000);
    const deps = { ...world.refundDeps, payouts: world.payouts };

    const first = await auditMoney(deps);
    assert.ok(first.wishesAudited >= 1 && first.repaired >= 1, JSON.stringify(first));
    const breach = await world.doc(`ops/moneyAudit/breaches/closed_wish_holds_money_${wishId}`);
    assert.equal(breach?.repaired, true);
    assert.equal(breach?.held, 20_000);
    assert.deepEqual(breach?.ours, { charges: 20_000, refunds: 0, disputes: 0, transfers: 0, fee: 0 });
    assert.deepEqual(breach?.stripe, breach?.ours);
    assert.match(String(breach?.suspectedCause), /no refund was ever requested/);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.reason, "audit_repair");
    const summary = await world.doc("ops/moneyAudit");
    assert.equal(summary?.breaches, first.breaches);

    await world.quiesce(wishId);
    assert.equal(refundedAtStripe(world, paid.paymentIntentId), 20_000);
    world.clock.advance(AUDIT_GRACE_MS + 1000);
    await auditMoney(deps);
    assert.ok((await world.doc(`ops/moneyAudit/breaches/closed_wish_holds_money_${wishId}`))?.resolvedAt, "resolved once the wish is clean");
  });

  it("ops retryRefund for a donation under an open chargeback that never got its request: it answers waiting_dispute, not queued", async () => {
    const { world, wishId } = await openWish();
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    world.stripe.dispute(paid.paymentIntentId);
    await world.deliverAll();
    // Closed, and its fan-out lost (no trigger fired): the donation has no refund request yet.
    await closeWish(world.ledger, "olga", { wishId });
    assert.equal(await world.doc(`refundRequests/${paid.donationId}`), undefined);
    assert.deepEqual(await retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "missing request" }), { result: "waiting_dispute" });
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "disputed");
    assert.equal(world.tasks.pending.filter((task) => task.queue === "refundDonation").length, 0, "no task while the bank decides");
  });
});
