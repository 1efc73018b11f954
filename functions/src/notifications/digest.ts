import { FieldValue } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { z } from "zod";
import { logger } from "../lib/log";
import type { DomainEvent } from "../events/schema";
import type { Clock } from "../lib/clock";
import { isFirestoreError } from "../lib/firestore-errors";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { render } from "./catalog";
import type { MessageArg, MessageKey } from "./catalog";
import { DEFAULT_STATE, accountsGone, inboxItem, pushAll, pushState, readRecipientStates } from "./delivery";
import type { RecipientState } from "./delivery";
import { accountDoc, inboxCounterDoc, inboxItemSchema, notificationsCollection } from "./model";
import type { InboxItem, PushState } from "./model";
import type { DigestMarker, DonationDigest } from "../model/digest";
import { addToDigest, hasRoom, parseStored, readUnfolded, scheduleIntervalFold, takeForDigest } from "../store/digests";
import type { PushTransport } from "./push";
import type { PlannedNotification } from "./recipients";
import type { RetryPolicy } from "./sender";

/**
 * Donation digests (docs/notifications.md, "Donation digests"). A `donation.received` does not write the recipient's
 * inbox: the worker records the donation as a marker (`users/{uid}/donationDigests/{wishId}/digestDonations/{donationId}`,
 * `create()`d, so a redelivery is refused) and asks for the fold task of the current second (named per recipient,
 * wish and second, so Cloud Tasks runs at most one per second). The fold, in one transaction, moves every unfolded
 * marker into the wish's current digest item (`users/{uid}/notifications/donations_{wishId}_{n}`) and flags them
 * folded; it starts a new item (and raises the unread count, once) when there is none yet, or the last one was read
 * or is full. Pushes: at most one per wish per DIGEST_PUSH_INTERVAL_MS; news within it waits for a fold the interval's
 * end (the item's push is `deferred` until then). So however hot the wish, the digest item, its state document and the
 * unread count take at most about one write per second, and a quiet wish's single donation is in the inbox and
 * pushed about a second after it came.
 */

/** The fold interval: the digest item is written at most once per interval (and a donation waits at most that long). */
export const DIGEST_FOLD_INTERVAL_MS = 1_000;
/** At most one push per wish (per recipient) per this interval. */
export const DIGEST_PUSH_INTERVAL_MS = 60_000;
/** How long a fold owns the digest's push; longer than the fold task's timeout (index.ts: 50 s). */
const PUSH_LEASE_MS = 60_000;
/** Named donors shown in the text (all of them are in `digest.donors`). */
const NAMES_IN_TEXT = 3;

export const DIGEST_QUEUE = "foldDonationDigest";
export const digestTaskPayload = z.object({ uid: idSchema, wishId: idSchema }).strict();

export interface DigestDeps {
  db: Firestore;
  clock: Clock;
  push: PushTransport;
  tasks: TaskEnqueuer;
  retry?: RetryPolicy;
}

/** `users/{uid}/donationDigests/{wishId}`: which digest item is current, and when the wish last pushed. Server only. */
const digestStateSchema = z.object({
  seq: z.number().int(),
  currentId: z.string().nullable(),
  lastPushAt: z.date().nullable(),
  wishTitle: z.string().optional(),
});

export const digestStateDoc = (uid: string, wishId: string) => `users/${uid}/donationDigests/${wishId}`;
const markers = (db: Firestore, uid: string, wishId: string) => db.doc(digestStateDoc(uid, wishId)).collection("digestDonations");
export const digestItemId = (wishId: string, seq: number) => `donations_${wishId}_${seq}`;

/** Asks for the fold of the interval `at` falls in (store/digests.ts): at most one per recipient, wish and second. */
export function scheduleDigestFold(tasks: TaskEnqueuer, uid: string, wishId: string, at: Date): Promise<"enqueued" | "duplicate"> {
  return scheduleIntervalFold(tasks, { queue: DIGEST_QUEUE, prefix: "digest", key: `${uid}/${wishId}`, intervalMs: DIGEST_FOLD_INTERVAL_MS, payload: { uid, wishId } }, at);
}

/**
 * The worker's part: a marker per planned recipient (the owner, or the organizer of an unrevealed surprise), then the
 * fold of the current interval. A redelivered event finds its marker (`duplicate`) and asks for the fold again, which
 * covers "marker written, then the enqueue failed". A recipient whose account is gone gets no marker (`no-account`):
 * a deleted owner's wish stays, and donations to it must not write the donor's name under the deleted `users/{uid}`.
 */
