// Model-based property test of one wish's money under faults (issue 12). fast-check generates command sequences —
// donate (and retry it), pay, fail, cancel, abandon; deliver Stripe's events once, twice, out of order or
// concurrently; open, win and lose disputes; refund in the dashboard; refunds that stay pending, succeed or fail;
// close, expire, fund; Firestore triggers firing late; Cloud Tasks duplicating a task, losing Stripe's answer, an
// attempt held in flight inside Stripe, a last attempt, refusing an enqueue after its caller committed; ops retries;
// a Stripe outage — and runs them against the
// real domain code in-process, the fake Stripe behind the real SDK, and the Firestore emulator (the "money" database:
// no emulated trigger runs behind the test's back; test/helpers/money.ts).
//
// After every command: never two transfers for one transfer number, never more transferred than Stripe received.
// After every run (every event delivered, every trigger fired, every task run, every failed or overdue item retried by ops,
// pending refunds resolved): the money invariant of docs/donations.md holds and Stripe and we agree — the audit
// finds no breach — and, as the webhook-only property test checked before it, every donation's status, net amount and
// ledger entries, the supporters, the wish's totals and each donor's contribution are exactly what Stripe's objects
// imply, and every delivered event is recorded once.
//
// ≥ 200 runs in `npm test`; ELATEME_MONEY_RUNS=N runs N (e.g. 2000 for a long hunt), ELATEME_MONEY_SEED replays a seed
// (with ELATEME_MONEY_PATH, the one run of a reported counterexample's `path`).
import { FOLD_QUEUE, foldTaskPayload, foldWishCounters } from "../../src/donations/counters";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Timestamp } from "firebase-admin/firestore";
import { QUEUED_OVERDUE_AFTER_MS } from "../../src/model/closing";
import { AUDIT_GRACE_MS, auditWish, waitingForTheBank } from "../../src/settlement/audit";
import { closeWish } from "../../src/closing/close";
import { expireWish } from "../../src/closing/deadline";
import { retryRefund } from "../../src/ops/refunds";
import { PAYOUT_QUEUE, runPayoutTask } from "../../src/payouts/payouts";
import { REFUND_MAX_ATTEMPTS, REFUND_QUEUE, refundTaskPayload, runRefundTask } from "../../src/closing/refunds";
import { ABANDONED_AFTER_MS, cancelAbandonedDonations, cancelDonation } from "../../src/donations/cancel";
import { donate, maxDonation } from "../../src/donations/donate";
import { zodConverter } from "../../src/lib/converter";
import { donationSchema } from "../../src/model/donation";
import { retryPayout } from "../../src/ops/payouts";
import { PAYOUT_MAX_ATTEMPTS, payoutTaskPayload } from "../../src/payouts/payouts";
import { PaymentProviderError } from "../../src/payments/provider";
import { transferGroupOf } from "../../src/payments/transfers";
import { rateWindowRef } from "../../src/lib/rate-limit";
import { WITHDRAWN } from "../../devtools/fakes/stripe";
import type { Obj } from "../../devtools/fakes/stripe-common";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { MoneyWorld, TasksUnavailableError, clearMoneyDb, moneyDb } from "../helpers/money";
import type { QueuedTask } from "../helpers/money";

const RUNS = Number.parseInt(process.env.ELATEME_MONEY_RUNS ?? "200", 10) || 200;
const SEED = process.env.ELATEME_MONEY_SEED ? Number.parseInt(process.env.ELATEME_MONEY_SEED, 10) : undefined;
/** With the seed, fast-check's `path` of a reported counterexample replays just that run. */
const PATH = process.env.ELATEME_MONEY_PATH;
const DONORS = ["d1", "d2", "d3"] as const;
const OWNER = "olga";
const WISH_AMOUNT = 60_000;

interface Model {
  donations: { id: string; pi: string; donor: string }[];
}

interface Real {
  world: MoneyWorld;
  wishId: string;
  /** Task attempts whose Stripe request is held inside the fake, and their releases. */
  held: { release: () => void; done: Promise<unknown> }[];
  /** The commands run. */
  log: string[];
  /** Situations this run reached (see `reached`). */
  reached: Set<string>;
}

type MoneyCommand = fc.AsyncCommand<Model, Real>;

const commandTime = new Map<string, number>();

/** How many runs reached each situation (printed at the end, so a change that starves the model shows). */
const reached = new Map<string, number>();
const note = (real: Real, what: string) => real.reached.add(what);

const donationAt = (model: Model, index: number) => (model.donations.length === 0 ? undefined : model.donations[index % model.donations.length]);
const intentOf = (real: Real, pi: string) => real.world.stripe.paymentIntents.get(pi);
const chargeOf = (real: Real, pi: string) => {
  const charge = intentOf(real, pi)?.latest_charge;
  return typeof charge === "string" ? real.world.stripe.charges.get(charge) : undefined;
};
const disputesOf = (real: Real, pi: string) => [...real.world.stripe.disputes.values()].filter((dispute) => dispute.payment_intent === pi);

