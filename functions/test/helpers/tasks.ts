// A Cloud Tasks stand-in for tests that run task handlers in-process (the emulated pipeline uses the real Tasks
// emulator): it records what would be enqueued.
import type { EnqueueOptions, TaskEnqueuer } from "../../src/lib/tasks";

export interface RecordedTask {
  queue: string;
  payload: Record<string, unknown>;
  options: EnqueueOptions;
}

/** A TaskEnqueuer that records instead of enqueueing, refusing a repeated id like Cloud Tasks does. */
export function recordingTasks(): TaskEnqueuer & { calls: RecordedTask[] } {
  const calls: RecordedTask[] = [];
  return {
    calls,
    enqueue(queue, payload, options = {}) {
      const duplicate = calls.some((call) => call.options.id !== undefined && call.options.id === options.id);
      calls.push({ queue, payload, options });
      return Promise.resolve(duplicate ? "duplicate" : "enqueued");
    },
  };
}
