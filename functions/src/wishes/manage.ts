import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import { DomainError, parseInput } from "../lib/errors";
import { logger } from "../lib/log";
import { admit } from "../lib/admission";
import { requireVisibleWish } from "../lib/visibility";
import { COMMENTS, COMMENT_TOMBSTONES, FOLLOWERS, WISHES } from "../model/wish";
import type { Audience, Wish } from "../model/wish";
import { withdrawAllFeedItems, withdrawFeedItems } from "../store/feed";
import { resolveViewerIds } from "./audience";
import { wishesCollection } from "../store/wishes";
import { refs } from "../store/donations";
import type { WishDeps } from "./create";
import { setAudienceInput, wishIdInput } from "./input";
import { retryOnConflict } from "../lib/retry";
import type { ConflictRetry } from "../lib/retry";

export function requireOrganizer(wish: Wish, uid: string): void {
  if (wish.organizerId !== uid) throw new DomainError("not_organizer");
}

/**
 * `deleteWish` (F8): the organizer deletes a wish nobody has donated to yet. Once any donation has succeeded the
 * answer is `failed-precondition`: close the wish instead, which refunds the donors. "Succeeded" is asked of the
 * donations themselves, not only of `hasSucceededDonation`, which the counters' fold sets up to a few seconds after a
 * payment. The check and the delete run in one transaction; comments, followers and feed items are cleaned up by the
 * `wishDeleted` trigger. A donation still pending does not block the delete (an abandoned payment sheet would block it
 * for ever): if it is paid afterwards, the money goes back as for a closed wish (closing/refunds.ts, settleDonation).
 */
export async function deleteWish(deps: WishDeps, uid: string, data: unknown): Promise<{ deleted: true }> {
  const { wishId } = parseInput(wishIdInput, data);
  await admit(deps, uid);
  const ref = wishesCollection(deps.db).doc(wishId);
  await deps.db.runTransaction(async (tx) => {
    const [wishSnap, succeeded] = await Promise.all([tx.get(ref), tx.get(refs.donations(deps.db).where("wishId", "==", wishId).where("paymentStatus", "==", "succeeded").limit(1))]);
    const wish = requireVisibleWish(wishSnap.data(), uid);
    requireOrganizer(wish, uid);
    if (wish.hasSucceededDonation || !succeeded.empty) {
      throw new DomainError("wish_has_donations");
    }
    tx.delete(ref);
  });
  logger.info("wish deleted", { wishId });
  return { deleted: true };
}

/**
 * After a wish document is deleted (by deleteWish or an admin): its comments, their moderation tombstones, followers
 * and every feed item go.
 */
export async function cleanUpDeletedWish(db: Firestore, wishId: string): Promise<void> {
  const wish = db.collection(WISHES).doc(wishId);
  await Promise.all([COMMENTS, COMMENT_TOMBSTONES, FOLLOWERS].map((name) => db.recursiveDelete(wish.collection(name))));
  const withdrawn = await withdrawAllFeedItems(db, wishId);
  logger.info("deleted wish cleaned up", { wishId, feedItemsWithdrawn: withdrawn });
}

interface AudienceChange {
  /** A new audience chosen by the organizer (strict validation); absent = recompute the current one. */
  audience?: Audience;
  /**
   * Only remove viewers, never add (a recomputation nobody with a say in the audience asked for: a friendship that
   * began or ended). For surprises: their audience grows only by an act of the organizer (docs/wishes.md).
   */
  shrinkOnly?: boolean;
  /** Checks run on the freshly read wish before anything is written. */
  check?: (wish: Wish | undefined) => Wish | undefined;
}

/**
 * Recomputes `viewerIds` of one open wish and withdraws feed items of everyone who lost access. Optimistic: the
 * update carries the read's update time as a precondition and is retried when anything changed the wish in between
 * (e.g. a donation), so two recomputations can never interleave into a stale `viewerIds`.
 */
