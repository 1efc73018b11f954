import { FieldValue } from "firebase-admin/firestore";
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import { z } from "zod";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import { friendRef, groupsRef, profileRef, requestRef } from "../store/social";

export interface FriendsDeps {
  db: Firestore;
  clock: Clock;
}

export const toUserInput = z.object({ toUid: idSchema });
export const fromUserInput = z.object({ fromUid: idSchema });
export const friendInput = z.object({ friendUid: idSchema });

/**
 * Whether a request document is `from`'s request to `to`. Its id `{from}_{to}` is not enough once a uid holds '_'
 * (x_y → z and x → y_z are both friendRequests/x_y_z), so every callable also checks the fields (as the rules do).
 */
function isRequestOf(request: { from: string; to: string } | undefined, from: string, to: string): boolean {
  return request?.from === from && request.to === to;
}

/**
 * Sends a friend request `caller → toUid`. Refused: to oneself (invalid-argument), to a user without a profile
 * (not-found), to a friend, twice, or when `toUid` already asked the caller (failed-precondition: accept theirs).
 */
export async function sendFriendRequest(deps: FriendsDeps, uid: string, { toUid }: z.infer<typeof toUserInput>): Promise<{ requestId: string }> {
  if (toUid === uid) throw new DomainError("friend_request_to_self", { field: "toUid" });
  const now = deps.clock.now();
  const ref = requestRef(deps.db, uid, toUid);
  await deps.db.runTransaction(async (tx) => {
    const [target, friendship, existing, reverse] = await Promise.all([
      tx.get(profileRef(deps.db, toUid)),
      tx.get(friendRef(deps.db, uid, toUid)),
      tx.get(ref),
      tx.get(requestRef(deps.db, toUid, uid)),
    ]);
    if (!target.exists) throw new DomainError("user_not_found", { field: "toUid" });
    if (friendship.exists) throw new DomainError("already_friends");
    // A document under this id that belongs to another pair (ids with '_') also blocks the id: refused the same way.
    if (existing.exists) throw new DomainError("friend_request_exists");
    if (isRequestOf(reverse.data(), toUid, uid)) throw new DomainError("friend_request_reverse_exists");
    tx.create(ref, { from: uid, to: toUid, createdAt: now });
    addToOutbox(
      deps.db,
      tx,
      { id: `friend_request.received:${ref.id}:${now.getTime()}`, type: "friend_request.received", fromId: uid, toId: toUid },
      now,
    );
  });
  logger.info("friend request sent", { from: uid, to: toUid });
  return { requestId: ref.id };
}

/** The recipient accepts `fromUid`'s request: the request goes, both friendship sides appear, in one transaction. */
export async function acceptFriendRequest(deps: FriendsDeps, uid: string, { fromUid }: z.infer<typeof fromUserInput>): Promise<{ friendUid: string }> {
  const now = deps.clock.now();
  const ref = requestRef(deps.db, fromUid, uid);
  await deps.db.runTransaction(async (tx) => {
    const [request, mine, theirs, sender] = await Promise.all([
      tx.get(ref),
      tx.get(friendRef(deps.db, uid, fromUid)),
      tx.get(friendRef(deps.db, fromUid, uid)),
      tx.get(profileRef(deps.db, fromUid)),
    ]);
    const data = request.data();
    if (!data || !isRequestOf(data, fromUid, uid)) throw new DomainError("friend_request_not_found");
    tx.delete(ref);
    if (!sender.exists) return; // the sender deleted their account meanwhile: the request just goes away
    if (!mine.exists) tx.set(friendRef(deps.db, uid, fromUid), { friendId: fromUid, source: "app", since: now });
    if (!theirs.exists) tx.set(friendRef(deps.db, fromUid, uid), { friendId: uid, source: "app", since: now });
    addToOutbox(
      deps.db,
      tx,
      { id: `friend_request.accepted:${ref.id}:${data.createdAt.getTime()}`, type: "friend_request.accepted", fromId: fromUid, toId: uid },
      now,
    );
  });
  logger.info("friend request accepted", { from: fromUid, to: uid });
  return { friendUid: fromUid };
}

/** The recipient declines: the request is deleted; the sender is not told (they see it disappear). */
export async function declineFriendRequest(deps: FriendsDeps, uid: string, { fromUid }: z.infer<typeof fromUserInput>): Promise<{ ok: true }> {
  await deleteRequest(deps.db, fromUid, uid);
  return { ok: true };
}

/** The sender withdraws their request. */
export async function cancelFriendRequest(deps: FriendsDeps, uid: string, { toUid }: z.infer<typeof toUserInput>): Promise<{ ok: true }> {
  await deleteRequest(deps.db, uid, toUid);
  return { ok: true };
}

async function deleteRequest(db: Firestore, from: string, to: string): Promise<void> {
  const ref = requestRef(db, from, to);
  await db.runTransaction(async (tx) => {
    const request = await tx.get(ref);
    if (!isRequestOf(request.data(), from, to)) throw new DomainError("friend_request_not_found");
    tx.delete(ref);
  });
}

/**
 * Ends a friendship: both sides go, and each ex-friend leaves the other's groups, in one transaction (so a
 * concurrent accept or group edit either sees the friendship or does not; never half of it).
 */
export async function unfriend(deps: FriendsDeps, uid: string, { friendUid }: z.infer<typeof friendInput>): Promise<{ ok: true }> {
  if (friendUid === uid) throw new DomainError("unfriend_self", { field: "friendUid" });
  const now = deps.clock.now();
  await deps.db.runTransaction(async (tx) => {
    const [mine, theirs] = await Promise.all([tx.get(friendRef(deps.db, uid, friendUid)), tx.get(friendRef(deps.db, friendUid, uid))]);
    if (!mine.exists && !theirs.exists) throw new DomainError("not_friends");
    await removeFriendship(deps.db, tx, uid, friendUid, now);
  });
  logger.info("unfriended", { uid, friendUid });
  return { ok: true };
}

/**
 * Deletes both friendship sides and removes each party from the other's groups. Reads inside `tx` first (Firestore
 * transactions read before they write), so call it before any other write in the transaction.
 */
export async function removeFriendship(db: Firestore, tx: Transaction, a: string, b: string, now: Date): Promise<void> {
  const [groupsOfA, groupsOfB] = await Promise.all([
    tx.get(groupsRef(db, a).where("memberIds", "array-contains", b)),
    tx.get(groupsRef(db, b).where("memberIds", "array-contains", a)),
  ]);
  for (const group of groupsOfA.docs) tx.update(group.ref, { memberIds: FieldValue.arrayRemove(b), updatedAt: now });
  for (const group of groupsOfB.docs) tx.update(group.ref, { memberIds: FieldValue.arrayRemove(a), updatedAt: now });
  tx.delete(friendRef(db, a, b));
  tx.delete(friendRef(db, b, a));
}
