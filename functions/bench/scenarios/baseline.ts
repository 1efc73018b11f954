// Baselines: what the Firestore emulator itself does on this machine, measured in the same run as everything that
// is compared to them.
import { FieldValue } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import type { BenchContext } from "../lib/context";
import { runLoad, timed } from "../lib/load";
import { startDocumentWriteLog } from "../lib/counting";
import { loadScenario, sampleOf, singleCallSample } from "../lib/results";
import type { CheckResult, RepeatSample, ScenarioResult } from "../lib/results";
import { render } from "../../src/notifications/catalog";
import { inboxItem, pushState } from "../../src/notifications/delivery";
import { notificationsCollection } from "../../src/notifications/model";

export const RAW_WRITES_ID = "baseline.parallel-writes";
export const RAW_BATCHES_ID = "baseline.batched-fan-out";
export const RAW_INBOX_ITEMS_ID = "baseline.batched-inbox-items";

/** A donation-sized document (what a handler would write per payment). */
export function donationLike(index: number, wishId: string): Record<string, unknown> {
  return {
    wishId,
    donorId: `donor-${index % 97}`,
    amount: 1_500 + (index % 10) * 100,
    currency: "CZK",
    status: "succeeded",
    createdAt: new Date(),
  };
}

export const amountOf = (index: number): number => 1_500 + (index % 10) * 100;

async function countDocs(db: Firestore, collection: string): Promise<number> {
  const snap = await db.collection(collection).count().get();
  return snap.data().count;
}

function combine(checks: CheckResult[]): CheckResult {
  const bad = checks.filter((check) => !check.ok);
  return bad.length ? { ok: false, detail: bad.map((check) => check.detail).join("; ") } : (checks[0] ?? { ok: true, detail: "no runs" });
}

/**
 * Warms the emulator's JVM and the client's channels before anything is timed: the first seconds of a fresh
 * emulator run several times slower than the rest and would otherwise land in the first baseline repeat.
 */
export async function warmUp(ctx: BenchContext): Promise<void> {
  const { db, options } = ctx;
  const writes = Math.max(100, Math.round(options.parallelWrites / 2));
  await runLoad({
    total: writes,
    concurrency: 64,
    timeLimitMs: 20_000,
    op: async (i) => {
      await db.collection("benchWarmup").doc(`d${i}`).set(donationLike(i, "warm-up"));
    },
  });
  const wish = db.collection("benchWarmup").doc("hot");
  await runLoad({
    total: 10,
    concurrency: 1,
    timeLimitMs: 10_000,
    op: async (i) => {
      await db.runTransaction(async (tx) => {
        const snap = await tx.get(wish);
        tx.set(wish, { raised: Number(snap.get("raised") ?? 0) + amountOf(i) });
      });
    },
  });
}

/**
 * Repeats of a load at concurrency 64 whose operations write `docsPerOp` distinct documents each into `collection`
 * (what `prepare` returns for the repeat); the check counts what was stored against what was acknowledged.
 */
async function distinctWritesLoad(
  ctx: BenchContext,
  meta: { id: string; title: string },
  docsPerOp: number,
  prepare: (rep: number) => Promise<{ collection: string; op: (i: number) => Promise<void> }>,
): Promise<ScenarioResult> {
  const { db, options } = ctx;
  const concurrency = 64;
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.repeats; rep++) {
    const { collection, op } = await prepare(rep);
    const writeLog = startDocumentWriteLog();
    const load = await runLoad({ total: options.parallelWrites, concurrency, timeLimitMs: 60_000, opTimeoutMs: 30_000, op });
    repeats.push(sampleOf(load, { maxDocWritesPerSec: writeLog.stop().maxPerSec }));
    const stored = await countDocs(db, collection);
    const acknowledged = docsPerOp * load.succeeded;
    checks.push({ ok: stored === acknowledged, detail: `${stored} stored of ${acknowledged} acknowledged` });
  }
  return loadScenario({ ...meta, group: "baseline", concurrency, n: options.parallelWrites }, repeats, combine(checks));
}

/** Parallel single-document writes to distinct documents at concurrency 64: the raw rate everything is compared to. */
export async function parallelWrites(ctx: BenchContext): Promise<ScenarioResult> {
  const { db } = ctx;
  return distinctWritesLoad(ctx, { id: RAW_WRITES_ID, title: "Parallel writes, distinct documents (raw rate)" }, 1, (rep) => {
    const collection = `benchWrites-r${rep}`;
    return Promise.resolve({
      collection,
      op: async (i: number) => {
        await db.collection(collection).doc(`d${i}`).set(donationLike(i, "w"));
      },
    });
  });
}

export const DONATION_SHAPED_ID = "baseline.donation-shaped";