export async function applyAudience(deps: WishDeps, ref: DocumentReference<Wish>, change: AudienceChange = {}): Promise<{ added: string[]; removed: string[] } | null> {
  const policy: ConflictRetry = {
    attempts: 8,
    conflicts: ["failed-precondition"], // the wish changed between the read and the update: read again
    exhausted: () => new Error(`wish ${ref.id}: audience recomputation kept conflicting with other writes`),
  };
  const applied = await retryOnConflict(policy, async () => {
    const snap = await ref.get();
    const wish = change.check ? change.check(snap.data()) : snap.data();
    if (!wish || wish.status !== "open") return null;
    const audience = change.audience ?? wish.audience;
    const resolved = await resolveViewerIds(deps.db, { ...wish, audience }, { strict: change.audience !== undefined });
    const viewerIds = change.shrinkOnly ? resolved.filter((uid) => wish.viewerIds.includes(uid)) : resolved;
    const before = new Set(wish.viewerIds);
    const after = new Set(viewerIds);
    const added = viewerIds.filter((uid) => !before.has(uid));
    const removed = wish.viewerIds.filter((uid) => !after.has(uid));
    if (!change.audience && added.length === 0 && removed.length === 0) return { added, removed, written: false };
    await ref.update(change.audience ? { audience, viewerIds, updatedAt: deps.clock.now() } : { viewerIds }, { lastUpdateTime: snap.updateTime });
    return { added, removed, written: true };
  });
  if (!applied) return null;
  const { added, removed, written } = applied;
  if (written) {
    if (removed.length) await withdrawFeedItems(deps.db, ref.id, removed);
    logger.info("wish audience applied", { wishId: ref.id, added: added.length, removed: removed.length });
  }
  return { added, removed };
}

/** `setWishAudience`: the organizer changes who sees an open wish. People who lose access lose its feed items too. */
export async function setWishAudience(deps: WishDeps, uid: string, data: unknown): Promise<{ viewerCount: number }> {
  const input = parseInput(setAudienceInput, data);
  await admit(deps, uid);
  const ref = wishesCollection(deps.db).doc(input.wishId);
  const result = await applyAudience(deps, ref, {
    audience: input.audience,
    check: (found) => {
      const wish = requireVisibleWish(found, uid);
      requireOrganizer(wish, uid);
      if (wish.status !== "open") throw new DomainError("wish_not_open", { params: { status: wish.status } });
      return wish;
    },
  });
  const fresh = (await ref.get()).data();
  return { viewerCount: result && fresh ? fresh.viewerIds.length : 0 };
}

/**
 * A friendship of `uid` began or ended. Recomputed: every open wish whose circle (src/wishes/audience.ts) contains
 * `uid`'s friends: `uid`'s own wishes, surprises for `uid`, and surprises `uid` organizes. Both sides of a friendship
 * fire this, so each side's wishes are handled by its own trigger. A surprise only loses viewers here, never gains:
 * its audience grows only by an act of its organizer (docs/wishes.md, "Who can join a surprise").
 */
export async function onFriendshipChanged(deps: WishDeps, uid: string, friendId: string): Promise<void> {
  const open = wishesCollection(deps.db).where("status", "==", "open");
  const [owned, organized] = await Promise.all([open.where("ownerId", "==", uid).get(), open.where("organizerId", "==", uid).get()]);
  const byId = new Map([...owned.docs, ...organized.docs.filter((doc) => doc.data().isSurprise)].map((doc) => [doc.id, doc]));
  // A "people" audience only changes when the friend is one of the chosen people.
  const affected = [...byId.values()].filter((doc) => {
    const { audience } = doc.data();
    return audience.kind !== "people" || audience.userIds.includes(friendId);
  });
  await Promise.all(affected.map((doc) => applyAudience(deps, doc.ref, { shrinkOnly: doc.data().isSurprise })));
}

/** A write of `users/{uid}/friends/{friendId}`: only a friendship that began or ended changes who sees what. */
export async function onFriendDocWritten(deps: WishDeps, uid: string, friendId: string, existed: { before: boolean; after: boolean }): Promise<void> {
  if (existed.before === existed.after) return; // an update of an existing friendship changes no access
  await onFriendshipChanged(deps, uid, friendId);
}

/** `uid` edited or deleted one of their groups: recompute their open wishes whose audience names that group. */
export async function onGroupChanged(deps: WishDeps, uid: string, groupId: string): Promise<void> {
  const snap = await wishesCollection(deps.db).where("organizerId", "==", uid).where("status", "==", "open").get();
  const affected = snap.docs.filter((doc) => doc.data().audience.groupIds.includes(groupId));
  await Promise.all(affected.map((doc) => applyAudience(deps, doc.ref)));
}
