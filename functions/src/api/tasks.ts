import { HttpsError } from "firebase-functions/v2/https";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { logger } from "../lib/log";

/** An early task this close to its schedule time waits for it in the handler; one further off is refused. */
const WAIT_FOR_SCHEDULE_UP_TO_MS = 2_000;

/**
 * Cloud Tasks never dispatches a task before its schedule time; the Cloud Tasks emulator does (it dispatches at
 * once). The interval folds (the wish counters, the donation and feed digests) must run after their interval ended, or
 * a write late in the interval would wait for the next fold. So a task that arrives early waits for its schedule time
 * when that is near (the one-second folds: a short wait instead of a retry after Cloud Tasks' backoff, which made every
 * local fold a second or more later), and is refused with 503 when it is far (an HttpsError: no "Unhandled error"
 * log), so that Cloud Tasks retries it after its backoff, as if it had waited, without holding an emulated worker for
 * up to a minute. In production neither ever happens (docs/operations.md "Task queues: early dispatch").
 */
export async function awaitScheduleTime(request: TaskRequest, queue: string, toleranceMs = 50): Promise<void> {
  const early = Date.parse(request.scheduledTime) - Date.now();
  if (!Number.isFinite(early) || early <= toleranceMs) return;
  if (early <= WAIT_FOR_SCHEDULE_UP_TO_MS) {
    await new Promise((resolve) => setTimeout(resolve, early));
    return;
  }
  logger.info("task dispatched before its schedule time; refused so that Cloud Tasks retries it", { queue, earlyMs: early });
  throw new HttpsError("unavailable", "dispatched before its schedule time; retry");
}