/** A command whose precondition is always true: each decides at run time whether it applies (else it is a no-op). */
function command(name: string, run: (model: Model, real: Real) => Promise<void> | void): MoneyCommand {
  return { check: () => true, run: async (model, real) => {
    real.log.push(name);
    const started = Date.now();
    await run(model, real);
    const kind = name.replace(/[(+].*$/, "");
    commandTime.set(kind, (commandTime.get(kind) ?? 0) + Date.now() - started);
    afterEveryCommand(real);
  }, toString: () => name };
}

/** The Firestore triggers fire at once (as they mostly do), or later (a `triggers` command, or when the run settles). */
const thenTriggers = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

/** Exactly once, at every moment: one transfer per transfer number, and never more out than Stripe took in. */
function afterEveryCommand(real: Real): void {
  const transfers = real.world.stripe.connect.transfersOf(transferGroupOf(real.wishId));
  const seqs = transfers.map((transfer) => (transfer.metadata as Record<string, string>).seq);
  assert.equal(new Set(seqs).size, seqs.length, `two transfers for one transfer number: ${seqs.join(",")}`);
  const out = transfers.reduce((sum, transfer) => sum + Number(transfer.amount) - Number(transfer.amount_reversed), 0);
  const received = [...real.world.stripe.paymentIntents.values()]
    .filter((intent) => (intent.metadata as Record<string, string>).wishId === real.wishId && intent.status === "succeeded")
    .reduce((sum, intent) => sum + Number(intent.amount_received), 0);
  assert.ok(out <= received, `transferred ${out} for a wish Stripe received ${received} for`);
}


async function doDonate(model: Model, real: Real, donor: string, amount: number, retry: boolean): Promise<void> {
  const requestId = `req-${real.wishId}-${model.donations.length}`;
  const data = { wishId: real.wishId, amount, currency: "CZK", requestId };
  const deps = { ...real.world.ledger, provider: real.world.payments };
  let donationId: string;
  try {
    donationId = (await donate(deps, donor, data, donor)).donationId;
  } catch (error) {
    if ((error as { code?: string }).code === "failed-precondition" || (error as { code?: string }).code === "unavailable") return;
    throw error;
  }
  if (retry) {
    try {
      assert.equal((await donate(deps, donor, data, donor)).donationId, donationId, "a retried donate answers the same donation");
    } catch (error) {
      if ((error as { code?: string }).code !== "unavailable") throw error;
    }
  }
  const pi = (await real.world.doc(`donations/${donationId}`))?.paymentIntentId;
  assert.equal(typeof pi, "string");
  model.donations.push({ id: donationId, pi: String(pi), donor });
}

const donateCommand = fc
  .record({ donor: fc.constantFrom(...DONORS), amount: fc.integer({ min: 1_500, max: 30_000 }), retry: fc.boolean() })
  .map(({ donor, amount, retry }) => command(`donate(${donor}, ${amount}${retry ? ", retried" : ""})`, (model, real) => doDonate(model, real, donor, amount, retry)));

/** A friend donates and pays at once; Stripe's event is delivered at once, or later. */
const donateAndPayCommand = fc
  .record({ donor: fc.constantFrom(...DONORS), amount: fc.integer({ min: 1_500, max: 25_000 }), delivered: fc.boolean() })
  .map(({ donor, amount, delivered }) =>
    command(`donateAndPay(${donor}, ${amount}${delivered ? ", delivered" : ""})`, async (model, real) => {
      const before = model.donations.length;
      await doDonate(model, real, donor, amount, false);
      const donation = model.donations[before];
      if (!donation) return;
      const succeeded = real.world.stripe.succeed(donation.pi);
      if (delivered) await real.world.deliver(succeeded);
    }),
  );

/** The donor pays (or the bank declines, or a bank debit starts processing), as far as the PaymentIntent allows. */
const payCommand = fc.record({ index: fc.nat(), action: fc.constantFrom("succeed", "succeed", "fail", "processing") }).map(({ index, action }) =>
  command(`pay(#${index}, ${action})`, (model, real) => {
    const donation = donationAt(model, index);
    const status = donation ? intentOf(real, donation.pi)?.status : undefined;
    if (!donation || status === "succeeded" || status === "canceled") return;
    if (action === "succeed") real.world.stripe.succeed(donation.pi);
    else if (action === "fail") real.world.stripe.fail(donation.pi);
    else if (status !== "processing") real.world.stripe.processing(donation.pi);
  }),
);

/** Stripe delivers one of its pending events (any of them: out of order), once or twice; triggers fire now or later. */
const deliverCommand = fc.record({ pick: fc.nat(), twice: fc.boolean(), fire: thenTriggers }).map(({ pick, twice, fire }) =>
  command(`deliver(${pick}${twice ? ", twice" : ""}${fire ? ", +triggers" : ""})`, async (_model, real) => {
    const pending = real.world.undelivered().filter((event) => !event.account);
    const event = pending[pick % Math.max(1, pending.length)];
    if (!event) return;
    await real.world.deliver(event);
    if (twice) await real.world.deliver(event);
    if (fire) await real.world.fireTriggers(real.wishId);
  }),
);

/** Stripe delivers up to `count` pending events at once, each twice, all concurrently (the hot-document race). */
const deliverConcurrentlyCommand = fc.integer({ min: 2, max: 6 }).map((count) =>
  command(`deliverConcurrently(${count})`, async (_model, real) => {
    const pending = real.world.undelivered().filter((event) => !event.account).slice(-count);
    await Promise.all(pending.flatMap((event) => [real.world.deliver(event), real.world.deliver(event)]));
  }),
);

/** Stripe catches up: every pending event delivered (in order), and the triggers fire. */
const deliverAllCommand = command("deliverAll", async (_model, real) => {
  await real.world.deliverAll();
  await real.world.fireTriggers(real.wishId);
});

const disputeCommand = fc.record({ index: fc.nat(), partial: fc.boolean() }).map(({ index, partial }) =>
  command(`dispute(#${index}${partial ? ", part" : ""})`, (model, real) => {
    const donation = donationAt(model, index);
    const charge = donation ? chargeOf(real, donation.pi) : undefined;
    if (!donation || !charge || disputesOf(real, donation.pi).length > 0) return;
    const refundable = Number(charge.amount) - Number(charge.amount_refunded);
    if (refundable <= 0) return; // the bank does not charge back money already given back
    real.world.stripe.dispute(donation.pi, partial ? Math.ceil(refundable / 2) : refundable);
  }),
);

const closeDisputeCommand = fc.record({ index: fc.nat(), outcome: fc.constantFrom("won" as const, "lost" as const) }).map(({ index, outcome }) =>
  command(`closeDispute(#${index}, ${outcome})`, (model, real) => {
    const donation = donationAt(model, index);
    const open = donation ? disputesOf(real, donation.pi).find((dispute) => WITHDRAWN.has(dispute.status) && dispute.status !== "lost") : undefined;
    if (open) real.world.stripe.closeDispute(String(open.id), outcome);
  }),
);

/** Someone refunds in the Stripe dashboard: half of what is left, or all of it. */
const dashboardRefundCommand = fc.record({ index: fc.nat(), all: fc.boolean() }).map(({ index, all }) =>
  command(`dashboardRefund(#${index}, ${all ? "all" : "half"})`, (model, real) => {
    const donation = donationAt(model, index);
    const charge = donation ? chargeOf(real, donation.pi) : undefined;
    if (!donation || !charge || disputesOf(real, donation.pi).some((dispute) => WITHDRAWN.has(dispute.status))) return;
    const left = Number(charge.amount) - Number(charge.amount_refunded);
    if (left <= 0) return;
    real.world.stripe.refund(donation.pi, all ? left : Math.ceil(left / 2));
  }),
);

/** Refunds start `pending` from now on (some payment methods), or succeed at once (cards). */
const refundModeCommand = fc.constantFrom("pending" as const, "succeeded" as const).map((mode) =>
  command(`refundMode(${mode})`, (_model, real) => {
    real.world.stripe.refundsApi.nextStatus = mode;
    return Promise.resolve();
  }),
);

/** A refund's later life at Stripe: a pending one succeeds, or one fails (the card was closed). */
const refundLaterCommand = fc.record({ pick: fc.nat(), outcome: fc.constantFrom("succeeded" as const, "failed" as const) }).map(({ pick, outcome }) =>
  command(`refundLater(${pick}, ${outcome})`, (model, real) => {
    const refunds = model.donations.flatMap((donation) => real.world.stripe.refundsApi.refundsOf(donation.pi)).filter((refund) => refund.status === "pending" || (outcome === "failed" && refund.status === "succeeded"));
    const refund = refunds[pick % Math.max(1, refunds.length)];
    if (refund && !(outcome === "succeeded" && refund.status === "succeeded")) real.world.stripe.refundsApi.settle(String(refund.id), outcome);
    return Promise.resolve();
  }),
);


const closeCommand = thenTriggers.map((fire) =>
  command(`close${fire ? "+triggers" : ""}`, async (_model, real) => {
    try {
      await closeWish(real.world.ledger, OWNER, { wishId: real.wishId });
      note(real, "closed");
    } catch (error) {
      if ((error as { code?: string }).code !== "failed-precondition") throw error;
    }
    if (fire) await real.world.fireTriggers(real.wishId);
  }),
);

const expireCommand = thenTriggers.map((fire) =>
  command(`expire${fire ? "+triggers" : ""}`, async (_model, real) => {
    const wish = await real.world.doc(`wishes/${real.wishId}`);
    const deadline = (wish?.deadline as { toDate(): Date } | undefined)?.toDate();
    if (!deadline) return;
    real.world.clock.set(new Date(Math.max(real.world.clock.now().getTime(), deadline.getTime() + 1000)));
    if (await expireWish(real.world.ledger, real.wishId, "model")) note(real, "expired");
    if (fire) await real.world.fireTriggers(real.wishId);
  }),
);

/** A friend gives what the wish still needs and pays at once; its events are delivered at once, or later. */
const fundCommand = thenTriggers.map((now) =>
  command(`fund${now ? "+delivered" : ""}`, async (model, real) => {
    const wish = await real.world.doc(`wishes/${real.wishId}`);
    if (wish?.status !== "open") return;
    const amount = maxDonation({ amount: Number(wish.amount), raised: Number(wish.raised), currency: "CZK" });
    const before = model.donations.length;
    await doDonate(model, real, "d3", amount, false);
    const donation = model.donations[before];
    if (!donation) return;
    const succeeded = real.world.stripe.succeed(donation.pi);
    if (!now) return;
    await real.world.deliver(succeeded);
    await real.world.fireTriggers(real.wishId);
  }),
);

const triggersCommand = command("triggers", async (_model, real) => {
  await real.world.fireTriggers(real.wishId);
});

type TaskMode = "normal" | "duplicate" | "last" | "lose" | "hold";

/** Cloud Tasks runs one queued task: normally, twice at once, on its last attempt, losing Stripe's answer, or held in flight. */
const taskCommand = fc.record({ pick: fc.nat(), mode: fc.constantFrom<TaskMode>("normal", "normal", "duplicate", "last", "lose", "hold") }).map(({ pick, mode }) =>
  command(`task(${pick}, ${mode})`, async (_model, real) => {
    const task = real.world.tasks.pending[pick % Math.max(1, real.world.tasks.pending.length)];
    if (task) await runTaskAs(real, task, mode);
  }),
);

async function runTaskAs(real: Real, task: QueuedTask, mode: TaskMode): Promise<void> {
  const { world } = real;
  if (!world.tasks.pending.includes(task)) return;
  note(real, `task ${mode} (${task.queue})`);
  const started = Date.now();
  try {
    await runTaskMode(real, task, mode);
  } finally {
    commandTime.set(`mode ${mode} ${task.queue}`, (commandTime.get(`mode ${mode} ${task.queue}`) ?? 0) + Date.now() - started);
  }
}

async function runTaskMode(real: Real, task: QueuedTask, mode: TaskMode): Promise<void> {
  const { world } = real;
  {
    if (mode === "normal") await world.runTask(task);
    else if (mode === "duplicate") {
      // Cloud Tasks delivers the task twice: the first delivery's money request is inside Stripe when the second runs.
      // (Interleaved at Stripe, where it matters; Firestore serialises our transactions either way.)
      const hold = world.stripe.hold("POST", task.queue === REFUND_QUEUE ? "/v1/refunds" : "/v1/transfers", "executing");
      const first = attempt(real, task, task.retryCount);
      const arrived = await Promise.race<boolean>([hold.arrived.then(() => true), first.then(() => false)]);
      if (!arrived) hold.release();
      await world.runTask(task);
      hold.release();
      await first;
    }
    else if (mode === "last") await world.runTask(task, (task.queue === REFUND_QUEUE ? REFUND_MAX_ATTEMPTS : PAYOUT_MAX_ATTEMPTS) - 1);
    else if (mode === "lose") {
      if (task.queue === REFUND_QUEUE) world.closing.loseNextRefund = true;
      else world.payouts.loseNextTransfer = true;
      await world.runTask(task);
      world.closing.loseNextRefund = false;
      world.payouts.loseNextTransfer = false;
    } else {
      // The attempt's money request stops inside Stripe (executing); a later command releases it.
      const hold = world.stripe.hold("POST", task.queue === REFUND_QUEUE ? "/v1/refunds" : "/v1/transfers", "executing");
      const done = attempt(real, task, task.retryCount);
      real.held.push({ release: hold.release, done });
      // An attempt that makes no money request (stale, already handled) must not leave the hold armed for another.
      if ((await Promise.race([hold.arrived.then(() => "arrived"), done.then(() => "done")])) === "done") hold.release();
    }
  }
}

/** One more delivery of a task (at-least-once): the handler alone, leaving the queue as it is. Provider errors are its retries. */
async function attempt(real: Real, task: QueuedTask, retryCount: number): Promise<unknown> {
  try {
    if (task.queue === REFUND_QUEUE) return await runRefundTask(real.world.refundDeps, refundTaskPayload.parse(task.payload), retryCount);
    if (task.queue === PAYOUT_QUEUE) return await runPayoutTask(real.world.payoutDeps, payoutTaskPayload.parse(task.payload), retryCount);
    if (task.queue === FOLD_QUEUE) return await foldWishCounters(real.world.ledger, foldTaskPayload.parse(task.payload).wishId);
    return undefined;
  } catch (error) {
    if (error instanceof PaymentProviderError || error instanceof TasksUnavailableError) return error;
    throw error;
  }
}

/** Cloud Tasks works through every queued task, each with its own fault (or none). */
const tasksCommand = fc.array(fc.constantFrom<TaskMode>("normal", "duplicate", "last", "lose", "hold"), { minLength: 1, maxLength: 3 }).map((modes) =>
  command(`tasks(${modes.join(",")})`, async (_model, real) => {
    for (const [index, task] of [...real.world.tasks.pending].entries()) await runTaskAs(real, task, modes[index % modes.length] ?? "normal");
  }),
);

const releaseCommand = command("release", async (_model, real) => {
  await releaseAll(real);
});

async function releaseAll(real: Real): Promise<void> {
  for (const held of real.held.splice(0)) {
    held.release();
    await held.done;
  }
}

/** Ops retry everything of this wish that waits for them (a failed payout, failed refunds). */
async function opsRetries(real: Real): Promise<number> {
  const { world, wishId } = real;
  let retried = 0;
  // An ops call that meets a Cloud Tasks outage fails; ops call it again later (the next opsRetry, or the settling).
  const tolerant = async (call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      if (!(error instanceof TasksUnavailableError)) throw error;
    }
    retried++;
  };
  // Also what the status page shows as overdue (queued for over an hour: its task was dropped after an error on its
  // last attempt, e.g. an enqueue it made during a Cloud Tasks outage); the runbook retries those like failed ones.
  const overdue = (updatedAt: unknown) => updatedAt instanceof Timestamp && updatedAt.toMillis() <= world.clock.now().getTime() - QUEUED_OVERDUE_AFTER_MS;
  const payout = await world.doc(`payouts/${wishId}`);
  if (payout?.status === "failed" || (payout?.status === "queued" && overdue(payout.updatedAt))) {
    await tolerant(() => retryPayout(world.payoutDeps, "ada", { wishId, reason: "model: ops retry" }));
  }
  const waiting = await moneyDb().collection("refundRequests").where("wishId", "==", wishId).where("status", "in", ["failed", "queued"]).get();
  for (const request of waiting.docs) {
    if (request.get("status") === "queued" && !overdue(request.get("updatedAt"))) continue;
    await tolerant(() => retryRefund(world.refundDeps, "ada", { donationId: request.id, reason: "model: ops retry" }));
  }
  return retried;
}

