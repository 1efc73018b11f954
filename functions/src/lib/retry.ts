import { isFirestoreError } from "./firestore-errors";
import type { FirestoreConflict } from "./firestore-errors";

export interface ConflictRetry {
  /** How many attempts in all (the first one included). */
  attempts: number;
  /** The Firestore errors that mean "someone else wrote first": read again and retry. Anything else propagates. */
  conflicts: FirestoreConflict[];
  /** Pause before attempt n (n ≥ 1), e.g. a little jitter so racing writers spread out. None when left out. */
  pauseMs?: (attempt: number) => number;
  /** What to throw when every attempt conflicted (by default the last conflict itself). */
  exhausted?: (lastConflict: unknown) => Error;
}

/**
 * The one optimistic-write retry loop: runs `attempt(n)` (n = 0, 1, …), which reads, decides and writes with a
 * precondition; a conflict runs it again from a fresh read, up to `attempts` times.
 */
export async function retryOnConflict<T>(policy: ConflictRetry, attempt: (n: number) => Promise<T>): Promise<T> {
  let lastConflict: unknown;
  for (let n = 0; n < policy.attempts; n++) {
    if (n > 0 && policy.pauseMs) await new Promise((resolve) => setTimeout(resolve, policy.pauseMs?.(n)));
    try {
      return await attempt(n);
    } catch (error) {
      if (!isFirestoreError(error, ...policy.conflicts)) throw error;
      lastConflict = error;
    }
  }
  throw policy.exhausted ? policy.exhausted(lastConflict) : lastConflict;
}
