import { z } from "zod";
import { AggregateField } from "firebase-admin/firestore";
import type { DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { FOLD_INTERVAL_MS, WISHES } from "../model/wish";
import type { Wish } from "../model/wish";
import { raisedShards, wishRef } from "../store/wishes";
import { fundIfReached } from "./funded";
import { isFirestoreError } from "../lib/firestore-errors";

/** The Cloud Tasks queue (and function) that folds a wish's shards into it. */
export const FOLD_QUEUE = "foldWishCounters";

export const foldTaskPayload = z.object({ wishId: idSchema }).strict();

/** A fold runs this long after its interval ends, so that clock skew between us and Cloud Tasks cannot run it early. */
const FOLD_MARGIN_MS = 250;
/** The interval this instance last enqueued a fold for, per wish: at most one Cloud Tasks call per wish per interval. */
const enqueuedFolds = new Map<string, number>();
const MAX_REMEMBERED_WISHES = 10_000;

/**
 * Money moved on `wishId`'s shards in a commit that ended before `committedBy`: fold the shards once the interval that
 * time falls in has ended. One task per wish per interval: the task id names the interval, so every other shard write
 * of the same interval is refused as a duplicate (or not even sent: this instance remembers what it enqueued), and
 * the fold, which runs after the interval and reads the shards then, sees every write committed in it. A caller that
 * comes late (a retry) after its interval's task ran is refused too and loses nothing: that task read after the
 * write. So the wish takes at most one fold write per interval, and `raised` trails a confirmed donation by at most
 * the interval, the margin and the task's dispatch (docs/donations.md: target ≤ 2 s).
 */
export async function scheduleCounterFold(deps: { tasks: TaskEnqueuer }, wishId: string, committedBy: Date): Promise<"enqueued" | "duplicate"> {
  const interval = Math.floor(committedBy.getTime() / FOLD_INTERVAL_MS);
  if (enqueuedFolds.get(wishId) === interval) return "duplicate";
  const outcome = await deps.tasks.enqueue(FOLD_QUEUE, { wishId }, { id: `fold-${wishId}-${interval}`, scheduleTime: new Date((interval + 1) * FOLD_INTERVAL_MS + FOLD_MARGIN_MS) });
  if (enqueuedFolds.size >= MAX_REMEMBERED_WISHES) enqueuedFolds.clear();
  enqueuedFolds.set(wishId, interval);
  return outcome;
}

export interface CounterTotals {
  raised: number;
  donorCount: number;
}

export type FoldOutcome =
  | { outcome: "folded"; totals: CounterTotals; funded: boolean; readAt: Date }
  | { outcome: "unchanged" | "superseded" | "no_wish"; totals: CounterTotals; readAt: Date };

/**
 * The sums of a wish's shards now, and the read time of that snapshot. One `sum()` aggregation, not a read of every
 * shard: Firestore bills it one read per 1,000 index entries, so a viral wish's fold (up to 1,025 shards, once a
 * second) costs 2 reads instead of 1,025. Every shard write sets both summed fields: a query with several sums counts only
 * the documents that hold all of them.
 */
export async function readShardTotals(db: Firestore, wishId: string): Promise<{ totals: CounterTotals; readAt: Date }> {
  const snap = await raisedShards(db, wishId).aggregate({ raised: AggregateField.sum("raised"), donorCount: AggregateField.sum("donorCount") }).get();
  const { raised, donorCount } = snap.data();
  return { totals: { raised, donorCount }, readAt: snap.readTime.toDate() };
}

/** A wish's counters: the sums of its shards plus what quiet-wish donations wrote straight into it (ledger.ts). */
export function wishCounterTotals(shards: CounterTotals, wish: Pick<Wish, "directRaised" | "directDonorCount">): CounterTotals {
  return { raised: shards.raised + (wish.directRaised ?? 0), donorCount: shards.donorCount + (wish.directDonorCount ?? 0) };
}

/** Thrown by a task's fold that comes less than FOLD_INTERVAL_MS after the last one: Cloud Tasks retries it later. */
export class FoldTooSoonError extends Error {}

export interface FoldSpacing {
  /** Refuse (FoldTooSoonError) to write the wish within this time of its last write (any write: a fold, an edit). */
  minSpacingMs?: number;
  /**
   * Wait instead of refusing when the wish's last write is at most this much short of `minSpacingMs`, then read again.
   * The fold of one interval usually reads a few hundred ms less than a second after the previous interval's fold
   * committed (that commit's own latency); refused, it would wait for Cloud Tasks' 1 s backoff and its dispatch, and
   * `raised` would lag by over 2 s. Waiting the gap keeps the writes a second apart and the lag near the interval.
   */
  waitUpToMs?: number;
}

const FOLD_ATTEMPTS = 8;

/**
 * Folds a wish's shards into its `raised`, `donorCount` and `hasSucceededDonation`, and flips it to `funded` the
 * first time the shards reach its amount (funded.ts). The wish is read, then the shards' sums (no transaction: no
 * lock on the hot shards), and the wish is written with a `lastUpdateTime` precondition, so a fold that raced another
 * write of the wish reads again. A fold whose shard snapshot is not newer than the one already folded (`raisedAsOf`)
 * writes nothing, so folds racing or redelivered can only move the wish forward; a fold that finds nothing new writes
 * nothing. Values are absolute (sums), never increments: running it any number of times changes nothing twice.
 * `minSpacingMs` (the task's): refuse with FoldTooSoonError within that time of the last fold, so that however the
 * tasks are dispatched the wish takes at most one fold write per interval; `waitUpToMs`: wait out a short gap instead.
 */
export async function foldWishCounters(deps: { db: Firestore; clock: Clock }, wishId: string, options: FoldSpacing = {}): Promise<FoldOutcome> {
  const { db } = deps;
  const ref = wishRef(db, wishId);
  let waited = false;
  const spacingGapMs = (snap: DocumentSnapshot) =>
    options.minSpacingMs && snap.updateTime ? options.minSpacingMs - (snap.readTime.toMillis() - snap.updateTime.toMillis()) : 0;
  for (let attempt = 1; ; attempt++) {
    // The wish first, alone: a fold too soon after its last write waits or is refused before it pays for the shards'
    // aggregation (in the emulator a query costs several times a lookup; in production it saves a read a refusal).
    let snap = await ref.get();
    let shardRead: { totals: CounterTotals; readAt: Date } | null = null;
    // Any write of the wish counts (a fold, a quiet-wish donation, an edit): the wish takes at most one per interval.
    const gapMs = spacingGapMs(snap);
    if (gapMs > 0) {
      // Once: a wish written again while this fold waited is busy with something else, and Cloud Tasks retries it.
      if (waited || gapMs > (options.waitUpToMs ?? 0)) throw new FoldTooSoonError(`wish ${wishId} was written less than ${options.minSpacingMs} ms ago`);
      waited = true;
      // A few ms past the gap: the next read's time must land beyond the spacing, not on it.
      await new Promise((resolve) => setTimeout(resolve, gapMs + 10));
      // The wish and the shards together after the wait (the wish may have been written meanwhile).
      [shardRead, snap] = await Promise.all([readShardTotals(db, wishId), ref.get()]);
      if (spacingGapMs(snap) > 0) throw new FoldTooSoonError(`wish ${wishId} was written while its fold waited`);
    }
    const wish = snap.data();
    if (!wish || !snap.updateTime) return { outcome: "no_wish", totals: shardRead?.totals ?? { raised: 0, donorCount: 0 }, readAt: snap.readTime.toDate() };
    // Read right after the wish; the commit's precondition (the wish's update time) refuses it if the wish changed since.
    const { totals: shardTotals, readAt } = shardRead ?? (await readShardTotals(db, wishId));
    const totals = wishCounterTotals(shardTotals, wish);
    if (wish.raisedAsOf && wish.raisedAsOf.getTime() >= readAt.getTime()) return { outcome: "superseded", totals, readAt };
    const hasSucceededDonation = wish.hasSucceededDonation || totals.donorCount > 0;
    const funding = wish.status === "open" && totals.raised >= wish.amount;
    if (!funding && wish.raised === totals.raised && wish.donorCount === totals.donorCount && wish.hasSucceededDonation === hasSucceededDonation) {
      return { outcome: "unchanged", totals, readAt };
    }
    const now = deps.clock.now();
    const batch = db.batch();
    const funded = fundIfReached(db, batch, wishId, wish, totals.raised, now);
    // How many donors this fold adds decides whether the wish stays busy (ledger.ts, BUSY_AFTER_FOLD_MS).
    const lastFoldDonors = totals.donorCount - wish.donorCount;
    batch.update(db.collection(WISHES).doc(wishId), { ...totals, lastFoldDonors, hasSucceededDonation, raisedAsOf: readAt, updatedAt: now, ...funded }, { lastUpdateTime: snap.updateTime });
    try {
      await batch.commit();
    } catch (error) {
      // Another fold wrote the wish (its precondition), or flipped it to funded first (the outbox event exists): read again.
      if (attempt >= FOLD_ATTEMPTS || !isFirestoreError(error, "failed-precondition", "already-exists")) throw error;
      continue;
    }
    const flipped = Object.keys(funded).length > 0;
    if (flipped) logger.info("wish funded", { wishId, raised: totals.raised });
    return { outcome: "folded", totals, funded: flipped, readAt };
  }
}