const opsCommand = command("opsRetry", async (_model, real) => {
  await opsRetries(real);
});

const cancelCommand = fc.nat().map((index) =>
  command(`cancelDonation(#${index})`, async (model, real) => {
    const donation = donationAt(model, index);
    if (!donation) return;
    try {
      await cancelDonation({ ...real.world.ledger, provider: real.world.payments }, donation.donor, { donationId: donation.id });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "failed-precondition" && code !== "unavailable") throw error;
    }
  }),
);

/** A day passes and the hourly sweep runs: unpaid donations are canceled at Stripe. */
const sweepCommand = command("abandonedSweep", async (_model, real) => {
  real.world.clock.advance(ABANDONED_AFTER_MS + 60_000);
  try {
    await cancelAbandonedDonations({ ...real.world.ledger, provider: real.world.payments });
  } catch (error) {
    // Booking a payment found succeeded meets a Cloud Tasks outage (its fold): the hourly sweep runs again.
    if (!(error instanceof TasksUnavailableError)) throw error;
  }
});

/**
 * Cloud Tasks fails the next enqueue or two, whoever makes it (the close or donation trigger's refund task, a payout
 * round after a transfer, a fold after a webhook's commit, an ops retry): the caller fails after its commit and is
 * retried as the platform retries it (a trigger fires again, Stripe redelivers, a task retries, ops call again).
 */
