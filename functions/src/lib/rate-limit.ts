import type { Firestore } from "firebase-admin/firestore";
import { DomainError } from "./errors";
import { z } from "zod";
import { RATE_LIMITS } from "../config";
import type { RateLimitedAction } from "../config";
import { zodConverter } from "./converter";

/**
 * Per-user rate limits (limits in src/config.ts, docs/security.md "Rate limits"). Each user has one window document
 * per action, `users/{uid}/rateLimits/{action}`: a fixed window that starts at the first action after the previous
 * window ended and counts the actions in it. The server keeps the windows of the callables' actions; the client writes
 * the `comments` window itself, in the same batch as each comment, and firestore.rules checks it the same way.
 */
export const rateWindowSchema = z.object({
  /** When the current window began (the first action in it). */
  windowStart: z.date(),
  /** Actions counted in the current window. */
  count: z.number().int().min(1),
  /** The last counted action's time, and what it was about (comments: `{wishId}/{commentId}`; else the action). */
  last: z.date(),
  lastKey: z.string(),
});
export type RateWindow = z.infer<typeof rateWindowSchema>;

export const RATE_LIMITS_COLLECTION = "rateLimits";
export const rateWindowDoc = (uid: string, action: RateLimitedAction) => `users/${uid}/${RATE_LIMITS_COLLECTION}/${action}`;
const rateWindowConverter = zodConverter(rateWindowSchema);

/**
 * The window after one more action at `now`, or when to retry if the limit is reached. Continuing a window that has
 * already ended is allowed too while it is under the limit (the rules allow the same; it only makes the limit stricter).
 */
export function countAction(
  current: RateWindow | undefined,
  limit: { max: number; windowSeconds: number },
  now: Date,
  key: string,
): { next: RateWindow } | { retryAt: Date } {
  if (current && current.count < limit.max) {
    return { next: { windowStart: current.windowStart, count: current.count + 1, last: now, lastKey: key } };
  }
  const windowEnd = current ? new Date(current.windowStart.getTime() + limit.windowSeconds * 1000) : now;
  if (now.getTime() < windowEnd.getTime()) return { retryAt: windowEnd };
  return { next: { windowStart: now, count: 1, last: now, lastKey: key } };
}

/** "hour", "10 minutes", "day": the window as people say it (the error catalogue words it the same). */
export { describeWindow } from "./error-catalogue";

/** The `rate_limited` (`resource-exhausted`) answer: the message says when to retry, and `details` carries it for the app. */
export function rateLimitError(action: RateLimitedAction, retryAt: Date, now: Date): DomainError {
  const limit = RATE_LIMITS[action];
  const retryAfterSeconds = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000));
  return new DomainError("rate_limited", { params: { action, limit: limit.max, windowSeconds: limit.windowSeconds, retryAt: retryAt.toISOString(), retryAfterSeconds } });
}

/** Typed reference to a user's window document for `action`. */
export const rateWindowRef = (db: Firestore, uid: string, action: RateLimitedAction) => db.doc(rateWindowDoc(uid, action)).withConverter(rateWindowConverter);
