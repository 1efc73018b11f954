import { createHash } from "node:crypto";
import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { z } from "zod";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { wishRef } from "../store/wishes";
import { deadlinePassed, sameDeadline } from "../lib/deadline";

/**
 * Wish deadlines (F16) on Cloud Tasks. Cloud Tasks schedules at most 30 days ahead, so a deadline months away is
 * reached in hops: each task is scheduled at min(deadline, now + 29 days); when it runs before the deadline it
 * enqueues the next hop. The task id hashes (wishId, deadline, hop), so a double enqueue of the same hop is refused
 * as a duplicate, and a moved deadline starts a fresh chain while the old chain sees a mismatched deadline and stops.
 * The sweep every 15 minutes ({@link sweepExpiredWishes}, `wishDeadlineSweep` in index.ts) is the safety net for any
 * chain that broke.
 */
export const WISH_DEADLINE_QUEUE = "wishDeadline";

/** One hop: a day under Cloud Tasks' 30-day limit, so clock skew can never push a scheduleTime past it. */
export const MAX_HOP_MS = 29 * 24 * 60 * 60 * 1000;

/**
 * A task delivered this long before its scheduled time is anomalous: Cloud Tasks never does it, the Tasks emulator
 * always does (it ignores scheduleTime). The chain then stops instead of spinning once a second until a deadline
 * months away, and the sweep expires the wish. Short deadlines (tests, the last minutes of a real wish) still chain.
 */
export const EARLY_DELIVERY_TOLERANCE_MS = 10 * 60 * 1000;

/** The task's payload: the deadline travels as ISO text and is parsed into a Date once, here. */
export const deadlineTaskPayload = z.object({
  wishId: idSchema,
  deadline: z.iso.datetime().transform((iso) => new Date(iso)),
  hop: z.number().int().min(0),
});
export type DeadlineTaskPayload = z.output<typeof deadlineTaskPayload>;

export interface DeadlineDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
}

/** When the next hop should run: the deadline itself, or 29 days from now if the deadline is further away. */
export function nextHopTime(deadline: Date, now: Date): Date {
  return new Date(Math.min(deadline.getTime(), now.getTime() + MAX_HOP_MS));
}

/** Deterministic, hashed task id (Cloud Tasks spreads load better on non-sequential ids). */
export function deadlineTaskId(wishId: string, deadline: Date, hop: number): string {
  const digest = createHash("sha256").update(`${wishId}|${deadline.toISOString()}|${hop}`).digest("hex").slice(0, 40);
  return `wd-${digest}`;
}

/** Enqueues hop `hop` of a wish's deadline chain. A duplicate (same wish, deadline and hop) is harmless. */
export async function scheduleDeadline(deps: DeadlineDeps, wishId: string, deadline: Date, hop: number): Promise<void> {
  const scheduleTime = nextHopTime(deadline, deps.clock.now());
  const payload: z.input<typeof deadlineTaskPayload> = { wishId, deadline: deadline.toISOString(), hop };
  const result = await deps.tasks.enqueue(WISH_DEADLINE_QUEUE, payload, { id: deadlineTaskId(wishId, deadline, hop), scheduleTime });
  logger.info("wish deadline hop scheduled", { wishId, hop, scheduleTime: scheduleTime.toISOString(), result });
}

export type DeadlineOutcome = "missing" | "stale" | "not-open" | "rescheduled" | "early-delivery" | "expired";

/**
 * The `wishDeadline` task. Re-reads the wish: gone, deadline moved or no longer open → stop. Before the deadline →
 * enqueue the next hop. At or after it → expire the wish (a funded wish is no longer open, so it is left alone: its
 * payout runs from the funded transition).
 * `scheduledTime` is when Cloud Tasks was asked to run this task (its X-CloudTasks-TaskETA).
 */
export async function runDeadlineTask(
  deps: DeadlineDeps,
  payload: DeadlineTaskPayload,
  scheduledTime?: Date,
): Promise<DeadlineOutcome> {
  const now = deps.clock.now();
  const snap = await wishRef(deps.db, payload.wishId).get();
  const wish = snap.data();
  if (!wish) return "missing";
  if (!sameDeadline(wish.deadline, payload.deadline)) {
    logger.info("wish deadline task stale: the deadline moved", { wishId: payload.wishId, hop: payload.hop });
    return "stale";
  }
  if (wish.status !== "open") return "not-open";
  if (!deadlinePassed(wish.deadline, now)) {
    if (scheduledTime && scheduledTime.getTime() - now.getTime() > EARLY_DELIVERY_TOLERANCE_MS) {
      logger.warn("wish deadline task delivered far before its schedule; the sweep will expire the wish", {
        wishId: payload.wishId,
        hop: payload.hop,
        scheduledTime: scheduledTime.toISOString(),
      });
      return "early-delivery";
    }
    await scheduleDeadline(deps, payload.wishId, wish.deadline, payload.hop + 1);
    return "rescheduled";
  }
  return (await expireWish(deps, payload.wishId, "deadline-task")) ? "expired" : "not-open";
}

/**
 * Expires one open wish whose deadline has passed: status `expired`, `closedAt`, and the `wish.expired` event in the
 * same transaction. Returns false (and changes nothing) if it is not open or not yet due. Refunds start from the
 * status transition (see {@link onWishWrittenForClosing}).
 */
export async function expireWish(deps: Pick<DeadlineDeps, "db" | "clock">, wishId: string, source: string): Promise<boolean> {
  const ref = wishRef(deps.db, wishId);
  const expired = await deps.db.runTransaction(async (tx) => {
    const wish = (await tx.get(ref)).data();
    const now = deps.clock.now();
    if (!wish || wish.status !== "open" || !deadlinePassed(wish.deadline, now)) return false;
    tx.update(ref, { status: "expired", closedAt: now, updatedAt: now });
    addToOutbox(deps.db, tx, { id: `wish.expired:${wishId}`, type: "wish.expired", wishId, ownerId: wish.ownerId }, now);
    return true;
  });
  if (expired) logger.info("wish expired", { wishId, source });
  return expired;
}

/** Page size of the sweep; one run handles up to SWEEP_PAGES pages and the next run continues. */
const SWEEP_PAGE = 200;
const SWEEP_PAGES = 10;

/**
 * The scheduled safety net: expires every open wish whose deadline has passed (a lost task chain, a task that
 * exhausted its retries, an emulator run). Uses the (status, deadline) composite index.
 */
export async function sweepExpiredWishes(deps: Pick<DeadlineDeps, "db" | "clock">): Promise<{ expired: string[] }> {
  const expired: string[] = [];
  const now = deps.clock.now();
  for (let page = 0; page < SWEEP_PAGES; page++) {
    const due = await deps.db
      .collection("wishes")
      .where("status", "==", "open")
      .where("deadline", "<=", now)
      .orderBy("deadline")
      .limit(SWEEP_PAGE)
      .get();
    if (due.empty) break;
    for (const doc of due.docs) {
      if (await expireWish(deps, doc.id, "sweep")) expired.push(doc.id);
    }
    if (due.size < SWEEP_PAGE) break;
  }
  if (expired.length > 0) logger.info("deadline sweep expired wishes", { count: expired.length });
  return { expired };
}