const tasksOutageCommand = fc.integer({ min: 1, max: 2 }).map((count) =>
  command(`tasksOutage(${count})`, (_model, real) => {
    real.world.tasks.failNext = count;
    note(real, "tasks outage");
    return Promise.resolve();
  }),
);

/** Stripe has trouble in front of its API for the next request or two (nothing executed, nothing stored). */
const outageCommand = fc.integer({ min: 1, max: 2 }).map((count) =>
  command(`outage(${count})`, (_model, real) => {
    real.world.stripe.failNext(count, "/v1/", "POST");
    return Promise.resolve();
  }),
);

/**
 * A run in three acts, so that nearly every run has money, an ending and faults after it (each act shrinks on its
 * own): friends give and pay while Stripe's events come and go; the wish closes, expires, is funded, or stays open;
 * then refunds and payouts are made through duplicated, lost, held and last task attempts, late and reordered events,
 * disputes ending, dashboard refunds, late payments, ops retries and outages.
 */
const giving = fc.commands(
  [
    donateCommand,
    donateAndPayCommand,
    donateAndPayCommand,
    donateAndPayCommand,
    payCommand,
    deliverCommand,
    deliverCommand,
    deliverConcurrentlyCommand,
    fc.constant(deliverAllCommand),
    fc.constant(deliverAllCommand),
    disputeCommand,
    dashboardRefundCommand,
    refundModeCommand,
    cancelCommand,
    fc.constant(triggersCommand),
    outageCommand,
    tasksOutageCommand,
  ],
  { maxCommands: 6, size: "medium" },
);

