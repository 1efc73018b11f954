// A Cloud Tasks enqueue that fails after the state it serves was committed. Refund requests and payouts are written
// `queued` in a transaction and their task is enqueued after the commit; when that enqueue fails (Cloud Tasks
// unavailable, a deadline) the caller fails and is retried: the trigger, the task, the webhook. Each retry finds the
// state already `queued`, and must enqueue its task again (the deterministic task id refuses a real duplicate), or the
// refund or the payout never runs. A task lost for good (dropped after its last attempt) leaves the item `queued` past
// QUEUED_OVERDUE_AFTER_MS, and ops retry it. In-process against the money database (test/helpers/money.ts).
import assert from "node:assert/strict";
import { closeWish } from "../../src/closing/close";
import { REFUND_QUEUE, fanOutRefunds } from "../../src/closing/refunds";
import { PAYOUT_QUEUE, requestPayout, runPayoutTask } from "../../src/payouts/payouts";
import { foldWishCounters } from "../../src/donations/counters";
import { retryRefund } from "../../src/ops/refunds";
import { retryPayout } from "../../src/ops/payouts";
import { QUEUED_OVERDUE_AFTER_MS } from "../../src/model/closing";
import { transferGroupOf } from "../../src/payments/transfers";
import type { EnqueueOptions, TaskEnqueuer } from "../../src/lib/tasks";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { MoneyWorld, TasksUnavailableError, clearMoneyDb } from "../helpers/money";

/** The world's task queue, whose next enqueue on `armed` fails as Cloud Tasks does when it is unavailable. */
class FlakyTasks implements TaskEnqueuer {
  armed: string | null = null;
  constructor(private readonly world: MoneyWorld) {}
  enqueue(queue: string, payload: Record<string, unknown>, options?: EnqueueOptions): Promise<"enqueued" | "duplicate"> {
    if (this.armed === queue) {
      this.armed = null;
      return Promise.reject(Object.assign(new Error("14 UNAVAILABLE: Cloud Tasks is unavailable"), { code: "unavailable" }));
    }
    return this.world.tasks.enqueue(queue, payload, options);
  }
}

