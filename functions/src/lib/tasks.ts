import { getFunctions } from "firebase-admin/functions";
import { REGION } from "../config";

export interface EnqueueOptions {
  /** Deterministic task id: a second enqueue with the same id is refused (and treated as done). */
  id?: string;
  scheduleTime?: Date;
}

/** The one thing domain code needs from Cloud Tasks; tests can pass a recording fake. */
export interface TaskEnqueuer {
  enqueue(queue: string, payload: Record<string, unknown>, options?: EnqueueOptions): Promise<"enqueued" | "duplicate">;
}

/** Cloud Tasks through firebase-admin's task-queue API (honours CLOUD_TASKS_EMULATOR_HOST in the emulator). */
export const adminTaskEnqueuer: TaskEnqueuer = {
  async enqueue(queue, payload, options = {}) {
    const target = getFunctions().taskQueue(`locations/${REGION}/functions/${queue}`);
    try {
      await target.enqueue(payload, {
        ...(options.id ? { id: options.id } : {}),
        ...(options.scheduleTime ? { scheduleTime: options.scheduleTime } : {}),
      });
      return "enqueued";
    } catch (error) {
      if ((error as { code?: string }).code === "functions/task-already-exists") return "duplicate";
      throw error;
    }
  },
};