const ending = fc.oneof(
  { weight: 3, arbitrary: closeCommand },
  { weight: 2, arbitrary: expireCommand },
  { weight: 3, arbitrary: fundCommand },
  { weight: 1, arbitrary: fc.constant(command("stays open", () => Promise.resolve())) },
);

const aftermath = fc.commands(
  [
    taskCommand,
    taskCommand,
    tasksCommand,
    tasksCommand,
    tasksCommand,
    deliverCommand,
    deliverCommand,
    deliverConcurrentlyCommand,
    fc.constant(triggersCommand),
    fc.constant(triggersCommand),
    fc.constant(releaseCommand),
    fc.constant(opsCommand),
    disputeCommand,
    closeDisputeCommand,
    closeDisputeCommand,
    dashboardRefundCommand,
    refundModeCommand,
    refundLaterCommand,
    donateAndPayCommand,
    payCommand,
    cancelCommand,
    fc.constant(sweepCommand),
    outageCommand,
    tasksOutageCommand,
  ],
  { maxCommands: 7, size: "medium" },
);

const runs = fc.record({ giving, ending, faults: tasksCommand, aftermath });

/**
 * Everything comes to rest, as time passes: held requests answered, pending refunds resolved, unpaid donations
 * abandoned (the sweep a day later), every event, trigger and task, and ops retrying whatever waits for them.
 */
