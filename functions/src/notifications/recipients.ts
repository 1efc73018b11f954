import type { Firestore } from "firebase-admin/firestore";
import type { DomainEvent } from "../events/schema";
import type { Wish } from "../model/wish";
import type { Category, MessageArg, MessageKey } from "./catalog";
import { wishRef } from "../store/wishes";

/** One notification to one user, before localization and delivery. */
export interface PlannedNotification {
  recipientId: string;
  category: Category;
  messageKey: MessageKey;
  args: MessageArg[];
  /** Deep-link ids, all strings (FCM data values must be strings). */
  data: Record<string, string>;
  /** APNs `thread-id` (groups a wish's notifications): the wish id, or "friends". */
  threadId: string;
  /** Android `collapse_key` and APNs `apns-collapse-id` (≤ 64 bytes). */
  collapseKey: string;
  /** `donation.received` only: what its wish's digest records of the donation (digest.ts). */
  donation?: { donorName: string | null; wishTitle: string };
}

export interface Skipped {
  recipientId: string | null;
  reason: string;
}

/** What recipient resolution reads; the Firestore implementation is below, tests may pass their own. */
export interface Directory {
  wish(wishId: string): Promise<Wish | undefined>;
  displayName(uid: string): Promise<string>;
  /** Users with a succeeded (possibly since refunded) donation to the wish. */
  donorIds(wishId: string): Promise<string[]>;
}

/**
 * Donation statuses that mean "this user gave money to the wish" (docs/notifications.md, "Donors"): paid, or paid and
 * since refunded (a closed wish's donors are told even when their refund was quick). The donations domain owns
 * `donations/{id}` (src/model/donation.ts); this worker relies only on its `wishId`, `donorId` and `status` fields.
 */
export const DONOR_STATUSES: ReadonlySet<string> = new Set(["succeeded", "refunded"]);

const FALLBACK_NAME = "ElateMe";

export function firestoreDirectory(db: Firestore): Directory {
  return {
    async wish(wishId) {
      const snap = await wishRef(db, wishId).get();
      return snap.data();
    },
    async displayName(uid) {
      const name: unknown = (await db.collection("users").doc(uid).get()).get("displayName");
      return typeof name === "string" && name.trim() ? name.trim() : FALLBACK_NAME;
    },
    async donorIds(wishId) {
      const snaps = await db.collection("donations").where("wishId", "==", wishId).get();
      const ids = new Set<string>();
      for (const doc of snaps.docs) {
        const donorId: unknown = doc.get("donorId");
        const status: unknown = doc.get("status");
        if (typeof donorId === "string" && typeof status === "string" && DONOR_STATUSES.has(status)) ids.add(donorId);
      }
      return [...ids];
    },
  };
}

/** A surprise whose recipient has not been told yet: its owner must learn nothing about it. */
export function isUnrevealedSurprise(wish: Pick<Wish, "isSurprise" | "revealedAt">): boolean {
  return wish.isSurprise && wish.revealedAt === null;
}

/**
 * May `uid` be told anything about `wish` right now? The owner of an unrevealed surprise: never. Otherwise the owner,
 * the organizer and anyone the wish is visible to (`viewerIds`).
 */
export function mayKnowAbout(wish: Pick<Wish, "isSurprise" | "revealedAt" | "ownerId" | "organizerId" | "viewerIds">, uid: string): boolean {
  if (uid === wish.ownerId && isUnrevealedSurprise(wish)) return false;
  return uid === wish.ownerId || uid === wish.organizerId || wish.viewerIds.includes(uid);
}

const money = (amount: number, currency: string): MessageArg => ({ amount, currency });
const text = (value: string): MessageArg => ({ text: value });

/**
 * Who is told what about one domain event (the table in docs/notifications.md). Reads the wish at processing time,
 * so the surprise check uses its current `revealedAt`/`viewerIds`. The actor of an event is never notified of it.
 */
