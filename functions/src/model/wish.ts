import { z } from "zod";
import { currencySchema } from "./money";
import { donationDigestSchema } from "./digest";

export const WISH_STATUSES = ["open", "funded", "closed", "expired"] as const;
export const wishStatusSchema = z.enum(WISH_STATUSES);
export type WishStatus = z.infer<typeof wishStatusSchema>;

export const audienceSchema = z.object({
  kind: z.enum(["friends", "groups", "people"]),
  groupIds: z.array(z.string()),
  userIds: z.array(z.string()),
});
export type Audience = z.infer<typeof audienceSchema>;

/**
 * `wishes/{wishId}`. See docs/data-model.md. `ownerId` receives the money; `organizerId` created the wish (they differ
 * only for a surprise). `viewerIds` is the materialised audience the rules check; a surprise's recipient is not in
 * it until the wish is funded. `raised`/`donorCount`/`status` are maintained by the server from the ledger.
 */
export const wishSchema = z.object({
  ownerId: z.string(),
  organizerId: z.string(),
  isSurprise: z.boolean(),
  title: z.string(),
  description: z.string(),
  imageUrl: z.string().nullable(),
  amount: z.number().int(),
  currency: currencySchema,
  deadline: z.date(),
  audience: audienceSchema,
  viewerIds: z.array(z.string()),
  status: wishStatusSchema,
  raised: z.number().int(),
  donorCount: z.number().int(),
  hasSucceededDonation: z.boolean(),
  // When the shards last folded into raised/donorCount (the shards' read time); absent until the first fold.
  // Clients show `raised` as of this time: it trails the ledger by at most COUNTER_FOLD_LAG_TARGET_MS (docs/donations.md).
  raisedAsOf: z.date().nullable().optional(),
  // The part of raised/donorCount the webhook wrote straight into a quiet wish (docs/donations.md "Quiet and hot
  // wishes"): raised = directRaised + the sum of the shards as of raisedAsOf. Absent (0) until the first such write.
  directRaised: z.number().int().optional(),
  directDonorCount: z.number().int().optional(),
  // The donors the last fold added to donorCount: a fold of one (a warm wish, a donation every few seconds) does not
  // keep the wish busy; a fold of several does (ledger.ts, BUSY_AFTER_FOLD_MS).
  lastFoldDonors: z.number().int().optional(),
  createdAt: z.date(),
  updatedAt: z.date(),
  fundedAt: z.date().nullable(),
  closedAt: z.date().nullable(),
  revealedAt: z.date().nullable(),
  // ops/refunds.ts (docs/operations.md): set by the admin-only freezeWish callable; a frozen wish accepts no donations
  // and is not paid out. Absent on wishes never frozen. Ops' reason is kept in the audit log only: viewers read this
  // document, the organizer under investigation too.
  frozenAt: z.date().nullable().optional(),
  // moderation (docs/operations.md, "Reports"): set while enough distinct reports hide the wish pending review; while
  // set, only the organizer (and the owner, unless it is an unrevealed surprise) are viewers. Absent on wishes never hidden.
  hiddenAt: z.date().nullable().optional(),
});
export type Wish = z.infer<typeof wishSchema>;

export const WISHES = "wishes";

/**
 * `wishes/{wishId}/raisedShards/{shardId}`: the per-donation counters of a wish, spread over shards so that no
 * document takes more than about one write per second however hot the wish (Firestore's sustained per-document
 * limit). The webhook increments one shard per confirmed donation; `foldWishCounters` sums them into the wish's
 * `raised`/`donorCount` at most once per FOLD_INTERVAL_MS. Server only (no client access).
 */
export const RAISED_SHARDS = "raisedShards";
export const raisedShardsCollection = (wishId: string) => `${WISHES}/${wishId}/${RAISED_SHARDS}`;
/**
 * Shards per wish. A donation's shard is a hash of its id, so at R donations/s each shard takes about R / 1024 writes
 * per second (1,000 donations in 10 s: about 1 write per shard, a handful at most). A quiet wish has a few shard
 * documents; the fold reads only those that exist.
 */
export const RAISED_SHARD_COUNT = 1024;
/** The shard that the ledger re-derivation writes its corrections to (reconcileWishLedger with repair). */
export const RAISED_ADJUSTMENT_SHARD = "adjustment";
/** How often at most a wish's shards are folded into it (one Cloud Task per wish per interval). */
export const FOLD_INTERVAL_MS = 1_000;
/**
 * A wish nobody wrote for this long, and not folded for BUSY_AFTER_FOLD_MS, is quiet: the webhook adds a donation
 * straight into it instead of a shard (src/donations/ledger.ts). A little over the fold interval, so that its direct
 * writes stay more than a second apart, and a fold waiting out the rest of its second (counters.ts, `waitUpToMs`)
 * writes before the next direct write may.
 */
export const QUIET_WISH_AFTER_MS = 1_200;
/**
 * A wish whose last fold, this recently, added more than one donor is busy (its donations go to shards) even when
 * its last write is older than QUIET_WISH_AFTER_MS: while donations keep coming through shards, a fold writes the
 * wish about once a second, and a direct write in a gap between folds would delay the next one (measured: with 1 s
 * and no such rule, direct writes took every gap and `raised` lagged 7–19 s). The fold's own write is not donation
 * activity: a wish that took a donation through a shard (two within a second) and was folded is quiet again once this
 * has passed. A fold of a single donor does not keep it busy: a warm wish (a donation every 2–4 s) that once went
 * to a shard would otherwise stay on shards, with a fold for each donation (measured: 1,466 folds for 2,000 donations
 * over 200 wishes, against 569 direct). Donors, not payments: the fold knows them without another query, and a hot
 * wish's folds add many new donors; a burst of repeat donors read as quiet costs lag, never the write limit.
 */