async function settle(model: Model, real: Real): Promise<void> {
  const { world, wishId } = real;
  world.stripe.failNext(0);
  world.tasks.failNext = 0;
  world.stripe.refundsApi.nextStatus = "succeeded";
  await releaseAll(real);
  const intents = new Set(model.donations.map((donation) => donation.pi));
  const pendingRefunds = () => [...world.stripe.refundsApi.refunds.values()].filter((refund) => refund.status === "pending" && intents.has(String(refund.payment_intent)));
  await sweepCommand.run(model, real);
  for (let round = 0; round < 6; round++) {
    for (const refund of pendingRefunds()) world.stripe.refundsApi.settle(String(refund.id), "succeeded");
    await world.quiesce(wishId);
    if ((await opsRetries(real)) === 0 && pendingRefunds().length === 0) return;
  }
  throw new Error("ops retries did not settle the wish");
}

interface Truth {
  paymentStatus: string;
  status: string;
  net: number;
  entries: number;
}

/** What Stripe's objects say one donation is: the expected state of our donation and its number of ledger entries. */
function truthOf(real: Real, pi: string): Truth {
  const intent = intentOf(real, pi) as Obj;
  const failed = intent.status === "requires_payment_method" && intent.last_payment_error != null;
  const paymentStatus = intent.status === "succeeded" ? "succeeded" : intent.status === "canceled" ? "canceled" : intent.status === "processing" ? "processing" : failed ? "failed" : "pending";
  if (paymentStatus !== "succeeded") return { paymentStatus, status: paymentStatus, net: 0, entries: 0 };
  const refunds = real.world.stripe.refundsApi.refundsOf(pi);
  const disputes = disputesOf(real, pi);
  const received = Number(intent.amount_received);
  const refunded = refunds.reduce((sum, refund) => sum + (refund.status === "succeeded" ? Number(refund.amount) : 0), 0);
  const withdrawn = disputes.reduce((sum, dispute) => sum + (WITHDRAWN.has(dispute.status) ? Number(dispute.amount) : 0), 0);
  const entries =
    1 +
    refunds.reduce((sum, refund) => sum + (refund.status === "succeeded" ? 1 : refund.status === "failed" || refund.status === "canceled" ? 2 : 0), 0) +
    disputes.reduce((sum, dispute) => sum + (dispute.status === "won" ? 2 : 1), 0);
  const disputed = disputes.some((dispute) => dispute.status !== "won");
  return { paymentStatus, status: disputed ? "disputed" : refunded >= received ? "refunded" : "succeeded", net: received - refunded - withdrawn, entries };
}