export async function planNotifications(
  event: DomainEvent,
  dir: Directory,
): Promise<{ planned: PlannedNotification[]; skipped: Skipped[] }> {
  const planned: PlannedNotification[] = [];
  const skipped: Skipped[] = [];
  const seen = new Set<string>(); // a Set, not a scan: friend.joined plans thousands of recipients
  const add = (recipientIds: string[], make: (uid: string) => Omit<PlannedNotification, "recipientId">, actorId?: string) => {
    for (const uid of recipientIds) {
      if (uid === actorId) skipped.push({ recipientId: uid, reason: "actor" });
      else if (seen.has(uid)) continue;
      else {
        seen.add(uid);
        planned.push({ recipientId: uid, ...make(uid) });
      }
    }
  };

  if (event.type === "wish.created") return { planned, skipped: [{ recipientId: null, reason: "not notified (feed only)" }] };
  if (event.type === "user.signed_up") return { planned, skipped: [{ recipientId: null, reason: "not notified (ads attribution only)" }] };

  if (
    event.type === "friend_request.received" ||
    event.type === "friend_request.accepted" ||
    event.type === "friend.joined"
  ) {
    const social = (userId: string, key: MessageKey, name: string, collapseKey: string) => ({
      category: "friends" as const,
      messageKey: key,
      args: [text(name)],
      data: { userId },
      threadId: "friends",
      collapseKey,
    });
    if (event.type === "friend_request.received") {
      const name = await dir.displayName(event.fromId);
      add([event.toId], () => social(event.fromId, "friend_request_received", name, `friend-request-${event.fromId}`), event.fromId);
    } else if (event.type === "friend_request.accepted") {
      const name = await dir.displayName(event.toId);
      add([event.fromId], () => social(event.toId, "friend_request_accepted", name, `friend-accepted-${event.toId}`), event.toId);
    } else {
      const name = await dir.displayName(event.userId);
      add(event.friendIds, () => social(event.userId, "friend_joined", name, `friend-joined-${event.userId}`), event.userId);
    }
    return { planned, skipped };
  }

  const wish = await dir.wish(event.wishId);
  if (!wish) return { planned, skipped: [{ recipientId: null, reason: "wish not found" }] };
  const wishLink = (category: Category, key: MessageKey, args: MessageArg[], extra: Record<string, string> = {}) => ({
    category,
    messageKey: key,
    args,
    data: { wishId: event.wishId, ...extra },
    threadId: event.wishId,
    collapseKey: `${category}-${event.wishId}`,
  });

  switch (event.type) {
    case "donation.received": {
      // Before the reveal, news about a surprise goes to its organizer, never to its recipient.
      const recipient = isUnrevealedSurprise(wish) ? wish.organizerId : wish.ownerId;
      const amount = money(event.amount, event.currency);
      const donorName = event.anonymous ? null : await dir.displayName(event.donorId);
      const args = donorName === null ? [amount, text(wish.title)] : [text(donorName), amount, text(wish.title)];
      const key = donorName === null ? "donation_received_anonymous" : "donation_received_named";
      add([recipient], () => ({ ...wishLink("donations", key, args, { donationId: event.donationId }), donation: { donorName, wishTitle: wish.title } }), event.donorId);
      break;
    }
    case "wish.funded": {
      const goal = money(wish.amount, wish.currency);
      // A surprise's recipient hears about it through surprise.revealed, not here.
      const owner = wish.isSurprise ? [] : [wish.ownerId];
      add(owner, () => wishLink("wishes", "wish_funded_owner", [text(wish.title), goal]));
      const supporters = [wish.organizerId, ...(await dir.donorIds(event.wishId))].filter((uid) => uid !== wish.ownerId);
      add(supporters, () => wishLink("wishes", "wish_funded_supporter", [text(wish.title), goal]));
      break;
    }
    case "surprise.revealed": {
      const organizer = await dir.displayName(wish.organizerId);
      add([wish.ownerId], () => wishLink("wishes", "surprise_revealed", [text(organizer), money(wish.raised, wish.currency), text(wish.title)]));
      break;
    }
    case "wish.closed":
    case "wish.expired": {
      const key = event.type === "wish.closed" ? "wish_closed" : "wish_expired";
      const actor = event.type === "wish.closed" ? event.closedBy : undefined;
      add(await dir.donorIds(event.wishId), () => wishLink("wishes", key, [text(wish.title)]), actor);
      break;
    }
    case "refund.processed":
      add([event.donorId], () =>
        wishLink("payments", "refund_processed", [money(event.amount, event.currency), text(wish.title)], { donationId: event.donationId }),
      );
      break;
    case "refund.claimable":
      add([event.donorId], () =>
        wishLink("payments", "refund_claimable", [money(event.amount, event.currency), text(wish.title)], { donationId: event.donationId }),
      );
      break;
    case "payout.sent":
      add([event.ownerId], () => wishLink("payments", "payout_sent", [money(event.amount, event.currency), text(wish.title)]));
      break;
    case "comment.added": {
      const author = await dir.displayName(event.authorId);
      add([wish.ownerId, wish.organizerId], () =>
        wishLink("comments", "comment_added", [text(author), text(wish.title)], { commentId: event.commentId }),
        event.authorId,
      );
      break;
    }
  }

  // The last word on who may hear about this wish, checked against the wish as it is now.
  const allowed = planned.filter((p) => mayKnowAbout(wish, p.recipientId));
  for (const p of planned) if (!allowed.includes(p)) skipped.push({ recipientId: p.recipientId, reason: "may not know about this wish" });
  return { planned: allowed, skipped };
}