export async function recordDonationForDigest(
  deps: { db: Firestore; clock: Clock; tasks: TaskEnqueuer },
  event: Extract<DomainEvent, { type: "donation.received" }>,
  planned: readonly PlannedNotification[],
): Promise<Record<string, "digested" | "duplicate" | "no-account">> {
  const outcomes: Record<string, "digested" | "duplicate" | "no-account"> = {};
  const gone = await accountsGone(deps.db, planned.map((plan) => plan.recipientId));
  await Promise.all(
    planned.map(async (plan) => {
      const uid = plan.recipientId;
      if (gone.has(uid)) {
        outcomes[uid] = "no-account";
        return;
      }
      const marker: DigestMarker = {
        donationId: event.donationId,
        eventId: event.id,
        donorId: event.anonymous ? null : event.donorId,
        donorName: plan.donation?.donorName ?? null,
        amount: event.amount,
        currency: event.currency,
        wishTitle: plan.donation?.wishTitle ?? "",
        occurredAt: new Date(event.occurredAt),
        folded: false,
        digestId: null,
      };
      try {
        await markers(deps.db, uid, event.wishId).doc(event.donationId).create({ ...marker, recordedAt: deps.clock.now() });
        outcomes[uid] = "digested";
      } catch (error) {
        if (!isFirestoreError(error, "already-exists")) throw error;
        outcomes[uid] = "duplicate";
      }
      // After the commit: the fold of this interval runs after it ended, so it reads this marker.
      await scheduleDigestFold(deps.tasks, uid, event.wishId, deps.clock.now());
    }),
  );
  return outcomes;
}

/** A digest's message: one donation reads like a single notification; more are summed up. */
export function digestMessage(digest: DonationDigest, wishTitle: string): { key: MessageKey; args: MessageArg[] } {
  const amount = { amount: digest.amount, currency: digest.currency };
  const title = { text: wishTitle };
  if (digest.donations === 1) {
    const donor = digest.donors[0];
    return donor ? { key: "donation_received_named", args: [{ text: donor.name }, amount, title] } : { key: "donation_received_anonymous", args: [amount, title] };
  }
  const names = digest.donors.slice(0, NAMES_IN_TEXT).map((donor) => donor.name);
  return { key: "donation_digest", args: [{ people: digest.people }, amount, title, { names, more: digest.people - names.length }] };
}

export type DigestFoldResult = { outcome: "unchanged" } | { outcome: "no-account" } | { outcome: "folded"; itemId: string; folded: number; created: boolean; push: PushState["state"] };

interface FoldPlan {
  itemId: string;
  item: InboxItem;
  created: boolean;
  folded: number;
  pushNow: boolean;
  /** When further folds must run (more markers than one fold takes; a push that waits for its interval). */
  foldAgainAt: Date[];
  message: { key: MessageKey; args: MessageArg[] };
}

/**
 * The fold task (see the top of this file). Exact under redelivery and races: markers are flagged folded in the same
 * transaction that adds them to the item, so each is counted once; the transaction reads the item, so a concurrent
 * markNotificationsRead makes it start again (and then open a new item).
 */