async function checkRun(model: Model, real: Real): Promise<void> {
  const { world, wishId } = real;
  const db = world.db;
  // One round trip for the wish, every donation, its supporter entry and every donor's contribution.
  const refs = [
    db.doc(`wishes/${wishId}`),
    ...model.donations.flatMap((donation) => [db.doc(`donations/${donation.id}`), db.doc(`wishes/${wishId}/supporters/${donation.id}`)]),
    ...DONORS.map((donor) => db.doc(`users/${donor}/contributions/${wishId}`)),
  ];
  const [wishSnap, ...snaps] = await db.getAll(...refs);
  const wish = wishSnap?.data() ?? {};
  const nets = new Map<string, number>();
  const charged = new Set<string>();
  for (const [index, donation] of model.donations.entries()) {
    const truth = truthOf(real, donation.pi);
    const ours = snaps[2 * index]?.data() ?? {};
    const what = `${donation.id}: ${JSON.stringify(truth)} vs ours ${String(ours.status)}/${String(ours.netAmount)}`;
    assert.equal(ours.paymentStatus, truth.paymentStatus, `payment status, ${what}`);
    assert.equal(ours.status, truth.status, `status, ${what}`);
    assert.equal(ours.netAmount, truth.net, `net amount, ${what}`);
    assert.equal((ours.ledgerEntryIds as string[]).length, truth.entries, `ledger entries, ${what}`);
    const supporter = snaps[2 * index + 1];
    assert.equal(supporter?.exists, truth.paymentStatus === "succeeded" && truth.net > 0, `supporter shown iff money stays, ${what}`);
    nets.set(donation.donor, (nets.get(donation.donor) ?? 0) + truth.net);
    if (truth.paymentStatus === "succeeded") charged.add(donation.donor);
  }
  const raised = [...nets.values()].reduce((sum, net) => sum + net, 0);
  assert.equal(wish.raised, raised, "wish.raised");
  assert.equal(wish.donorCount, charged.size, "wish.donorCount");
  assert.equal(wish.hasSucceededDonation, charged.size > 0, "wish.hasSucceededDonation");
  for (const [index, donor] of DONORS.entries()) {
    const contribution = snaps[2 * model.donations.length + index];
    assert.equal(contribution?.exists, charged.has(donor), `contribution of ${donor} exists`);
    if (contribution?.exists) assert.equal(contribution.get("amount"), nets.get(donor) ?? 0, `contribution of ${donor}`);
  }
  const folded = /^(payment_intent|refund|charge\.refund|charge\.dispute|transfer)\./;
  const delivered = world.stripe.events.filter((event) => world.delivered.has(event.id) && folded.test(event.type)).map((event) => event.id);
  // Every delivered event is recorded once: on the donation it changed (providerEventIds), else in providerEvents.
  const recorded = delivered.length === 0 ? [] : await db.getAll(...delivered.map((id) => db.collection("providerEvents").doc(id)));
  const onDonations = (await db.collection("donations").where("wishId", "==", wishId).get()).docs.flatMap((doc) => (doc.get("providerEventIds") as string[] | undefined) ?? []);
  assert.equal(new Set(onDonations).size, onDonations.length, "no event recorded twice on donations");
  const unrecorded = delivered.filter((id, index) => !recorded[index]?.exists && !onDonations.includes(id));
  assert.deepEqual(unrecorded, [], "every delivered event is recorded");
  assert.ok(delivered.every((id, index) => !(recorded[index]?.exists && onDonations.includes(id))), "each in one place");

  // The money invariant and Stripe's agreement, by the audit itself.
  world.clock.advance(AUDIT_GRACE_MS + 60_000);
  const audit = await auditWish({ ...world.refundDeps, payouts: world.payouts }, wishId, { repair: false });
  assert.ok(audit);
  if (audit.inFlight) {
    const requests = await db.collection("refundRequests").where("wishId", "==", wishId).get();
    const entries = await db.collection("ledger").where("wishId", "==", wishId).get();
    assert.fail(`not at rest after settling (now ${world.clock.now().toISOString()}, entries ${JSON.stringify(entries.docs.map((doc) => [doc.id, String(doc.get("createdAt"))]))}): payout ${JSON.stringify(await world.doc(`payouts/${wishId}`))}; refund requests ${JSON.stringify(requests.docs.map((doc) => doc.data()))}`);
  }
  assert.deepEqual(audit.ours, audit.stripe, "Stripe and we agree on every figure");
  const breaches = audit.breaches.filter((breach) => !(breach.kind === "platform_loss" && wish.status === "funded"));
  assert.deepEqual(breaches.map((breach) => `${breach.kind}: ${breach.suspectedCause}`), []);
  const payout = await world.doc(`payouts/${wishId}`);
  if (wish.status === "closed" || wish.status === "expired") {
    const donations = (await db.collection("donations").withConverter(zodConverter(donationSchema)).where("wishId", "==", wishId).get()).docs.map((doc) => doc.data());
    assert.equal(audit.held, waitingForTheBank(donations), "a closed or expired wish holds nothing (but what an open chargeback blocks)");
  }
  if (wish.status === "funded") {
    assert.equal(payout?.status, "paid", "a funded wish is paid out");
    assert.equal(audit.held, 0 - Number(payout?.shortfall ?? 0), "a paid-out wish holds nothing (or the platform's documented loss)");
  }
  if (wish.status === "open") assert.equal(audit.ours.transfers, 0, "an open wish pays out nothing");
}

