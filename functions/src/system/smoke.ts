import { FieldValue } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";

/**
 * The harness's smoke chain: an admin-written `system/smoke/pings/{pingId}` document fires a Firestore trigger,
 * which enqueues a Cloud Task, whose handler stamps the document again. Integration tests (and ops, after a
 * deploy) use it to prove triggers and task queues are wired.
 */
export const SMOKE_QUEUE = "smokeTask";

export const smokeTaskPayload = z.object({ pingId: idSchema });
export type SmokeTaskPayload = z.infer<typeof smokeTaskPayload>;

export function smokePingRef(db: Firestore, pingId: string) {
  return db.collection("system").doc("smoke").collection("pings").doc(pingId);
}

export async function onSmokePingCreated(
  deps: { db: Firestore; clock: Clock; tasks: TaskEnqueuer },
  pingId: string,
): Promise<void> {
  await smokePingRef(deps.db, pingId).update({ triggeredAt: deps.clock.now() });
  // Deterministic id: a redelivered trigger does not enqueue a second task.
  await deps.tasks.enqueue(SMOKE_QUEUE, { pingId }, { id: `smoke-${pingId}` });
}

export async function runSmokeTask(deps: { db: Firestore; clock: Clock }, payload: SmokeTaskPayload): Promise<void> {
  await smokePingRef(deps.db, payload.pingId).update({
    taskRanAt: deps.clock.now(),
    taskRuns: FieldValue.increment(1),
  });
}
