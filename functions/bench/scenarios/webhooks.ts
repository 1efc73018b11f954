// Hot wish and spread load: N donations, each confirmed by a signed payment_intent.succeeded webhook delivered
// through the real webhook handler, `handlePaymentWebhook` (src/settlement/webhook.ts: the function the deployed
// `stripeWebhook` trigger calls with the request's raw body and Stripe-Signature header), called in-process
// against the Firestore emulator with the real Stripe provider (signature verified by stripe.webhooks.constructEvent).
// In-process rather than HTTP to the Functions emulator: the emulator starts one Node worker process per concurrent
// request (64 processes at concurrency 64 on a 2-core machine), which would measure the emulator, not the handler.
import Stripe from "stripe";
import type { Firestore } from "firebase-admin/firestore";
import { systemClock } from "../../src/lib/clock";
import { donationSchema, newPendingDonationState } from "../../src/model/donation";
import type { Donation } from "../../src/model/donation";
import { handlePaymentWebhook } from "../../src/settlement/webhook";
import { StripeWebhookVerifier } from "../../src/payments/stripe";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { FOLD_QUEUE, foldTaskPayload } from "../../src/donations/counters";
import type { EnqueueOptions, TaskEnqueuer } from "../../src/lib/tasks";
import { recordCommit, startDocumentWriteLog } from "../lib/counting";
import type { FoldReport, FoldRequest, FoldWorkerData } from "../lib/fold-worker";
import { percentile } from "../lib/stats";
import type { BenchContext } from "../lib/context";
import { runLoad } from "../lib/load";
import { loadScenario, sampleOf } from "../lib/results";
import type { CheckResult, RepeatSample, ScenarioResult } from "../lib/results";
import { amountOf } from "./baseline";
import { benchWish } from "./seed";

const WEBHOOK_SECRET = "whsec_bench_local_only";
/** Every DUPLICATE_EVERY-th event is delivered a second time, later in the run (Stripe delivers at least once). */
const DUPLICATE_EVERY = 20;
/** The fold queue's retry budget (index.ts, foldWishCounters' retryConfig.maxAttempts). */
const FOLD_MAX_ATTEMPTS = 20;
const FOLD_WORKER_FILE = path.join(__dirname, "..", "lib", "fold-worker.ts");

export interface WebhookPlan {
  run: string;
  wishIds: string[];
  donationIds: string[];
  /** Index of the donation each delivery confirms (duplicates included). */
  deliveries: number[];
  /** The donations were made while their wish was busy (`busyWish`, on the donation and in the event's metadata). */
  busyWish?: boolean;
}

/** A donation as the `donate` callable leaves it: pending, with its PaymentIntent id. */
export function pendingDonation(i: number, wishId: string, run: string, busyWish = false): Donation {
  const now = new Date();
  return donationSchema.parse({
    wishId,
    donorId: `donor-${run}-${i}`,
    donorDisplayName: `Donor ${i}`,
    amount: amountOf(i),
    currency: "CZK",
    message: null,
    anonymous: i % 7 === 0,
    ...(busyWish ? { busyWish: true } : {}),
    ...newPendingDonationState(now, "card"),
    customerId: `cus_bench_${i}`,
    paymentIntentId: `pi_${run}_${i}`,
  });
}

/** Seeds `wishes` wishes and `donations` pending donations spread round-robin over them. */
export async function seedDonations(db: Firestore, run: string, wishes: number, donations: number, busyWish = false): Promise<WebhookPlan> {
  const wishIds = Array.from({ length: wishes }, (_, w) => `${run}-wish-${w}`);
  const donationIds = Array.from({ length: donations }, (_, i) => `${run}-don-${i}`);
  const writes: [string, Record<string, unknown>][] = [
    ...wishIds.map((id, w): [string, Record<string, unknown>] => [`wishes/${id}`, benchWish(`${run}-owner-${w}`)]),
    ...donationIds.map((id, i): [string, Record<string, unknown>] => [`donations/${id}`, pendingDonation(i, wishIds[i % wishes] ?? "", run, busyWish)]),
  ];
  const commits: Promise<unknown>[] = [];
  for (let start = 0; start < writes.length; start += 500) {
    const batch = db.batch();
    for (const [path, data] of writes.slice(start, start + 500)) batch.set(db.doc(path), data);
    commits.push(batch.commit());
  }
  await Promise.all(commits);
  const deliveries = donationIds.map((_, i) => i);
  // Duplicates go in after the half-way mark, so some race their original and some arrive long after it.
  const half = Math.floor(donations / 2);
  for (let i = 0; i < donations; i += DUPLICATE_EVERY) deliveries.splice(Math.min(deliveries.length, half + i), 0, i);
  return { run, wishIds, donationIds, deliveries, busyWish };
}

