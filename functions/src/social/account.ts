import { createHash } from "node:crypto";
import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { deleteAllDevices } from "./devices";
import { removeFriendship } from "./friends";
import { friendsRef, profileRef, requestsRef } from "../store/social";

export interface AccountDeps {
  db: Firestore;
  auth: Auth;
  clock: Clock;
  /** Cloud Tasks: the sweep that deleteAccount schedules (below). */
  tasks: TaskEnqueuer;
}

/** The Cloud Tasks queue (and task function, index.ts) of the sweep after an account deletion. */
export const ACCOUNT_SWEEP_QUEUE = "sweepDeletedAccount";
export const accountSweepPayload = z.object({ uid: idSchema }).strict();
/**
 * How long after a deletion its sweep runs: longer than the longest attempt of any function that writes under
 * `users/{uid}` (notifyOnDomainEvent and foldFeedDigest time out after 300 s; index.ts), so whatever one of them
 * read just before the deletion and wrote just after it is there by the time of the sweep (a retry of theirs starts
 * from fresh reads).
 */
export const ACCOUNT_SWEEP_DELAY_MS = 15 * 60_000;

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
 * 5. the Firebase Auth account;
 * 6. a sweep task ACCOUNT_SWEEP_DELAY_MS later ({@link sweepDeletedAccount}): a writer that read the account just
 *    before step 4 may write under `users/{uid}` just after it (the notification worker, the feed fan-out), and the
 *    sweep deletes that again. Writers that read the account afterwards skip the user.
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
  // Last, so that a failed enqueue fails the call and the app's retry (which redoes every step) enqueues it again.
  const sweep = await scheduleAccountSweep(deps.tasks, uid, now);
  const result = { friendshipsRemoved: friends.size, requestsRemoved: sent.size + received.size, devicesRemoved };
  logger.info("account deleted", { uid, ...result, sweep });
  return result;
}

/**
 * Enqueues the sweep of `uid` for ACCOUNT_SWEEP_DELAY_MS after `at`. The task id is the uid's hash and the delay
 * window `at` falls in, so retries of deleteAccount within one window share one task (Cloud Tasks refuses the second:
 * `duplicate`), and a retry in a later window, which may have raced writers of its own, gets one more.
 */
export function scheduleAccountSweep(tasks: TaskEnqueuer, uid: string, at: Date): Promise<"enqueued" | "duplicate"> {
  const window = Math.floor(at.getTime() / ACCOUNT_SWEEP_DELAY_MS);
  const key = createHash("sha256").update(uid).digest("hex").slice(0, 40);
  return tasks.enqueue(ACCOUNT_SWEEP_QUEUE, { uid }, { id: `account-sweep-${key}-${window}`, scheduleTime: new Date(at.getTime() + ACCOUNT_SWEEP_DELAY_MS) });
}

export type AccountSweepResult = { outcome: "swept"; removed: number } | { outcome: "account-exists"; reason: "auth-user" | "profile" };

/**
 * The sweep task: deletes everything under `users/{uid}` again, if the account is still deleted: no Firebase Auth
 * user and no public profile `users/{uid}` (either one means the uid is in use, and its data is left alone).
 * Idempotent: a second sweep finds nothing to delete. `removed` counts the documents found below `users/{uid}`:
 * what writers racing the deletion left behind.
 */
export async function sweepDeletedAccount(deps: Pick<AccountDeps, "db" | "auth">, uid: string): Promise<AccountSweepResult> {
  const { db } = deps;
  const root = profileRef(db, uid);
  const authUser = await deps.auth.getUser(uid).then(
    () => true,
    (error: unknown) => {
      if ((error as { code?: string }).code === "auth/user-not-found") return false;
      throw error;
    },
  );
  if (authUser || (await root.get()).exists) {
    const result = { outcome: "account-exists", reason: authUser ? "auth-user" : "profile" } as const;
    logger.info("account sweep skipped: the account exists", { uid, reason: result.reason });
    return result;
  }
  let removed = 0;
  const writer = db.bulkWriter();
  // Every delete succeeds, also of a document that is not there: count the ones below the (absent) profile.
  writer.onWriteResult((ref) => {
    if (ref.path !== root.path) removed++;
  });
  try {
    await db.recursiveDelete(root, writer);
  } finally {
    await writer.close();
  }
  logger.info("deleted account swept", { uid, removed });
  return { outcome: "swept", removed };
}