export async function foldDonationDigest(deps: DigestDeps, uid: string, wishId: string): Promise<DigestFoldResult> {
  const { db } = deps;
  const stateRef = db.doc(digestStateDoc(uid, wishId));
  const inbox = db.collection(notificationsCollection(uid));
  const recipient = (await readRecipientStates(db, [uid])).get(uid) ?? DEFAULT_STATE;
  const now = deps.clock.now();

  const plan = await db.runTransaction(async (tx): Promise<FoldPlan | { foldAgainAt: Date[] } | "no-account" | null> => {
    const [stateSnap, accountSnap] = await tx.getAll(stateRef, db.doc(accountDoc(uid)));
    // The recipient's account is gone (deleteAccount): no item, no unread count, no push. Read in the transaction, so
    // the fold and the deletion of the account serialise on it: a fold that commits after it finds no account, and
    // what a fold committed before it goes with the rest of users/{uid} (or with deleteAccount's later sweep).
    if (!accountSnap?.exists) return "no-account";
    const state = parseStored(digestStateSchema, stateSnap?.data()) ?? { seq: 0, currentId: null, lastPushAt: null };
    const currentSnap = state.currentId ? await tx.get(inbox.doc(state.currentId)) : null;
    const { pending, full } = await readUnfolded(tx, markers(db, uid, wishId));
    const current = currentSnap?.exists ? parseStored(inboxItemSchema, currentSnap.data()) : null;

    // Continue the current digest while it is unread, has room and is in the same currency; else start the next.
    const head = pending[0]?.marker;
    const continues = current?.digest !== undefined && !current.read && hasRoom(current.digest, head);
    if (!head && !current?.digest) return null;
    const base = continues ? (current?.digest ?? null) : null;
    const created = head !== undefined && !continues;
    const seq = created ? state.seq + 1 : state.seq;
    const itemId = created ? digestItemId(wishId, seq) : (state.currentId ?? digestItemId(wishId, seq));
    const taken = takeForDigest(base, pending);
    const more = taken.length < pending.length || full;
    const previous = created ? null : current;
    if (!previous && taken.length === 0) return null;
    const digest = taken.length > 0 ? addToDigest(base, wishId, taken.map((entry) => entry.marker)) : (previous?.digest as DonationDigest);

    // The push: news (or a push that waited, or one whose fold died) goes out once the wish's interval allows.
    const previousPush = previous?.push ?? null;
    const leaseLive = previousPush?.state === "sending" && previousPush.leaseUntil !== null && previousPush.leaseUntil > now;
    const owed = taken.length > 0 || (!previous?.read && (previousPush?.state === "deferred" || (previousPush?.state === "sending" && !leaseLive)));
    const windowOpensAt = state.lastPushAt ? new Date(state.lastPushAt.getTime() + DIGEST_PUSH_INTERVAL_MS) : now;
    let push: PushState = previousPush ?? pushState("deferred");
    let pushNow = false;
    // More markers than this fold took: the next interval's fold takes them.
    const foldAgainAt: Date[] = more ? [new Date(now.getTime() + DIGEST_FOLD_INTERVAL_MS)] : [];
    // A push in flight: if its fold dies, a fold after its lease takes it over (a live one will have finished it).
    if (leaseLive && previousPush?.leaseUntil && !previous?.read) foldAgainAt.push(later(previousPush.leaseUntil, windowOpensAt));
    if (owed) {
      if (recipient.muted.includes("donations")) push = pushState("muted", { finishedAt: now });
      else if (recipient.targets.length === 0) push = pushState("no-devices", { finishedAt: now });
      else if (leaseLive) {
        // The news waits for the fold scheduled above.
      } else if (windowOpensAt <= now) {
        pushNow = true;
        push = pushState("sending", { leaseUntil: new Date(now.getTime() + PUSH_LEASE_MS), attempts: (previousPush?.attempts ?? 0) + 1 });
      } else {
        push = pushState("deferred", { attempts: previousPush?.attempts ?? 0 });
        foldAgainAt.push(windowOpensAt);
      }
    }
    if (taken.length === 0 && !pushNow && push === previousPush) return { foldAgainAt };

    const wishTitle = taken[taken.length - 1]?.marker.wishTitle ?? state.wishTitle ?? "";
    const message = digestMessage(digest, wishTitle);
    const last = taken[taken.length - 1]?.marker;
    const item = inboxItem(
      {
        type: "donation.received",
        category: "donations",
        eventId: last?.eventId ?? previous?.eventId ?? "",
        data: digest.donations === 1 && last ? { wishId, donationId: last.donationId } : { wishId },
        createdAt: taken.length > 0 ? now : (previous?.createdAt ?? now),
        push,
        digest,
      },
      render(message.key, message.args, recipient.locale),
    );
    tx.set(inbox.doc(itemId), item);
    if (created) tx.set(db.doc(inboxCounterDoc(uid)), { unread: FieldValue.increment(1) }, { merge: true });
    for (const entry of taken) tx.update(entry.ref, { folded: true, digestId: itemId });
    tx.set(stateRef, { uid, wishId, seq, currentId: itemId, lastPushAt: pushNow ? now : state.lastPushAt, wishTitle, updatedAt: now });
    return { itemId, item, created, folded: taken.length, pushNow, foldAgainAt, message };
  });

  if (plan === "no-account") {
    logger.info("donation digest not folded: the recipient's account is gone", { uid, wishId });
    return { outcome: "no-account" };
  }
  for (const at of plan?.foldAgainAt ?? []) await scheduleDigestFold(deps.tasks, uid, wishId, at);
  if (!plan || !("itemId" in plan)) return { outcome: "unchanged" };
  if (plan.pushNow) await pushDigest(deps, uid, wishId, recipient, plan);
  logger.info("donation digest folded", { uid, wishId, itemId: plan.itemId, folded: plan.folded, created: plan.created, push: plan.pushNow ? "sent" : plan.item.push.state });
  return { outcome: "folded", itemId: plan.itemId, folded: plan.folded, created: plan.created, push: plan.item.push.state };
}

const later = (a: Date, b: Date) => (a > b ? a : b);


/** Sends the digest's push (after the commit that took its lease) and records how it ended on the item. */
async function pushDigest(deps: DigestDeps, uid: string, wishId: string, recipient: RecipientState, plan: FoldPlan): Promise<void> {
  const [finish] = await pushAll(
    deps,
    [
      {
        uid,
        state: recipient,
        notificationId: plan.itemId,
        type: "donation.received",
        category: "donations",
        messageKey: plan.message.key,
        args: plan.message.args,
        data: plan.item.data,
        threadId: wishId,
        collapseKey: `donations-${wishId}`,
        badge: recipient.unread + (plan.created ? 1 : 0),
      },
    ],
    { wishId, itemId: plan.itemId },
  );
  if (!finish) return;
  await deps.db.doc(`${notificationsCollection(uid)}/${plan.itemId}`).update({
    "push.state": finish.state,
    "push.leaseUntil": null,
    "push.devices": finish.devices,
    "push.delivered": finish.delivered,
    "push.removedTokens": finish.removedTokens,
    "push.lastError": finish.lastError,
    "push.finishedAt": deps.clock.now(),
  });
}
