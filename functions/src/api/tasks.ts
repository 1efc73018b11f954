import { HttpsError } from "firebase-functions/v2/https";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { logger } from "../lib/log";

/**
 * Cloud Tasks never dispatches a task before its schedule time; the Cloud Tasks emulator does (it dispatches at
 * once). The interval folds (the wish counters, the donation and feed digests) must run after their interval ended, or
 * a write late in the interval would wait for the next fold. So a task that arrives early is refused with 503 (an
 * HttpsError: no "Unhandled error" log) and Cloud Tasks retries it after its backoff, as if it had waited. In
 * production this never refuses anything (docs/operations.md "Task queues").
 */
export function refuseEarlyDispatch(request: TaskRequest, queue: string, toleranceMs = 50): void {
  const early = Date.parse(request.scheduledTime) - Date.now();
  if (!Number.isFinite(early) || early <= toleranceMs) return;
  logger.info("task dispatched before its schedule time; refused so that Cloud Tasks retries it", { queue, earlyMs: early });
  throw new HttpsError("unavailable", "dispatched before its schedule time; retry");
}
