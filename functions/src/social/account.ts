import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { deleteAllDevices } from "./devices";
import { removeFriendship } from "./friends";
import { friendsRef, profileRef, requestsRef } from "../store/social";

export interface AccountDeps {
  db: Firestore;
  auth: Auth;
  clock: Clock;
}

export interface DeleteAccountResult {
  friendshipsRemoved: number;
  requestsRemoved: number;
  devicesRemoved: number;
}

/**
 * Deletes a user's personal data and their Auth account (App Store requirement). Every step is idempotent, so a
 * retry after a partial failure finishes the job. Order matters:
 * 1. the public profile goes first: from then on the user counts as gone (sending, accepting and Facebook-syncing
 *    friendships all require the other party's profile to exist);
 * 2. devices (no push reaches any of the user's devices any more), friend requests in both directions;
 * 3. every friendship, both sides, and the user's membership in their ex-friends' groups;
 * 4. everything under `users/{uid}` (private account, groups, and the other domains' per-user feed, inbox, etc.);
 * 5. the Firebase Auth account.
 * Kept: money records (`donations`, `ledger`, `providerEvents`, `paymentCustomers`), which refer to the uid only;
 * see docs/social.md.
 */
export async function deleteAccount(deps: AccountDeps, uid: string): Promise<DeleteAccountResult> {
  const db = deps.db;
  const now = deps.clock.now();
  await profileRef(db, uid).delete();

  const devicesRemoved = await deleteAllDevices(db, uid);

  const [sent, received] = await Promise.all([requestsRef(db).where("from", "==", uid).get(), requestsRef(db).where("to", "==", uid).get()]);
  await Promise.all([...sent.docs, ...received.docs].map((request) => request.ref.delete()));

  const friends = await friendsRef(db, uid).get();
  for (const friend of friends.docs) {
    await db.runTransaction((tx) => removeFriendship(db, tx, uid, friend.id, now));
  }

  await db.recursiveDelete(profileRef(db, uid));

  try {
    await deps.auth.deleteUser(uid);
  } catch (error) {
    if ((error as { code?: string }).code !== "auth/user-not-found") throw error;
  }
  const result = { friendshipsRemoved: friends.size, requestsRemoved: sent.size + received.size, devicesRemoved };
  logger.info("account deleted", { uid, ...result });
  return result;
}