/**
 * The shape of work the webhook does per donation, with none of its logic: per operation one `getAll` of 2 documents
 * and one commit of 5 writes, all to distinct documents, at concurrency 64. What this machine's emulator and client
 * can do at most for that shape, beside the raw rate of one write per operation: the hot wish's ratio to it says how
 * much the handler's own logic costs (issue 17).
 */
export async function donationShapedWrites(ctx: BenchContext): Promise<ScenarioResult> {
  const { db, options } = ctx;
  const title = "Donation-shaped: getAll of 2 + commit of 5, distinct documents";
  return distinctWritesLoad(ctx, { id: DONATION_SHAPED_ID, title }, 5, async (rep) => {
    const collection = `benchShaped-r${rep}`;
    const seeds = db.collection(`benchShapedReads-r${rep}`);
    const reads = 2 * options.parallelWrites;
    const seedBatches: Promise<unknown>[] = [];
    for (let start = 0; start < reads; start += 500) {
      const batch = db.batch();
      for (let k = start; k < Math.min(start + 500, reads); k++) batch.set(seeds.doc(`r${k}`), donationLike(k, "r"));
      seedBatches.push(batch.commit());
    }
    await Promise.all(seedBatches);
    return {
      collection,
      op: async (i: number) => {
        await db.getAll(seeds.doc(`r${2 * i}`), seeds.doc(`r${2 * i + 1}`));
        const batch = db.batch();
        for (let k = 0; k < 5; k++) batch.set(db.collection(collection).doc(`d${i}-${k}`), donationLike(i, "w"));
        await batch.commit();
      },
    };
  });
}

/** A naive transaction per donation on one hot document: read the wish, add the amount, record the donation. */
export async function naiveHotTransactions(ctx: BenchContext, concurrency: number): Promise<ScenarioResult> {
  const { db, options } = ctx;
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.repeats; rep++) {
    const wish = db.collection("benchHot").doc(`txn-c${concurrency}-r${rep}`);
    const donations = `benchHot/txn-c${concurrency}-r${rep}/donations`;
    await wish.set({ raised: 0, donorCount: 0 });
    const writeLog = startDocumentWriteLog();
    const load = await runLoad({
      total: options.naiveTransactions,
      concurrency,
      timeLimitMs: options.txnTimeLimitMs,
      opTimeoutMs: 120_000,
      op: async (i) => {
        await db.runTransaction(async (tx) => {
          const snap = await tx.get(wish);
          const raised = Number(snap.get("raised") ?? 0);
          const donorCount = Number(snap.get("donorCount") ?? 0);
          tx.update(wish, { raised: raised + amountOf(i), donorCount: donorCount + 1 });
          tx.create(db.collection(donations).doc(`d${i}`), donationLike(i, wish.id));
        });
      },
    });
    repeats.push(sampleOf(load, { maxDocWritesPerSec: writeLog.stop().maxPerSec }));
    const expected = load.succeededIndexes.reduce((sum, i) => sum + amountOf(i), 0);
    const final = await wish.get();
    const stored = await countDocs(db, donations);
    const ok = final.get("raised") === expected && final.get("donorCount") === load.succeeded && stored === load.succeeded;
    checks.push({
      ok,
      detail: ok
        ? `exact: ${load.succeeded} committed, raised ${expected}`
        : `raised ${String(final.get("raised"))} vs ${expected}, count ${String(final.get("donorCount"))}/${stored} vs ${load.succeeded}`,
    });
  }
  return loadScenario(
    {
      id: `baseline.naive-transaction.c${concurrency}`,
      group: "baseline",
      title: "Naive transaction per donation, one hot document",
      concurrency,
      n: options.naiveTransactions,
    },
    repeats,
    combine(checks),
  );
}

/** FieldValue.increment on one hot document at concurrency 64 (no read, no transaction). */
export async function hotIncrements(ctx: BenchContext): Promise<ScenarioResult> {
  const { db, options } = ctx;
  const concurrency = 64;
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.repeats; rep++) {
    const wish = db.collection("benchHot").doc(`inc-r${rep}`);
    await wish.set({ raised: 0, donorCount: 0 });
    const writeLog = startDocumentWriteLog();
    const load = await runLoad({
      total: options.parallelWrites,
      concurrency,
      timeLimitMs: 60_000,
      opTimeoutMs: 30_000,
      op: async (i) => {
        await wish.update({ raised: FieldValue.increment(amountOf(i)), donorCount: FieldValue.increment(1) });
      },
    });
    repeats.push(sampleOf(load, { maxDocWritesPerSec: writeLog.stop().maxPerSec }));
    const expected = load.succeededIndexes.reduce((sum, i) => sum + amountOf(i), 0);
    const final = await wish.get();
    const ok = final.get("raised") === expected && final.get("donorCount") === load.succeeded;
    checks.push({ ok, detail: ok ? `exact: raised ${expected}` : `raised ${String(final.get("raised"))} vs ${expected}` });
  }
  return loadScenario(
    { id: "baseline.hot-increment", group: "baseline", title: "FieldValue.increment, one hot document", concurrency, n: options.parallelWrites },
    repeats,
    combine(checks),
  );
}

