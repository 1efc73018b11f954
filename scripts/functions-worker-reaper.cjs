// Preloaded into firebase-tools (`node --require scripts/functions-worker-reaper.cjs firebase.js ...`) by
// scripts/emulators.mjs.
//
// Why: the Functions emulator starts one Node worker process per concurrent invocation of a function and never
// stops an idle one. A burst of triggers (a test that writes many documents, an app walk) leaves hundreds of idle
// workers of 100-150 MB each behind: we have seen 242 of them exhaust 24 GB. This keeps the pool in check without
// changing what a function sees: a worker that has been idle for ELATEME_FUNCTIONS_IDLE_EXTRA_MS (default 5 s) is
// stopped when its function has another live worker, and the last worker of a function after
// ELATEME_FUNCTIONS_IDLE_MS (default 60 s). Busy workers are never touched; a stopped worker is replaced on demand,
// as firebase-tools does after a reload (same FINISHING -> kill path as its own RuntimeWorkerPool.refresh()).
"use strict";
const path = require("node:path");

const workerModule = path.join(__dirname, "..", "node_modules", "firebase-tools", "lib", "emulator", "functionsRuntimeWorker.js");
const { RuntimeWorkerPool, RuntimeWorkerState } = require(workerModule);

const EXTRA_IDLE_MS = Number.parseInt(process.env.ELATEME_FUNCTIONS_IDLE_EXTRA_MS ?? "5000", 10) || 5000;
const LAST_IDLE_MS = Number.parseInt(process.env.ELATEME_FUNCTIONS_IDLE_MS ?? "60000", 10) || 60000;

const addWorker = RuntimeWorkerPool.prototype.addWorker;
if (typeof addWorker !== "function" || !RuntimeWorkerState?.IDLE) {
  process.stderr.write("[emulators] firebase-tools' worker pool changed shape; idle Functions workers are not reaped\n");
} else {
  RuntimeWorkerPool.prototype.addWorker = function addWorkerWithReaper(trigger, runtime, extensionLogInfo, runtimeType) {
    const worker = addWorker.call(this, trigger, runtime, extensionLogInfo, runtimeType);
    const pool = this;
    const key = pool.getKey(trigger?.id, runtimeType);
    let idleSince = 0;
    let timer;
    const liveSiblings = () =>
      (pool.workers.get(key) ?? []).filter(
        (other) => other !== worker && other.state !== RuntimeWorkerState.FINISHING && other.state !== RuntimeWorkerState.FINISHED,
      ).length;
    const check = () => {
      timer = undefined;
      if (worker.state !== RuntimeWorkerState.IDLE) return;
      const idleFor = Date.now() - idleSince;
      if (liveSiblings() > 0 || idleFor >= LAST_IDLE_MS) {
        worker.state = RuntimeWorkerState.FINISHING;
        worker.runtime.process.kill();
        return;
      }
      timer = setTimeout(check, LAST_IDLE_MS - idleFor);
      timer.unref();
    };
    worker.stateEvents.on(RuntimeWorkerState.IDLE, () => {
      idleSince = Date.now();
      clearTimeout(timer);
      timer = setTimeout(check, EXTRA_IDLE_MS);
      timer.unref();
    });
    for (const state of [RuntimeWorkerState.BUSY, RuntimeWorkerState.FINISHING, RuntimeWorkerState.FINISHED]) {
      worker.stateEvents.on(state, () => clearTimeout(timer));
    }
    return worker;
  };
}
