// The fold tasks of a webhook run, in a worker thread of their own: Cloud Tasks runs `foldWishCounters` on other
// instances than the webhook's, so the benchmark runs it beside the handler's event loop, not on it. On one event loop
// a fold's timer and RPCs queue behind 64 in-flight webhooks once the loop is saturated, and the measured lag of
// `raised` became the benchmark's (p50 3.9 s where the fold itself took a fraction of it). The thread has its own
// Admin SDK client on the benchmark database; it reports each fold, each retried failure and each commit's documents
// (for the per-document write log) to the main thread (FoldWorker in scenarios/webhooks.ts).
import { parentPort, workerData } from "node:worker_threads";
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { systemClock } from "../../src/lib/clock";
import { FoldTooSoonError, foldWishCounters } from "../../src/donations/counters";
import { FOLD_INTERVAL_MS } from "../../src/model/wish";
import { startDocumentWriteLog, instrumentFirestore } from "./counting";

export interface FoldWorkerData {
  projectId: string;
  database: string;
  maxAttempts: number;
}

/** Main thread → worker: run a fold of `wishId` after `delayMs`. */
export interface FoldRequest {
  wishId: string;
  delayMs: number;
}

/** Worker → main thread. `settled` ends one requested task (folded, or failed every attempt). */
export type FoldReport =
  | { type: "ready" }
  | { type: "folded"; wishId: string; readAt: number; doneAt: number }
  | { type: "retried"; reason: string }
  | { type: "settled"; failed: boolean }
  | { type: "commit"; documents: string[]; at: number };

if (parentPort) {
  const port = parentPort;
  const { projectId, database, maxAttempts } = workerData as FoldWorkerData;
  const db = getFirestore(initializeApp({ projectId }, "bench-folds"), database);
  instrumentFirestore(db);
  // Never stopped: the thread lives for one webhook run and is terminated after it.
  startDocumentWriteLog(undefined, (documents) => port.postMessage({ type: "commit", documents, at: Date.now() } satisfies FoldReport));

  /**
   * One dispatch of the task; a failed one is dispatched again, up to the queue's attempts, after 1 s, 2 s, then every
   * 4 s (the deployed queue, index.ts, doubles twice from 1 s and then goes on to 8 s and 10 s; the difference only
   * shows from a fold's fifth attempt). A fold too soon after the last write is a routine refusal; anything else (its
   * conflicts exhausted under load) is reported by message for the check.
   */
  const schedule = (wishId: string, delayMs: number, attempt = 0): void => {
    setTimeout(() => {
      foldWishCounters({ db, clock: systemClock }, wishId, { minSpacingMs: FOLD_INTERVAL_MS, waitUpToMs: FOLD_INTERVAL_MS }).then(
        (result) => {
          port.postMessage({ type: "folded", wishId, readAt: result.readAt.getTime(), doneAt: Date.now() } satisfies FoldReport);
          port.postMessage({ type: "settled", failed: false } satisfies FoldReport);
        },
        (error: unknown) => {
          if (!(error instanceof FoldTooSoonError)) {
            port.postMessage({ type: "retried", reason: error instanceof Error ? error.message.slice(0, 80) : String(error) } satisfies FoldReport);
          }
          if (attempt + 1 >= maxAttempts) port.postMessage({ type: "settled", failed: true } satisfies FoldReport);
          else schedule(wishId, FOLD_INTERVAL_MS * 2 ** Math.min(attempt, 2), attempt + 1);
        },
      );
    }, delayMs);
  };

  port.on("message", ({ wishId, delayMs }: FoldRequest) => schedule(wishId, delayMs));
  // Ready once the fold's modules are loaded and the client's channel is open: a fold of a wish that does not exist
  // (one get). Otherwise the first folds of a run would pay for both and the lag would measure the thread's start.
  void foldWishCounters({ db, clock: systemClock }, "bench-fold-worker-ready").then(() => port.postMessage({ type: "ready" } satisfies FoldReport));
}