/** Feed-item-sized document for friend `i` (what a feed fan-out writes). */
export function feedItemLike(eventId: string): Record<string, unknown> {
  return {
    type: "wish.created",
    eventId,
    wishId: "bench-wish",
    wishTitle: "A bicycle",
    ownerId: "bench-owner",
    organizerId: "bench-owner",
    isSurprise: false,
    actorId: "bench-owner",
    amount: null,
    currency: null,
    commentId: null,
    createdAt: new Date(),
  };
}

/**
 * The inbox item the notification worker writes for a friend.joined (src/notifications/worker.ts): built by the same
 * functions, with its push already final. About twice the fields of a feed item (the push's state is a map of eight).
 */
export function inboxItemLike(eventId: string, locale: "cs" | "en"): Record<string, unknown> {
  const now = new Date();
  const push = pushState("sent", { attempts: 1, devices: 1, delivered: 1, finishedAt: now });
  return inboxItem({ type: "friend.joined", category: "friends", eventId, data: { userId: "bench-owner" }, createdAt: now, push }, render("friend_joined", [{ text: "Bench Owner" }], locale));
}

/** Writes `count` documents at `path(i)` as parallel 500-document batches; returns ms. */
async function writeParallelBatchesOf(db: Firestore, count: number, path: (i: number) => string, data: (i: number) => Record<string, unknown>): Promise<number> {
  const { ms } = await timed(async () => {
    const batches: Promise<unknown>[] = [];
    for (let start = 0; start < count; start += 500) {
      const batch = db.batch();
      for (let i = start; i < Math.min(start + 500, count); i++) batch.set(db.doc(path(i)), data(i));
      batches.push(batch.commit());
    }
    await Promise.all(batches);
  });
  return ms;
}

/** Writes `count` documents into `users/{friend}/feed/{eventId}` as parallel 500-document batches; returns ms. */
export function writeParallelBatches(db: Firestore, count: number, eventId: string): Promise<number> {
  return writeParallelBatchesOf(db, count, (i) => `users/friend-${i}/feed/${eventId}`, () => feedItemLike(eventId));
}

/** The raw fan-out baseline: `friends` feed documents written as parallel 500-document batches. */
export async function batchedFanOut(ctx: BenchContext): Promise<ScenarioResult> {
  const { db, options } = ctx;
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.repeats; rep++) {
    const eventId = `raw-batches-r${rep}`;
    const ms = await writeParallelBatches(db, options.friends, eventId);
    const stored = (await db.collectionGroup("feed").where("eventId", "==", eventId).count().get()).data().count;
    checks.push({ ok: stored === options.friends, detail: `${stored} of ${options.friends} feed documents stored` });
    repeats.push(singleCallSample(options.friends, stored, ms, { writes: options.friends }));
  }
  const result = loadScenario(
    {
      id: RAW_BATCHES_ID,
      group: "fan-out",
      title: `Raw fan-out: ${options.friends} docs as parallel 500-doc batches`,
      concurrency: null,
      n: options.friends,
    },
    repeats,
    combine(checks),
  );
  result.extra = { writes: options.friends, reads: 0 };
  return result;
}

/**
 * The same raw write with the notification fan-out's own documents: `friends` inbox items, as the worker builds them,
 * in parallel 500-document batches, no reads and no logic. The notification fan-out is also reported against it, so
 * that what its reads and unread counters cost is told apart from what its bigger documents cost.
 */
export async function batchedInboxItems(ctx: BenchContext): Promise<ScenarioResult> {
  const { db, options } = ctx;
  const repeats: RepeatSample[] = [];
  const checks: CheckResult[] = [];
  for (let rep = 0; rep < options.repeats; rep++) {
    const eventId = `raw-inbox-items-r${rep}`;
    const ms = await writeParallelBatchesOf(db, options.friends, (i) => `${notificationsCollection(`friend-${i}`)}/${eventId}`, (i) => inboxItemLike(eventId, i % 3 === 0 ? "cs" : "en"));
    const stored = (await db.collectionGroup("notifications").where("eventId", "==", eventId).count().get()).data().count;
    checks.push({ ok: stored === options.friends, detail: `${stored} of ${options.friends} inbox items stored` });
    repeats.push(singleCallSample(options.friends, stored, ms, { writes: options.friends }));
  }
  const result = loadScenario(
    { id: RAW_INBOX_ITEMS_ID, group: "fan-out", title: `Raw fan-out: ${options.friends} inbox items (the notification fan-out's documents) as parallel 500-doc batches`, concurrency: null, n: options.friends },
    repeats,
    combine(checks),
  );
  result.extra = { writes: options.friends, reads: 0 };
  return result;
}
