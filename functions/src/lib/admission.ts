import type { Firestore } from "firebase-admin/firestore";
import { DomainError } from "./errors";
import type { RateLimitedAction } from "../config";
import { RATE_LIMITS } from "../config";
import type { Clock } from "./clock";
import { countAction, rateLimitError, rateWindowRef } from "./rate-limit";
import { retryOnConflict } from "./retry";
import type { ConflictRetry } from "./retry";

/**
 * Who may use a callable beyond being signed in (docs/security.md, "Completed sign-up" and "Rate limits"). Every user
 * callable runs, in this order: auth (`unauthenticated`), input validation (`invalid-argument`, no reads), then
 * {@link admit}: the caller has finished signing up, and is under the action's rate limit.
 */

/** The public profile `users/{uid}` exists only once syncFacebookProfile has completed a sign-up. */
const profileRef = (db: Firestore, uid: string) => db.collection("users").doc(uid);

/** Attempts at counting an action when other calls of the same user keep changing the window meanwhile. */
const MAX_COUNT_ATTEMPTS = 20;

/**
 * Admits `uid` to a callable: `failed-precondition` when the sign-up never completed (no `users/{uid}`), and with
 * `action`, counts it against the user's rate limit (`resource-exhausted` with the time to retry); a refused call
 * counts nothing. Attempts count, successful or not: the limit is on what a client may try (e.g. probing which uids
 * exist with friend requests). The count is optimistic, not a transaction: the window is written with a precondition
 * on the version that was read, and read again when another call of the same user changed it first. A transaction
 * would lock the window, and a user's concurrent calls (a double tap, an app retrying) would queue on the lock.
 */
export async function admit(deps: { db: Firestore; clock: Clock }, uid: string, action?: RateLimitedAction): Promise<void> {
  const window = action ? rateWindowRef(deps.db, uid, action) : undefined;
  const [profile, first] = await Promise.all([profileRef(deps.db, uid).get(), window?.get()]);
  if (!profile.exists) throw new DomainError("not_signed_up");
  if (!action || !window) return;
  // Changed meanwhile (the update's precondition) or created meanwhile (the create): read again.
  const policy: ConflictRetry = {
    attempts: MAX_COUNT_ATTEMPTS,
    conflicts: ["failed-precondition", "already-exists"],
    exhausted: () => new DomainError("concurrent_requests"),
  };
  await retryOnConflict(policy, async (attempt) => {
    const snap = attempt === 0 && first ? first : await window.get();
    const now = deps.clock.now();
    const counted = countAction(snap.data(), RATE_LIMITS[action], now, action);
    if ("retryAt" in counted) throw rateLimitError(action, counted.retryAt, now);
    if (snap.exists) await window.update(counted.next, { lastUpdateTime: snap.updateTime });
    else await window.create(counted.next);
  });
}