/** The signed Stripe event that confirms donation `i` (as Stripe would send it). */
export function succeededEvent(plan: WebhookPlan, i: number, wishes: number): string {
  const donationId = plan.donationIds[i] ?? "";
  const wishId = plan.wishIds[i % wishes] ?? "";
  const amount = amountOf(i);
  return JSON.stringify({
    id: `evt_${plan.run}_${i}`,
    object: "event",
    api_version: "2025-10-29.clover",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "payment_intent.succeeded",
    data: {
      object: {
        id: `pi_${plan.run}_${i}`,
        object: "payment_intent",
        amount,
        amount_received: amount,
        currency: "czk",
        status: "succeeded",
        customer: `cus_bench_${i}`,
        latest_charge: `ch_${plan.run}_${i}`,
        last_payment_error: null,
        metadata: { donationId, wishId, donorId: `donor-${plan.run}-${i}`, ...(plan.busyWish ? { busyWish: "1" } : {}) },
      },
    },
  });
}

export function webhookVerifier(): { webhooks: StripeWebhookVerifier; stripe: Stripe } {
  // No network: the verifier only checks signatures (constructEvent is local).
  const stripe = new Stripe("sk_test_bench_local_only", { telemetry: false, host: "127.0.0.1", port: 9, protocol: "http" });
  return { webhooks: new StripeWebhookVerifier(stripe, WEBHOOK_SECRET), stripe };
}

export interface SignedDelivery {
  donation: number;
  rawBody: Buffer;
  signature: string;
}

export function signDeliveries(stripe: Stripe, plan: WebhookPlan, wishes: number): SignedDelivery[] {
  return plan.deliveries.map((i) => {
    const payload = succeededEvent(plan, i, wishes);
    return { donation: i, rawBody: Buffer.from(payload), signature: stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) };
  });
}

/**
 * Cloud Tasks for the fold of the wish counters: a task runs `foldWishCounters` at its schedule time (the end of its
 * one-second interval), as the deployed foldWishCounters task would, in a worker thread of its own (lib/fold-worker.ts:
 * in production the folds run on other instances than the webhooks); a repeated id is refused as Cloud Tasks refuses
 * it. Records each fold's shard read time and when it committed, for the lag of `raised`, and feeds the folds' commits
 * into the per-document write log.
 */
export class FoldWorker implements TaskEnqueuer {
  readonly folds: { wishId: string; readAt: number; doneAt: number }[] = [];
  /** Folds that failed every attempt (Cloud Tasks would give up too), and the retried failures by message. */
  failures = 0;
  readonly retried = new Map<string, number>();
  private readonly ids = new Set<string>();
  private readonly worker: Worker;
  private pending = 0;
  private idle: (() => void)[] = [];
  private crashed: Error | null = null;
  private readonly started: Promise<void>;
  private markReady: () => void = () => undefined;

  constructor(ctx: Pick<BenchContext, "projectId" | "options">) {
    const workerData: FoldWorkerData = { projectId: ctx.projectId, database: ctx.options.database, maxAttempts: FOLD_MAX_ATTEMPTS };
    // The thread compiles its TypeScript with tsx, as the benchmark itself (run by tsx, or by mocha with tsx/cjs).
    this.worker = new Worker(`require("tsx/cjs"); require(${JSON.stringify(FOLD_WORKER_FILE)});`, { eval: true, workerData });
    this.started = new Promise((resolve) => (this.markReady = resolve));
    this.worker.on("message", (report: FoldReport) => this.onReport(report));
    this.worker.on("error", (error) => {
      this.crashed = error;
      this.markReady();
      this.settleAll();
    });
  }

  /** Resolves once the thread has loaded the fold and opened its client (fold-worker.ts); rejects if it crashed. */
  async ready(): Promise<void> {
    await this.started;
    if (this.crashed) throw this.crashed;
  }