describe("money model: one wish's money under every fault together (fast-check commands, money database)", function () {
  // 200 runs take about a minute on a quiet 2-core machine; shared machines under load need far longer.
  this.timeout(3_600_000);

  before(async function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
    await clearMoneyDb();
    const setup = new MoneyWorld();
    setup.stripe.connect.addPlatformBalance("czk", 10_000_000);
    await setup.onboard(OWNER);
    for (const donor of DONORS) await setup.db.doc(`users/${donor}`).set({ displayName: donor, photoUrl: null, facebookLinked: false, createdAt: new Date(), updatedAt: new Date() });
  });

  it(`the invariant holds and Stripe and we agree after every run (${RUNS} runs)`, async () => {
    let run = 0;
    const started = Date.now();
    let commandsRun = 0;
    const timing = { settle: 0, check: 0 };
    await fc.assert(
      fc.asyncProperty(runs, async (acts) => {
        const world = new MoneyWorld();
        // Each run is a world of its own: its donors start with empty donation rate windows (10 per hour), which
        // the runs before it would otherwise have used up.
        await Promise.all(DONORS.map((donor) => rateWindowRef(world.db, donor, "donations").delete()));
        const wishId = `model-${Date.now()}-${++run}`;
        await world.seedWish(wishId, { amount: WISH_AMOUNT, viewerIds: [OWNER, ...DONORS] });
        const real: Real = { world, wishId, held: [], log: [], reached: new Set() };
        const model: Model = { donations: [] };
        try {
          const setup = () => ({ model, real });
          await fc.asyncModelRun(setup, acts.giving);
          await fc.asyncModelRun(setup, [acts.ending, acts.faults]);
          await fc.asyncModelRun(setup, acts.aftermath);
          const settling = Date.now();
          await settle(model, real);
          const checking = Date.now();
          await checkRun(model, real);
          timing.settle += checking - settling;
          timing.check += Date.now() - checking;
        } finally {
          await releaseAll(real);
          commandsRun += real.log.length;
          await noteOutcome(real);
          for (const what of real.reached) reached.set(what, (reached.get(what) ?? 0) + 1);
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH === undefined ? {} : { path: PATH, endOnFailure: true }) },
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`      ${RUNS} runs, ${commandsRun} commands in ${seconds.toFixed(1)} s (settling ${(timing.settle / 1000).toFixed(1)} s, checking ${(timing.check / 1000).toFixed(1)} s); runs reaching:`);
    for (const [what, runs] of [...reached.entries()].sort()) console.log(`        ${what}: ${runs}`);
    if (process.env.ELATEME_MONEY_TIMING) for (const [kind, ms] of [...commandTime.entries()].sort((a, b) => b[1] - a[1])) console.log(`        time ${kind}: ${ms} ms`);
  });
});

/** What a run ended with, for the coverage lines. */
async function noteOutcome(real: Real): Promise<void> {
  const { world, wishId } = real;
  const wish = await world.doc(`wishes/${wishId}`);
  if (typeof wish?.status === "string") note(real, `ended ${wish.status}`);
  const transfers = world.stripe.connect.transfersOf(transferGroupOf(wishId)).length;
  if (transfers > 1) note(real, "top-up transfer");
  const ours = await world.db.collection("refundRequests").where("wishId", "==", wishId).get();
  for (const request of ours.docs) {
    note(real, `refund request ${String(request.get("status"))}`);
    if (Number(request.get("generation")) > 0) note(real, `refund generation > 0 (${String(request.get("reason"))})`);
  }
  const payout = await world.doc(`payouts/${wishId}`);
  if (Number(payout?.shortfall ?? 0) > 0) note(real, "platform loss after payout");
  if (world.stripe.events.some((event) => event.type === "charge.dispute.closed" && world.delivered.has(event.id))) note(real, "dispute closed");
}
