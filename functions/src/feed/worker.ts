import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { encodeEventId } from "../events/outbox";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { FOLLOWERS, WISHES, followerSchema } from "../model/wish";
import type { FeedItem, Wish } from "../model/wish";
import { withdrawFeedItems, writeFeedItems } from "../store/feed";
import { isFirestoreError } from "../lib/firestore-errors";
import { wishRef } from "../store/wishes";
import type { TaskEnqueuer } from "../lib/tasks";
import { recordFeedDonation } from "./digest";

export interface FeedDeps {
  db: Firestore;
  clock: Clock;
  /** Cloud Tasks: the donation digest's fold (digest.ts). */
  tasks: TaskEnqueuer;
}

type FeedEvent = Extract<DomainEvent, { type: FeedItem["type"] }>;

export const followersCollection = (db: Firestore, wishId: string) =>
  db.collection(WISHES).doc(wishId).collection(FOLLOWERS).withConverter(zodConverter(followerSchema));

async function displayName(db: Firestore, uid: string): Promise<string> {
  const name: unknown = (await db.collection("users").doc(uid).get()).get("displayName");
  return typeof name === "string" && name.trim() ? name.trim() : "ElateMe";
}

/** `users/{uid}/private/account.settings.showDonationsInFeed`; off unless the donor switched it on. */
async function donorSharesDonations(db: Firestore, donorId: string): Promise<boolean> {
  const snap = await db.doc(`users/${donorId}/private/account`).get();
  return snap.get("settings.showDonationsInFeed") === true;
}

/**
 * Who follows a wish's conversation: its organizer, its owner, and everyone recorded in `wishes/{id}/followers`
 * (people who commented on it or donated to it). Only those who can currently see the wish ever get an item.
 */
async function followersOf(db: Firestore, wish: Wish, wishId: string): Promise<Set<string>> {
  const snap = await followersCollection(db, wishId).select().get();
  return new Set([wish.organizerId, wish.ownerId, ...snap.docs.map((doc) => doc.id)]);
}

interface Plan {
  recipients: string[];
  actorId: string | null;
  commentId: string | null;
}

async function plan(deps: FeedDeps, event: FeedEvent, wish: Wish): Promise<Plan | null> {
  const viewers = new Set(wish.viewerIds);
  const base = { commentId: null };
  switch (event.type) {
    case "wish.created":
      viewers.delete(wish.organizerId);
      viewers.delete(wish.ownerId); // listed for clarity: a surprise's recipient is never a viewer while it is open
      return { ...base, recipients: [...viewers], actorId: wish.organizerId };
    case "wish.funded":
      viewers.delete(wish.ownerId); // the owner hears through notifications (and surprise.revealed)
      return { ...base, recipients: [...viewers], actorId: wish.ownerId };
    case "surprise.revealed":
      if (!viewers.has(wish.ownerId)) {
        logger.warn("feed worker: surprise.revealed but the recipient is not yet a viewer; no item", { eventId: event.id, wishId: event.wishId });
        return null;
      }
      return { ...base, recipients: [wish.ownerId], actorId: wish.organizerId };
    case "donation.received": {
      // The donor follows the wish from now on, whatever their feed setting (they hear about comments).
      await followersCollection(deps.db, event.wishId)
        .doc(event.donorId)
        .create({ reason: "donated", since: deps.clock.now() })
        .catch((error: unknown) => {
          if (!isFirestoreError(error, "already-exists")) throw error; // already a follower
        });
      if (!(await donorSharesDonations(deps.db, event.donorId))) return null;
      // Into the wish's feed digest: its fold task writes the feeds (src/feed/digest.ts), not one item per donation.
      const donorName = event.anonymous ? null : await displayName(deps.db, event.donorId);
      await recordFeedDonation(deps, event, wish, donorName);
      return null;
    }
    case "comment.added": {
      const followers = await followersOf(deps.db, wish, event.wishId);
      const recipients = [...followers].filter((uid) => viewers.has(uid) && uid !== event.authorId);
      return { ...base, recipients, actorId: event.authorId, commentId: event.commentId };
    }
  }
}

function isFeedEvent(event: DomainEvent): event is FeedEvent {
  return ["wish.created", "wish.funded", "surprise.revealed", "donation.received", "comment.added"].includes(event.type);
}

/**
 * Fans one domain event out into feeds (a donation goes into its wish's feed digest instead, digest.ts). Recipients are always drawn from the wish's current `viewerIds`, so a hidden
 * surprise never reaches its recipient. Item ids are the event id: a redelivered event rewrites the same documents.
 * After writing, the wish is read again and items of anyone who lost access meanwhile are withdrawn, so a fan-out
 * racing an audience change cannot leave an item behind.
 */
export async function fanOutEvent(deps: FeedDeps, event: DomainEvent): Promise<{ delivered: number }> {
  if (!isFeedEvent(event)) return { delivered: 0 };
  const wish = (await wishRef(deps.db, event.wishId).get()).data();
  if (!wish) {
    logger.info("feed worker: wish no longer exists; no items", { eventId: event.id, wishId: event.wishId });
    return { delivered: 0 };
  }
  const decided = await plan(deps, event, wish);
  if (!decided || decided.recipients.length === 0) return { delivered: 0 };
  const item: FeedItem = {
    type: event.type,
    eventId: event.id,
    wishId: event.wishId,
    wishTitle: wish.title,
    ownerId: wish.ownerId,
    organizerId: wish.organizerId,
    isSurprise: wish.isSurprise,
    actorId: decided.actorId,
    amount: null,
    currency: null,
    commentId: decided.commentId,
    createdAt: new Date(event.occurredAt),
  };
  await writeFeedItems(deps.db, decided.recipients, encodeEventId(event.id), item);

  const after = (await wishRef(deps.db, event.wishId).get()).data();
  const stillViewers = new Set(after?.viewerIds ?? []);
  const lost = decided.recipients.filter((uid) => !stillViewers.has(uid));
  if (lost.length) await withdrawFeedItems(deps.db, event.wishId, lost);
  logger.info("feed fan-out", { eventId: event.id, type: event.type, wishId: event.wishId, delivered: decided.recipients.length - lost.length });
  return { delivered: decided.recipients.length - lost.length };
}
