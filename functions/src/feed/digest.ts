import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { logger } from "../lib/log";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { isFirestoreError } from "../lib/firestore-errors";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { donationDigestSchema } from "../model/digest";
import type { DigestMarker } from "../model/digest";
import { WISHES } from "../model/wish";
import type { FeedItem, Wish } from "../model/wish";
import { addToDigest, hasRoom, parseStored, readUnfolded, scheduleIntervalFold, takeForDigest } from "../store/digests";
import { withdrawFeedItems, writeFeedItems } from "../store/feed";
import { wishRef } from "../store/wishes";

/**
 * Donations in friends' feeds, digested (docs/wishes.md, "Feed"). A shared `donation.received` (the donor switched
 * `showDonationsInFeed` on) becomes a marker `wishes/{wishId}/feedDonations/{donationId}` (`create()`: a redelivery is
 * refused) and asks for the wish's feed fold of the current FEED_DIGEST_INTERVAL_MS (a Cloud Task named per wish and
 * interval). The fold moves the unfolded markers into the wish's current digest (`wishes/{wishId}/feedDigests/
 * current`, in one transaction that flags them folded) and writes it as one feed item, `donations_{wishId}_{n}`, to
 * every viewer. A digest is current for FEED_DIGEST_WINDOW_MS and MAX_DONATIONS_PER_DIGEST donations; then the next
 * starts. So a viewer's item takes at most one write per interval however hot the wish, and a quiet wish's donation
 * reaches the feeds within about one interval.
 */

export const FEED_DIGEST_INTERVAL_MS = 10_000;
/** A feed digest collects the donations of at most this long (then a new item starts, so news rises in the feed). */
export const FEED_DIGEST_WINDOW_MS = 3_600_000;
export const FEED_DIGEST_QUEUE = "foldFeedDigest";
export const feedDigestTaskPayload = z.object({ wishId: idSchema }).strict();

export interface FeedDigestDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
}

const markers = (db: Firestore, wishId: string) => db.collection(WISHES).doc(wishId).collection("feedDonations");
const stateRef = (db: Firestore, wishId: string) => db.collection(WISHES).doc(wishId).collection("feedDigests").doc("current");
export const feedDigestItemId = (wishId: string, seq: number) => `donations_${wishId}_${seq}`;

/**
 * `wishes/{wishId}/feedDigests/current` (server only): the current digest, its number, when it started, and which
 * version of it the viewers' feeds hold (`published`), so a fold that died between its commit and its fan-out is
 * finished by the next run.
 */
const feedDigestStateSchema = z.object({
  seq: z.number().int(),
  startedAt: z.date(),
  version: z.number().int(),
  published: z.number().int(),
  lastEventId: z.string(),
  wishTitle: z.string(),
  digest: donationDigestSchema,
});
type FeedDigestState = z.infer<typeof feedDigestStateSchema>;

export function scheduleFeedDigestFold(tasks: TaskEnqueuer, wishId: string, at: Date): Promise<"enqueued" | "duplicate"> {
  return scheduleIntervalFold(tasks, { queue: FEED_DIGEST_QUEUE, prefix: "feed-digest", key: wishId, intervalMs: FEED_DIGEST_INTERVAL_MS, payload: { wishId } }, at);
}

/** The feed worker's part: the marker (an anonymous donation's donor and amount are never recorded) and the fold. */
export async function recordFeedDonation(
  deps: FeedDigestDeps,
  event: Extract<DomainEvent, { type: "donation.received" }>,
  wish: Wish,
  donorName: string | null,
): Promise<"recorded" | "duplicate"> {
  const marker: DigestMarker = {
    donationId: event.donationId,
    eventId: event.id,
    donorId: event.anonymous ? null : event.donorId,
    donorName: event.anonymous ? null : donorName,
    // The feed never shows what an anonymous donor gave (docs/wishes.md): it is counted, its amount is not summed.
    amount: event.anonymous ? 0 : event.amount,
    currency: event.currency,
    wishTitle: wish.title,
    occurredAt: new Date(event.occurredAt),
    folded: false,
    digestId: null,
  };
  let outcome: "recorded" | "duplicate" = "recorded";
  try {
    await markers(deps.db, event.wishId).doc(event.donationId).create({ ...marker, recordedAt: deps.clock.now() });
  } catch (error) {
    if (!isFirestoreError(error, "already-exists")) throw error;
    outcome = "duplicate";
  }
  await scheduleFeedDigestFold(deps.tasks, event.wishId, deps.clock.now());
  return outcome;
}