  enqueue(queue: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<"enqueued" | "duplicate"> {
    if (queue !== FOLD_QUEUE) return Promise.resolve("enqueued");
    if (options.id && this.ids.has(options.id)) return Promise.resolve("duplicate");
    if (options.id) this.ids.add(options.id);
    const { wishId } = foldTaskPayload.parse(payload);
    this.pending++;
    this.worker.postMessage({ wishId, delayMs: Math.max(0, (options.scheduleTime?.getTime() ?? Date.now()) - Date.now()) } satisfies FoldRequest);
    return Promise.resolve("enqueued");
  }

  private onReport(report: FoldReport): void {
    if (report.type === "ready") this.markReady();
    else if (report.type === "folded") this.folds.push({ wishId: report.wishId, readAt: report.readAt, doneAt: report.doneAt });
    else if (report.type === "retried") this.retried.set(report.reason, (this.retried.get(report.reason) ?? 0) + 1);
    else if (report.type === "commit") recordCommit(report.documents, report.at);
    else {
      if (report.failed) this.failures++;
      this.pending--;
      if (this.pending === 0) this.settleAll();
    }
  }

  private settleAll(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Waits for every fold queued so far (and their retries), then stops the thread. */
  async drain(): Promise<void> {
    if (this.pending > 0 && !this.crashed) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.worker.terminate();
    if (this.crashed) throw this.crashed;
  }

  /**
   * For each donation confirmed at `at` on `wishId`: how long until a fold that read the shards after it committed; 0
   * for one the webhook wrote straight into its (quiet) wish, which shows it at once.
   */
  lagsMs(confirmations: { wishId: string; at: number; direct: boolean }[]): number[] {
    const byWish = new Map<string, { readAt: number; doneAt: number }[]>();
    for (const fold of this.folds) byWish.set(fold.wishId, [...(byWish.get(fold.wishId) ?? []), fold]);
    return confirmations.map(({ wishId, at, direct }) => {
      if (direct) return 0;
      const covering = (byWish.get(wishId) ?? []).filter((fold) => fold.readAt >= at).map((fold) => fold.doneAt);
      return covering.length > 0 ? Math.min(...covering) - at : Number.POSITIVE_INFINITY;
    });
  }
}

class WebhookStatusError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** Exact totals after a run: every confirmed donation counted once on its wish and in the ledger, nothing else. */
export async function verifyTotals(db: Firestore, plan: WebhookPlan, confirmed: ReadonlySet<number>): Promise<CheckResult> {
  const expectedRaised = new Map<string, number>();
  const expectedDonors = new Map<string, number>();
  for (const i of confirmed) {
    const wishId = plan.wishIds[i % plan.wishIds.length] ?? "";
    expectedRaised.set(wishId, (expectedRaised.get(wishId) ?? 0) + amountOf(i));
    expectedDonors.set(wishId, (expectedDonors.get(wishId) ?? 0) + 1);
  }
  const snaps = await db.getAll(...plan.wishIds.map((id) => db.doc(`wishes/${id}`)));
  let wrongWishes = 0;
  let raised = 0;
  for (const snap of snaps) {
    const r = Number(snap.get("raised"));
    raised += r;
    if (r !== (expectedRaised.get(snap.id) ?? 0) || Number(snap.get("donorCount")) !== (expectedDonors.get(snap.id) ?? 0)) wrongWishes++;
  }
  const expected = [...expectedRaised.values()].reduce((a, b) => a + b, 0);
  // The database is cleared before each run, so everything in these collections belongs to this run.
  const ledgerAll = (await db.collection("ledger").count().get()).data().count;
  // An event that changed a donation is recorded on it (providerEventIds); one that changed nothing in providerEvents.
  const donationDocs = await db.collection("donations").select("providerEventIds").get();
  const eventIds = donationDocs.docs.flatMap((doc) => (doc.get("providerEventIds") as string[] | undefined) ?? []);
  const events = new Set(eventIds).size + (await db.collection("providerEvents").count().get()).data().count;
  const succeeded = (await db.collection("donations").where("status", "==", "succeeded").count().get()).data().count;
  const lost = Math.max(0, confirmed.size - ledgerAll);
  const doubled = Math.max(0, ledgerAll - confirmed.size);
  const ok =
    wrongWishes === 0 && raised === expected && ledgerAll === confirmed.size && succeeded === confirmed.size && events === confirmed.size;
  return {
    ok,
    detail:
      `${ok ? "exact" : "NOT exact"}: ${confirmed.size} donations confirmed, raised ${raised}/${expected}, ${ledgerAll} ledger entries, ` +
      `${events} events recorded, ${succeeded} succeeded, ${lost} lost, ${doubled} double-counted, ${wrongWishes} wishes off`,
  };
}

async function webhookRun(ctx: BenchContext, wishes: number, concurrency: number, rep: number, prefix = "w"): Promise<{ sample: RepeatSample; check: CheckResult }> {
  const { db, options } = ctx;
  await ctx.clear();
  const run = `${prefix}${wishes}c${concurrency}r${rep}`;
  const plan = await seedDonations(db, run, wishes, options.donations);
  const { webhooks, stripe } = webhookVerifier();
  const deliveries = signDeliveries(stripe, plan, wishes);
  const folds = new FoldWorker(ctx);
  await folds.ready();
  const deps = { db, clock: systemClock, webhooks, tasks: folds };
  const confirmed = new Set<number>();
  const confirmations: { wishId: string; at: number; direct: boolean }[] = [];
  // A commit that books a charge and writes the wish itself (not a shard) is a quiet-wish donation: no lag.
  const direct = new Set<string>();
  const writeLog = startDocumentWriteLog(undefined, (documents) => {
    const charge = documents.find((path) => path.startsWith("ledger/charge_"));
    if (charge && documents.some((path) => /^wishes\/[^/]+$/.test(path))) direct.add(charge.slice("ledger/charge_".length));
  });
  const load = await runLoad({
    total: deliveries.length,
    concurrency,
    timeLimitMs: options.webhookTimeLimitMs,
    opTimeoutMs: 120_000,
    op: async (index) => {
      const delivery = deliveries[index];
      if (!delivery) throw new Error(`no delivery ${index}`);
      const response = await handlePaymentWebhook(deps, { method: "POST", rawBody: delivery.rawBody, signature: delivery.signature });
      if (response.status !== 200) throw new WebhookStatusError(`HTTP ${response.status}`);
      if (!confirmed.has(delivery.donation)) {
        confirmations.push({ wishId: plan.wishIds[delivery.donation % wishes] ?? "", at: Date.now(), direct: direct.has(`pi_${plan.run}_${delivery.donation}`) });
      }
      confirmed.add(delivery.donation);
    },
  });
  // The last folds run a second after the last donations: exact totals are checked once they are done.
  await folds.drain();
  const hottest = writeLog.stop();
  const lags = folds.lagsMs(confirmations).sort((a, b) => a - b);
  const check = await verifyTotals(db, plan, confirmed);
  check.detail += `; ${confirmations.filter((c) => c.direct).length} straight into a quiet wish, the rest through shards and ${folds.folds.length} folds`;
  if (hottest.document) check.detail += `; hottest document ${hottest.document.replace(run, "…")} (${hottest.maxPerSec} writes/s in its busiest 10 s)`;
  if (folds.retried.size > 0) check.detail += `; folds retried after a failure: ${[...folds.retried].map(([reason, n]) => `${n}× ${reason}`).join(", ")}`;
  if (folds.failures > 0) {
    check.ok = false;
    check.detail += `; ${folds.failures} folds failed`;
  }
  const donationsPerSec = (confirmed.size / load.wallMs) * 1000;
  const sample = sampleOf(load, {
    deliveries: load.attempted,
    donations: confirmed.size,
    deliveriesPerSec: load.throughputPerSec,
    maxDocWritesPerSec: hottest.maxPerSec,
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    folds: folds.folds.length,
  });
  // The figure reported is donations confirmed per second (duplicate deliveries are work, not donations).
  sample.throughputPerSec = donationsPerSec;
  return { sample, check };
}

/** Warm-up rounds of the webhook path go on until a round's rate is within this fraction of the last one's. */
const WARM_STEADY = 0.05;

/**
 * Runs the webhook path (hot wish, c=64, with its folds) in unmeasured rounds until its rate stops rising: measured on
 * our 2-core machines, ten rounds of 2,000 deliveries in a row went from 203 to 616 donations/s as the emulator's JVM
 * and this process compiled their hot code (the emulator's CPU per delivery fell from 5.4 ms to 0.8 ms). Without this
 * the first webhook configurations are measured on a cold JVM and the later ones on a warm one, and the ratios say
 * more about their order than about the code. Returns each round's rate, for the report.
 */
export async function warmUpWebhooks(ctx: BenchContext): Promise<number[]> {
  const rates: number[] = [];
  for (let round = 0; round < ctx.options.warmUpRounds; round++) {
    const rate = await webhookRun(ctx, 1, 64, round, "warm").then(({ sample }) => sample.throughputPerSec);
    rates.push(Math.round(rate));
    const previous = rates.at(-2);
    if (previous !== undefined && Math.abs(rate - previous) <= WARM_STEADY * previous) break;
  }
  await ctx.clear();
  return rates;
}

export async function webhookScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  const { donations, spreadWishes, concurrencies, webhookRepeats } = ctx.options;
  const method = "handlePaymentWebhook (src/settlement/webhook.ts) in-process, signed payment_intent.succeeded events, 5% redelivered";
  const results: ScenarioResult[] = [];
  for (const [group, wishes] of [
    ["hot-wish", 1],
    ["spread", spreadWishes],
  ] as const) {
    for (const concurrency of concurrencies) {
      ctx.options.log(`[bench]   ${group} c${concurrency} ...`);
      const repeats: RepeatSample[] = [];
      const checks: CheckResult[] = [];
      for (let rep = 0; rep < webhookRepeats; rep++) {
        const { sample, check } = await webhookRun(ctx, wishes, concurrency, rep);
        repeats.push(sample);
        checks.push(check);
      }
      results.push(
        loadScenario(
          {
            id: `${group}.c${concurrency}`,
            group,
            title: wishes === 1 ? `Webhooks, ${donations} donations to 1 wish` : `Webhooks, ${donations} donations over ${wishes} wishes`,
            concurrency,
            n: donations,
            method,
          },
          repeats,
          checks.find((c) => !c.ok) ?? checks[0],
        ),
      );
    }
  }
  return results;
}