export const BUSY_AFTER_FOLD_MS = 2_500;
/**
 * Whether `wish`, as read at `atMs` (server time), is busy by its folds: folded within `busyAfterFoldMs` by a fold that
 * added more than one donor. A wish folded before `lastFoldDonors` existed counts as a fold of several.
 */
export function wishIsBusy(wish: Pick<Wish, "raisedAsOf" | "lastFoldDonors">, atMs: number, busyAfterFoldMs = BUSY_AFTER_FOLD_MS): boolean {
  const foldedAt = wish.raisedAsOf?.getTime() ?? Number.NEGATIVE_INFINITY;
  return atMs - foldedAt < busyAfterFoldMs && (wish.lastFoldDonors ?? Number.POSITIVE_INFINITY) > 1;
}

/** What clients may expect: `raised` is at most this far behind a confirmed donation (docs/donations.md). */
export const COUNTER_FOLD_LAG_TARGET_MS = 2_000;

export const raisedShardSchema = z.object({
  raised: z.number().int(),
  donorCount: z.number().int(),
});
export type RaisedShard = z.infer<typeof raisedShardSchema>;

/** The shard a donation's counters go to: a stable hash of its id (a redelivery hits the same shard). */
export function raisedShardId(donationId: string): string {
  let hash = 2166136261;
  for (let i = 0; i < donationId.length; i++) {
    hash ^= donationId.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  // FNV-1a, then murmur3's finaliser: similar ids (don-1, don-2, …) still spread over every shard.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return String((hash >>> 0) % RAISED_SHARD_COUNT);
}

/**
 * The server-owned fields of a wish as created: open, nothing raised, no milestones yet. `now` is the creation time
 * (a Date on the server; tests writing through the client SDK may pass a Timestamp).
 */
export function newWishState<T = Date>(now: T) {
  return {
    status: "open" as const,
    raised: 0,
    donorCount: 0,
    hasSucceededDonation: false,
    createdAt: now,
    updatedAt: now,
    fundedAt: null,
    closedAt: null,
    revealedAt: null,
  };
}

/** Hard caps that keep a wish document (and its array-contains index entries) well inside Firestore's limits. */
export const WISH_LIMITS = {
  titleMax: 120,
  descriptionMax: 2000,
  imageUrlMax: 2048,
  maxDeadlineMs: 366 * 24 * 60 * 60 * 1000,
  maxGroupIds: 20,
  maxUserIds: 1000,
  commentMax: 1000,
} as const;

/**
 * `wishes/{wishId}/comments/{commentId}`. The client writes exactly `authorId`, `text`, `createdAt` (rules check
 * them); the comment trigger adds the author's public name and photo.
 */
export const commentSchema = z.object({
  authorId: z.string(),
  text: z.string(),
  createdAt: z.date(),
  authorName: z.string().nullable().optional(),
  authorPhotoUrl: z.string().nullable().optional(),
});
export type Comment = z.infer<typeof commentSchema>;

/** A document of {@link COMMENT_TOMBSTONES}: the moderation case that retired the id, and when it last took it off. */
export const commentTombstoneSchema = z.object({
  caseId: z.string(),
  retiredAt: z.date(),
});
export type CommentTombstone = z.infer<typeof commentTombstoneSchema>;

/**
 * `wishes/{wishId}/followers/{uid}`: server-only record of who follows a wish's conversation beyond its organizer and
 * owner (people who commented on it or donated to it). Closed to clients.
 */
export const followerSchema = z.object({
  reason: z.enum(["commented", "donated"]),
  since: z.date(),
});

export const FEED_ITEM_TYPES = ["wish.created", "wish.funded", "surprise.revealed", "donation.received", "comment.added"] as const;

/**
 * `users/{uid}/feed/{itemId}`: one piece of news, written by the feed worker. `itemId` is the domain event's id (so a
 * redelivered event overwrites instead of duplicating), or for donations the wish's digest `donations_{wishId}_{n}`. `actorId` is who did it (null for an anonymous donation);
 * `amount`/`currency` only for a non-anonymous donation.
 */
export const feedItemSchema = z.object({
  type: z.enum(FEED_ITEM_TYPES),
  eventId: z.string(),
  wishId: z.string(),
  wishTitle: z.string(),
  ownerId: z.string(),
  organizerId: z.string(),
  isSurprise: z.boolean(),
  actorId: z.string().nullable(),
  amount: z.number().int().nullable(),
  currency: z.string().nullable(),
  commentId: z.string().nullable(),
  createdAt: z.date(),
  /**
   * Only on a donation digest (`donations_{wishId}_{n}`, src/feed/digest.ts): every shared donation it sums up;
   * anonymous ones are counted and never named, and their amounts are not in `amount`.
   */
  digest: donationDigestSchema.optional(),
});
export type FeedItem = z.infer<typeof feedItemSchema>;

export const COMMENTS = "comments";
/**
 * `wishes/{wishId}/commentTombstones/{commentId}`: a comment id that moderation took off the wish (hidden at the report
 * threshold, or removed by ops), kept for good even if ops keep the comment; server-only, closed to clients. The rules
 * refuse a new comment under such an id, so a hidden or removed comment cannot come back under its old id, whose
 * moderation case is no longer open (docs/operations.md "Reports"). Deleted with the wish.
 */
export const COMMENT_TOMBSTONES = "commentTombstones";
export const FOLLOWERS = "followers";
export const FEED = "feed";
export const feedCollection = (uid: string) => `users/${uid}/feed`;