describe("a task enqueue that fails after its state was committed", function () {
  this.timeout(120_000);
  let counter = 0;

  before(async function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
    await clearMoneyDb();
  });

  const refundTasks = (world: MoneyWorld, donationId: string) => world.tasks.pending.filter((task) => task.queue === REFUND_QUEUE && task.payload.donationId === donationId);

  it("refunds: the retried close fan-out enqueues the queued request's task, and the donor is refunded once", async () => {
    const world = new MoneyWorld();
    const flaky = new FlakyTasks(world);
    const deps = { ...world.refundDeps, tasks: flaky };
    const wishId = `enqueue-close-${Date.now()}-${++counter}`;
    await world.seedWish(wishId);
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await closeWish(world.ledger, "olga", { wishId });

    // wishClosingOnWrite's fan-out: the request is created `queued`, then Cloud Tasks fails and the trigger throws...
    flaky.armed = REFUND_QUEUE;
    await assert.rejects(fanOutRefunds(deps, wishId, "closed"), /UNAVAILABLE/);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "queued");
    assert.equal(refundTasks(world, paid.donationId).length, 0);
    // ...and the platform retries it (retry: true), twice, as a redelivery may: one task, refused the second time.
    await fanOutRefunds(deps, wishId, "closed");
    await fanOutRefunds(deps, wishId, "closed");
    assert.equal(refundTasks(world, paid.donationId).length, 1);

    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded");
    assert.equal(world.stripe.refundsApi.refundsOf(paid.paymentIntentId).length, 1, "refunded once");
  });

  it("refunds: a queued request whose task is gone for good is retried by ops once overdue, and refunded once", async () => {
    const world = new MoneyWorld();
    const wishId = `enqueue-lost-${Date.now()}-${++counter}`;
    await world.seedWish(wishId);
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    await closeWish(world.ledger, "olga", { wishId });
    await fanOutRefunds(world.refundDeps, wishId, "closed");
    // Cloud Tasks drops the task (an error of ours on its last attempt); its name stays taken, as in Cloud Tasks.
    const [lost] = refundTasks(world, paid.donationId);
    assert.ok(lost);
    world.tasks.remove(lost);

    await assert.rejects(retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "stuck" }), { code: "failed-precondition" });
    world.clock.advance(QUEUED_OVERDUE_AFTER_MS);
    // The ops retry itself meets a Cloud Tasks outage: it fails, and its audit entry says so.
    world.tasks.failNext = 1;
    await assert.rejects(retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "stuck in queued" }), TasksUnavailableError);
    const audit = await world.db.collection("auditLog").where("target", "==", `donations/${paid.donationId}`).get();
    assert.deepEqual(audit.docs.map((entry) => String(entry.get("result"))).sort(), ["error: Error (unavailable)", "refused: failed-precondition"]);
    // An hour later ops retry again: a new generation, with its task.
    world.clock.advance(QUEUED_OVERDUE_AFTER_MS);
    assert.deepEqual(await retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "stuck in queued" }), { result: "queued", generation: 2 });
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${paid.donationId}`))?.status, "succeeded");
    assert.equal(world.stripe.refundsApi.refundsOf(paid.paymentIntentId).length, 1, "refunded once");
  });

  /** Round 0 transfers while a late donation succeeds; recording the transfer queues round 1, whose enqueue fails. */
  async function roundOneNeverEnqueued(): Promise<{ world: MoneyWorld; payoutDeps: Parameters<typeof runPayoutTask>[0]; wishId: string }> {
    const world = new MoneyWorld();
    const flaky = new FlakyTasks(world);
    const payoutDeps = { ...world.payoutDeps, tasks: flaky };
    const wishId = `enqueue-payout-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount: 30_000 });
    world.stripe.connect.addPlatformBalance("czk", 1_000_000);
    await world.onboard("olga");
    const late = await world.pendingDonation(wishId, "dave", 5_000); // in flight when the wish is funded
    await world.paidDonation(wishId, "dana", 30_000);
    await foldWishCounters(world.ledger, wishId);
    assert.equal((await world.doc(`wishes/${wishId}`))?.status, "funded");
    assert.equal(await requestPayout(payoutDeps, wishId), "queued");
    const inFlight = world.stripe.hold("POST", "/v1/transfers", "executing");
    const attempt = runPayoutTask(payoutDeps, { wishId, round: 0 }, 0);
    await inFlight.arrived;
    await world.deliver(world.stripe.succeed(late.paymentIntentId));
    await foldWishCounters(world.ledger, wishId);
    assert.equal(await requestPayout(payoutDeps, wishId), "queued");
    flaky.armed = PAYOUT_QUEUE;
    inFlight.release();
    await assert.rejects(attempt, /UNAVAILABLE/);
    assert.deepEqual([(await world.doc(`payouts/${wishId}`))?.status, (await world.doc(`payouts/${wishId}`))?.round], ["queued", 1]);
    assert.equal(roundTasks(world, wishId, 1).length, 0);
    return { world, payoutDeps, wishId };
  }

  const roundTasks = (world: MoneyWorld, wishId: string, round: number) =>
    world.tasks.pending.filter((task) => task.queue === PAYOUT_QUEUE && task.payload.wishId === wishId && task.payload.round === round);

  async function paidInFullOnce(world: MoneyWorld, wishId: string): Promise<void> {
    await world.quiesce(wishId);
    const payout = await world.doc(`payouts/${wishId}`);
    assert.equal(payout?.status, "paid");
    const transfers = world.stripe.connect.transfersOf(transferGroupOf(wishId));
    assert.equal(transfers.length, 2, "round 0's transfer and round 1's, each once");
    assert.equal(transfers.reduce((sum, transfer) => sum + Number(transfer.amount), 0), payout?.paidAmount);
  }

  it("payouts: the stale retry of the last round enqueues the round its transfer queued, and the owner is paid in full once", async () => {
    const { world, payoutDeps, wishId } = await roundOneNeverEnqueued();
    // Cloud Tasks retries round 0: stale, and it enqueues round 1 (a second stale retry adds nothing).
    assert.equal(await runPayoutTask(payoutDeps, { wishId, round: 0 }, 1), "stale");
    assert.equal(await runPayoutTask(payoutDeps, { wishId, round: 0 }, 2), "stale");
    assert.equal(roundTasks(world, wishId, 1).length, 1);
    await paidInFullOnce(world, wishId);
  });

  it("payouts: Stripe's transfer event, even one that changes nothing, enqueues the queued round, and the owner is paid in full once", async () => {
    const { world, wishId } = await roundOneNeverEnqueued();
    assert.ok((await world.deliverAll()) > 0, "round 0's transfer events");
    assert.equal(roundTasks(world, wishId, 1).length, 1);
    await paidInFullOnce(world, wishId);
  });

  it("payouts: a payout queued with its task gone is retried by ops once overdue (retryPayout), and paid once", async () => {
    const world = new MoneyWorld();
    const wishId = `enqueue-payout-lost-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount: 30_000 });
    world.stripe.connect.addPlatformBalance("czk", 1_000_000);
    await world.onboard("olga");
    await world.paidDonation(wishId, "dana", 30_000);
    await foldWishCounters(world.ledger, wishId);
    assert.equal(await requestPayout(world.payoutDeps, wishId), "queued");
    const [lost] = world.tasks.pending.filter((task) => task.queue === PAYOUT_QUEUE && task.payload.wishId === wishId);
    assert.ok(lost);
    world.tasks.remove(lost);

    await assert.rejects(retryPayout(world.payoutDeps, "ada", { wishId, reason: "stuck" }), { code: "failed-precondition" });
    world.clock.advance(QUEUED_OVERDUE_AFTER_MS);
    assert.deepEqual(await retryPayout(world.payoutDeps, "ada", { wishId, reason: "stuck in queued" }), { result: "queued", round: 1 });
    await world.quiesce(wishId);
    assert.equal((await world.doc(`payouts/${wishId}`))?.status, "paid");
    assert.equal(world.stripe.connect.transfersOf(transferGroupOf(wishId)).length, 1, "paid once");
  });
});