/** The feed item a digest is, for every viewer. */
function feedItemOf(wishId: string, wish: Wish, state: FeedDigestState): FeedItem {
  const { digest } = state;
  const lastNamed = digest.donors[digest.donors.length - 1];
  return {
    type: "donation.received",
    eventId: state.lastEventId,
    wishId,
    wishTitle: wish.title,
    ownerId: wish.ownerId,
    organizerId: wish.organizerId,
    isSurprise: wish.isSurprise,
    actorId: lastNamed?.userId ?? null,
    amount: lastNamed ? digest.amount : null,
    currency: lastNamed ? digest.currency : null,
    commentId: null,
    createdAt: digest.lastAt,
    digest,
  };
}

/**
 * The feed fold task: markers → the current digest (one transaction: each marker counted once, however the tasks
 * race or are redelivered), then the digest's item to every viewer of the wish as it is now (`set` with its fixed id:
 * a repeated fan-out rewrites the same documents), except a lone donor, who is not told of their own gift. As the
 * fan-out of any event, the wish is read again afterwards and the items of anyone who lost access are withdrawn.
 */
export async function foldFeedDigest(deps: FeedDigestDeps, wishId: string): Promise<{ folded: number; delivered: number; itemId: string | null }> {
  const { db } = deps;
  const now = deps.clock.now();
  const state = await db.runTransaction(async (tx): Promise<{ state: FeedDigestState; folded: number; more: boolean } | null> => {
    const snap = await tx.get(stateRef(db, wishId));
    const current = parseStored(feedDigestStateSchema, snap.data());
    const { pending, full } = await readUnfolded(tx, markers(db, wishId));
    const head = pending[0]?.marker;
    if (!head) return current && current.published < current.version ? { state: current, folded: 0, more: false } : null;
    const continues = current !== null && now.getTime() - current.startedAt.getTime() < FEED_DIGEST_WINDOW_MS && hasRoom(current.digest, head);
    const base = continues ? current.digest : null;
    const taken = takeForDigest(base, pending);
    const seq = continues ? current.seq : (current?.seq ?? 0) + 1;
    const last = taken[taken.length - 1]?.marker ?? head;
    const next: FeedDigestState = {
      seq,
      startedAt: continues ? current.startedAt : now,
      version: (current?.version ?? 0) + 1,
      published: current?.published ?? 0,
      lastEventId: last.eventId,
      wishTitle: last.wishTitle,
      digest: addToDigest(base, wishId, taken.map((entry) => entry.marker)),
    };
    const itemId = feedDigestItemId(wishId, seq);
    for (const entry of taken) tx.update(entry.ref, { folded: true, digestId: itemId });
    tx.set(stateRef(db, wishId), next);
    return { state: next, folded: taken.length, more: taken.length < pending.length || full };
  });
  if (!state) return { folded: 0, delivered: 0, itemId: null };
  if (state.more) await scheduleFeedDigestFold(deps.tasks, wishId, new Date(now.getTime() + FEED_DIGEST_INTERVAL_MS));

  const itemId = feedDigestItemId(wishId, state.state.seq);
  const [wishSnap, latest] = await Promise.all([wishRef(db, wishId).get(), stateRef(db, wishId).get()]);
  const wish = wishSnap.data();
  if (!wish) return { folded: state.folded, delivered: 0, itemId };
  // A newer fold committed meanwhile (a retry racing the next interval's task): it publishes the newer digest.
  if (latest.get("version") !== state.state.version) return { folded: state.folded, delivered: 0, itemId };
  const { digest } = state.state;
  const lone = digest.donors.length === 1 && digest.anonymous === 0 ? digest.donors[0]?.userId : undefined;
  const recipients = wish.viewerIds.filter((uid) => uid !== lone);
  await writeFeedItems(db, recipients, itemId, feedItemOf(wishId, wish, state.state));
  await stateRef(db, wishId).update({ published: state.state.version }).catch((error: unknown) => {
    // A newer fold's state replaced this one meanwhile: it publishes itself.
    if (!isFirestoreError(error, "not-found")) throw error;
  });
  const after = (await wishRef(db, wishId).get()).data();
  const stillViewers = new Set(after?.viewerIds ?? []);
  const lost = recipients.filter((uid) => !stillViewers.has(uid));
  if (lost.length) await withdrawFeedItems(db, wishId, lost);
  logger.info("feed donation digest folded", { wishId, itemId, folded: state.folded, donations: digest.donations, delivered: recipients.length - lost.length });
  return { folded: state.folded, delivered: recipients.length - lost.length, itemId };
}
