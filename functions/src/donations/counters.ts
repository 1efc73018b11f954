import { z } from "zod";
import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { FOLD_INTERVAL_MS, WISHES } from "../model/wish";
import { raisedShards, wishRef } from "../store/wishes";
import { fundIfReached } from "./funded";

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

/** The sums of a wish's shards now, and the read time of that snapshot. */
export async function readShardTotals(db: Firestore, wishId: string): Promise<{ totals: CounterTotals; readAt: Date }> {
  const snap = await raisedShards(db, wishId).get();
  const totals = snap.docs.reduce((sum, doc) => ({ raised: sum.raised + doc.data().raised, donorCount: sum.donorCount + doc.data().donorCount }), { raised: 0, donorCount: 0 });
  return { totals, readAt: snap.readTime.toDate() };
}

/**
 * Folds a wish's shards into its `raised`, `donorCount` and `hasSucceededDonation`, and flips it to `funded` the
 * first time the shards reach its amount (funded.ts). The shards are read outside the transaction (no lock on the
 * hot shards), the wish inside it: a fold whose shard snapshot is older than the one already folded (`raisedAsOf`)
 * writes nothing, so folds racing or redelivered can only move the wish forward; a fold that finds nothing new writes
 * nothing. Values are absolute (sums), never increments: running it any number of times changes nothing twice.
 */
export async function foldWishCounters(deps: { db: Firestore; clock: Clock }, wishId: string): Promise<FoldOutcome> {
  const { db } = deps;
  const { totals, readAt } = await readShardTotals(db, wishId);
  const ref = wishRef(db, wishId);
  const result = await db.runTransaction(async (tx): Promise<FoldOutcome> => {
    const wish = (await tx.get(ref)).data();
    if (!wish) return { outcome: "no_wish", totals, readAt };
    if (wish.raisedAsOf && wish.raisedAsOf.getTime() >= readAt.getTime()) return { outcome: "superseded", totals, readAt };
    const hasSucceededDonation = wish.hasSucceededDonation || totals.donorCount > 0;
    const funding = wish.status === "open" && totals.raised >= wish.amount;
    if (!funding && wish.raised === totals.raised && wish.donorCount === totals.donorCount && wish.hasSucceededDonation === hasSucceededDonation) {
      return { outcome: "unchanged", totals, readAt };
    }
    const now = deps.clock.now();
    const funded = fundIfReached(db, tx, wishId, wish, totals.raised, now);
    tx.update(db.collection(WISHES).doc(wishId), { ...totals, hasSucceededDonation, raisedAsOf: readAt, updatedAt: now, ...funded });
    return { outcome: "folded", totals, funded: Object.keys(funded).length > 0, readAt };
  });
  if (result.outcome === "folded" && result.funded) logger.info("wish funded", { wishId, raised: totals.raised });
  return result;
}
