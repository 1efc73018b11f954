/**
 * Firestore's error codes for the conflicts our writes expect and handle, by name. The Admin SDK reports them as the
 * gRPC status number in `error.code`; this is the one place that knows the numbers.
 */
const FIRESTORE_CODES = {
  "not-found": 5,
  "already-exists": 6,
  "failed-precondition": 9,
  aborted: 10,
} as const;

export type FirestoreConflict = keyof typeof FIRESTORE_CODES;

/** True when `error` is a Firestore error with one of `codes` (a create that lost a race, a stale precondition…). */
export function isFirestoreError(error: unknown, ...codes: FirestoreConflict[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && codes.some((name) => FIRESTORE_CODES[name] === code);
}
