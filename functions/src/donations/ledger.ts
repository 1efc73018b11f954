import { FieldValue } from "firebase-admin/firestore";
import type { DocumentReference, DocumentSnapshot, Firestore, Timestamp, WriteBatch } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { FINDINGS, findingDocId } from "../model/closing";
import type { Contribution, Donation, ProviderEventRecord } from "../model/donation";
import { DONATIONS, contributionsCollection, supportersCollection } from "../model/donation";
import { QUIET_WISH_AFTER_MS, WISHES, raisedShardId, wishIsBusy } from "../model/wish";
import type { Wish } from "../model/wish";
import type { PaymentEvent, PaymentStatusEvent } from "../payments/provider";
import type { FirestoreConflict } from "../lib/firestore-errors";
import { retryOnConflict } from "../lib/retry";
import { refs } from "../store/donations";
import type { TaskEnqueuer } from "../lib/tasks";
import { scheduleCounterFold } from "./counters";
import { raisedShardRef, wishRef } from "../store/wishes";
import { appendLedgerEntry } from "../store/ledger";
import { applyEvent, displayStatus, ledgerEntriesOf, ledgerEntryId, refundedAmount } from "./state";
import type { MoneyEvent, MoneyState } from "./state";

export interface LedgerDeps {
  db: Firestore;
  clock: Clock;
  /** Cloud Tasks: the fold of the wish's counter shards (counters.ts). */
  tasks: TaskEnqueuer;
  /** A wish nobody wrote for this long is quiet and takes a donation directly (default QUIET_WISH_AFTER_MS; see quietWish). */
  quietAfterMs?: number;
  /** ...unless a fold wrote it this recently (default BUSY_AFTER_FOLD_MS). Tests set both to force a path. */
  busyAfterFoldMs?: number;
}

export type ProcessOutcome = "applied" | "no_change" | "unknown_donation" | "duplicate" | "ignored";

/** Conflicts (another delivery won the race) are retried from a fresh read; anything else propagates. */
const MAX_ATTEMPTS = 12;

const CONFLICTS: FirestoreConflict[] = ["already-exists", "failed-precondition", "aborted", "not-found"];

/**
 * Applies one verified provider event to the donation it concerns, exactly once. This is the function the webhook
 * calls (and the property test drives directly).
 *
 * One atomic batch per event, without a transaction on the (possibly hot) wish:
 * - `providerEvents/{eventId}` is created (a create precondition: a concurrent duplicate loses and is retried, then
 *   seen as a duplicate);
 * - the donation is updated with a `lastUpdateTime` precondition: the donation document serialises its own money
 *   state and lists the ledger entries already applied, so a concurrent event for the same donation retries;
 * - the newly owed ledger entries are created (create precondition, deterministic ids);
 * - one of the wish's shards gets `FieldValue.increment`s (raised, donorCount; never the wish document, which may be
 *   hot), the contribution is created (first charge of this donor to this wish, which is what bumps donorCount) or
 *   incremented, and the supporter entry appears or disappears. The donation's write is the outbox of
 *   `donation.received`: the trigger on it publishes the event once the charge is booked (received.ts).
 * Two Firestore round trips: one batched read, one commit. Then a fold of the wish's shards is scheduled (one Cloud Task
 * per wish per second, most calls answered from memory), which updates the wish and flips it to funded (counters.ts).
 */
export async function processPaymentEvent(deps: LedgerDeps, event: PaymentEvent): Promise<ProcessOutcome> {
  // Payout events (transfers, Connect accounts) are routed to src/payouts/ by the webhook; none moves donation money.
  if (event.kind === "ignored" || event.kind === "transfer" || event.kind === "account") return "ignored";
  const donationId = await resolveDonationId(deps.db, event);
  return retryOnConflict({ attempts: MAX_ATTEMPTS, conflicts: CONFLICTS, pauseMs: (attempt) => Math.floor(Math.random() * 10 * attempt) }, (attempt) =>
    attemptOnce(deps, event, donationId, attempt),
  );
}

async function resolveDonationId(db: Firestore, event: MoneyEvent): Promise<string | null> {
  if (event.kind === "payment") return event.metadata?.donationId ?? null;
  if (!event.paymentIntentId) return null;
  const found = await db.collection(DONATIONS).where("paymentIntentId", "==", event.paymentIntentId).limit(1).get();
  return found.docs[0]?.id ?? null;
}

function eventRecord(event: MoneyEvent, outcome: ProviderEventRecord["outcome"], donationId: string | null, now: Date): ProviderEventRecord {
  return { provider: event.provider, type: event.type, outcome, donationId, providerCreatedAt: event.createdMs, processedAt: now };
}

export function moneyState(donation: Donation): MoneyState {
  const { amount, amountReceived, paymentStatus, paymentStatusAt, failureCode, cancellationReason, paymentIntentId, chargeId, refunds, disputes, succeededAt } =
    donation;
  return { amount, amountReceived, paymentStatus, paymentStatusAt, failureCode, cancellationReason, paymentIntentId, chargeId, refunds, disputes, succeededAt };
}

/**
 * The provider received another amount (or currency) than the donation asked for: ops hear of it at once. Only a
 * card payment's amount is fixed by us; a bitcoin invoice or a bank transfer is paid by hand, so another amount there is
 * an expected outcome (booked as received; docs/donations.md), and only another currency is a finding.
 */
function receivedMismatch(event: MoneyEvent, donation: Donation, before: MoneyState, after: MoneyState): string | null {
  if (event.kind !== "payment" || event.status !== "succeeded") return null;
  if (event.currency !== donation.currency) return `${event.provider} received ${event.amountReceived} ${event.currency}; the donation is in ${donation.currency}.`;
  if (event.provider === "stripe" && before.amountReceived === null && after.amountReceived !== null && after.amountReceived !== donation.amount) {
    return `${event.provider} received ${after.amountReceived} ${event.currency}; the donation asked for ${donation.amount}. The ledger books what it received.`;
  }
  return null;
}

function sameMoney(a: MoneyState, b: MoneyState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How many provider event ids a donation keeps: its dedup record and audit trail (a donation sees a handful). */
const KEPT_EVENT_IDS = 50;

/** Picks a snapshot of `getAll(...wanted)` by its reference (null when the reference was not read). */
function snapshotPicker(wanted: DocumentReference[], snaps: DocumentSnapshot[]) {
  return <T>(ref: DocumentReference<T> | null): DocumentSnapshot<T> | null => {
    const snap = ref ? snaps[wanted.indexOf(ref as DocumentReference)] : undefined;
    return snap ? (snap as DocumentSnapshot<T>) : null;
  };
}

/**
 * A wish whose document nobody wrote for QUIET_WISH_AFTER_MS, and that no fold of several donors wrote for
 * BUSY_AFTER_FOLD_MS (`wishIsBusy`), is quiet: the webhook adds the donation to it directly (one write, no fold, no
 * lag). Otherwise it is busy, and the donation goes to a shard that a fold adds later (counters.ts). All times are the server's (the read time, the document's update
 * time, the last fold's snapshot time `raisedAsOf`), so instances agree; the wish's write carries the update time as a
 * precondition, so of two webhooks that both found it quiet one writes it and the other retries and finds it busy: the
 * wish's writes stay more than a second apart.
 */
function quietWish(
  snap: DocumentSnapshot<Wish> | null,
  wishId: string,
  deps: Pick<LedgerDeps, "quietAfterMs" | "busyAfterFoldMs">,
): { wish: Wish; updateTime: Timestamp } | null {
  const wish = snap?.exists && snap.id === wishId && snap.updateTime ? snap.data() : undefined;
  if (!snap?.updateTime || !wish) return null;
  const now = snap.readTime.toMillis();
  const quiet = now - snap.updateTime.toMillis() >= (deps.quietAfterMs ?? QUIET_WISH_AFTER_MS) && !wishIsBusy(wish, now, deps.busyAfterFoldMs);
  return quiet ? { wish, updateTime: snap.updateTime } : null;
}

async function attemptOnce(deps: LedgerDeps, event: MoneyEvent, donationId: string | null, attempt: number): Promise<ProcessOutcome> {
  const { db } = deps;
  const eventRef = refs.providerEvent(db, event.eventId);
  const metadata = event.kind === "payment" ? event.metadata : null;
  // One batched read of everything the event needs: the donation and (for payment events, whose metadata names it) the
  // wish, quiet or busy. Not read on the first attempt: the event record (kept only for events that changed no
  // donation; its create() is the duplicate check, and a duplicate fails it and comes back here) and the donor's
  // contribution (a new charge creates it; a repeat donor's create() fails, and the retry reads it).
  // A payment whose wish was busy when it was made (donate put that in its metadata) goes to a shard unread: 1 read.
  const donationRef = donationId ? refs.donation(db, donationId) : null;
  const wishGuess = metadata && !metadata.busyWish ? wishRef(db, metadata.wishId) : null;
  const contributionGuess = attempt > 0 && metadata ? refs.contribution(db, metadata.donorId, metadata.wishId) : null;
  const eventCheck = attempt > 0 ? eventRef : null;
  const wanted = [eventCheck, donationRef, wishGuess, contributionGuess].filter((ref): ref is NonNullable<typeof ref> => ref !== null) as DocumentReference[];
  const pick = snapshotPicker(wanted, wanted.length > 0 ? await db.getAll(...wanted) : []);
  const [eventSnap, donationSnap, wishSnap] = [pick(eventCheck), pick(donationRef), pick(wishGuess)];
  const donation = donationSnap?.data();
  if (eventSnap?.exists || donation?.providerEventIds?.includes(event.eventId)) {
    // A redelivery. If an earlier delivery committed but failed to schedule the fold (and answered 500), schedule it.
    if (donation && donation.ledgerEntryIds.length > 0) await scheduleCounterFold(deps, donation.wishId, deps.clock.now());
    return "duplicate";
  }
  const now = deps.clock.now();
  if (!donationSnap?.exists || !donation || !donationId) {
    await eventRef.create(eventRecord(event, "unknown_donation", donationId, now));
    logger.warn("payment event for an unknown donation recorded and ignored", { eventId: event.eventId, type: event.type });
    return "unknown_donation";
  }

  if (event.kind === "payment" && donation.paymentIntentId !== null && event.paymentIntentId !== donation.paymentIntentId) {
    // Another payment naming this donation in its metadata (a copy of ours, a replaced PaymentIntent): booking it would
    // credit it under the donation's own payment, whose real success could then never be booked. Not ours: recorded
    // and ignored; money it took is found by reconciliation (`payment_unknown_donation`) and goes back by hand.
    await eventRef.create(eventRecord(event, "unknown_object", donationId, now));
    logger.error("payment event for another payment than its donation's; recorded and ignored", { eventId: event.eventId, donationId, type: event.type });
    return "no_change";
  }
  const before = moneyState(donation);
  if (event.kind === "payment" && event.status === "succeeded" && event.currency !== donation.currency) {
    // Money in another currency cannot be added to this wish: not applied, and flagged for ops at once.
    const batch = db.batch();
    batch.create(eventRef, eventRecord(event, "no_change", donationId, now));
    flagMismatch(db, batch, event, donation, donationId, receivedMismatch(event, donation, before, before) ?? "", now);
    await batch.commit();
    logger.error("payment received in another currency; not applied, flagged for ops", { eventId: event.eventId, donationId });
    return "no_change";
  }
  const after = applyEvent(before, event, now);
  const mismatch = receivedMismatch(event, donation, before, after);
  const applied = new Set(donation.ledgerEntryIds);
  const newEntries = ledgerEntriesOf(after).filter((entry) => !applied.has(entry.id));
  const delta = newEntries.reduce((sum, entry) => sum + entry.amount, 0);
  const newCharge = newEntries.some((entry) => entry.kind === "charge");
  const changed = newEntries.length > 0 || !sameMoney(before, after);

  const batch = db.batch();
  // An event that changed the donation is recorded on it (providerEventIds, in the same precondition-guarded write);
  // one that changed nothing gets its own record, whose create() refuses a duplicate.
  if (!changed) batch.create(eventRef, eventRecord(event, "no_change", donationId, now));
  if (mismatch && event.kind === "payment") flagMismatch(db, batch, event, donation, donationId, mismatch, now);
  let wroteShard = false;
  if (changed) {
    const netAmount = donation.netAmount + delta;
    batch.update(
      db.collection(DONATIONS).doc(donationId),
      {
        ...after,
        status: displayStatus(after),
        refundedAmount: refundedAmount(after),
        ledgerEntryIds: [...donation.ledgerEntryIds, ...newEntries.map((entry) => entry.id)],
        providerEventIds: [...(donation.providerEventIds ?? []), event.eventId].slice(-KEPT_EVENT_IDS),
        netAmount,
        updatedAt: now,
      },
      { lastUpdateTime: donationSnap.updateTime },
    );
    for (const entry of newEntries) {
      appendLedgerEntry(db, batch, entry.id, {
        kind: entry.kind,
        wishId: donation.wishId,
        donationId,
        donorId: donation.donorId,
        amount: entry.amount,
        currency: donation.currency,
        provider: event.provider,
        providerObjectId: entry.providerObjectId,
        eventId: event.eventId,
        createdAt: now,
      });
    }
    if (newEntries.length > 0) {
      const firstFromDonor = await addToContribution(db, batch, { donation, delta, newCharge, now, attempt, guess: pick(contributionGuess) });
      const counters = { raised: delta, donorCount: firstFromDonor && newCharge ? 1 : 0 };
      const quiet = quietWish(wishSnap, donation.wishId, deps);
      if (quiet) {
        // Quiet: straight into the wish (raised = directRaised + the folded shards). The funded flip stays the fold's.
        const { wish } = quiet;
        batch.update(
          db.collection(WISHES).doc(donation.wishId),
          {
            raised: FieldValue.increment(counters.raised),
            donorCount: FieldValue.increment(counters.donorCount),
            directRaised: FieldValue.increment(counters.raised),
            directDonorCount: FieldValue.increment(counters.donorCount),
            ...(counters.donorCount > 0 ? { hasSucceededDonation: true } : {}),
            updatedAt: now,
          },
          { lastUpdateTime: quiet.updateTime },
        );
        // Reaching the amount (as far as this wish knows: a shard may still hold an unfolded refund) asks the fold to
        // decide, from every shard, exactly once.
        wroteShard = wish.status === "open" && wish.raised + counters.raised >= wish.amount;
      } else {
        // Busy, or not read (a refund or dispute event names no wish; a `busyWish` payment): a shard, folded by counters.ts.
        batch.set(raisedShardRef(db, donation.wishId, raisedShardId(donationId)), { raised: FieldValue.increment(counters.raised), donorCount: FieldValue.increment(counters.donorCount) }, { merge: true });
        wroteShard = true;
      }
    }
    const shownBefore = before.paymentStatus === "succeeded" && donation.netAmount > 0;
    const shownAfter = after.paymentStatus === "succeeded" && netAmount > 0;
    const supporterRef = db.collection(supportersCollection(donation.wishId)).doc(donationId);
    if (shownAfter && !shownBefore) {
      batch.set(supporterRef, {
        donorId: donation.anonymous ? null : donation.donorId,
        displayName: donation.anonymous ? null : donation.donorDisplayName,
        amount: donation.anonymous ? null : (after.amountReceived ?? donation.amount),
        currency: donation.currency,
        message: donation.message,
        anonymous: donation.anonymous,
        createdAt: now,
      });
    } else if (shownBefore && !shownAfter) {
      batch.delete(supporterRef);
    }
  }
  await batch.commit();
  // After the commit: the fold of this interval reads the shards after it ended (counters.ts).
  if (wroteShard) await scheduleCounterFold(deps, donation.wishId, deps.clock.now());
  if (mismatch) logger.error("the provider received another amount than the donation asked for; flagged for ops", { eventId: event.eventId, donationId });
  logger.info("payment event processed", {
    eventId: event.eventId,
    type: event.type,
    donationId,
    outcome: changed ? "applied" : "no_change",
    ledgerEntries: newEntries.map((entry) => entry.id),
  });
  return changed ? "applied" : "no_change";
}

/**
 * Adds the donation's new ledger entries to the donor's contribution to the wish, in `batch`; answers whether this is
 * the donor's first money to the wish (which is what raises the wish's donorCount). The first attempt does not read the
 * contribution: a new charge assumes a first-time donor and create()s it (a repeat donor's commit fails with
 * ALREADY_EXISTS, and the retry reads it), any other entry updates it (a missing one fails with NOT_FOUND, and the
 * retry creates it, unless the donation's charge is booked: then the donor deleted their account and the contribution
 * stays gone). Of two concurrent first donations by the same donor, one creates and the other increments.
 */
async function addToContribution(
  db: Firestore,
  batch: WriteBatch,
  input: { donation: Donation; delta: number; newCharge: boolean; now: Date; attempt: number; guess: DocumentSnapshot<Contribution> | null },
): Promise<boolean> {
  const { donation, delta, newCharge, now } = input;
  const ref = db.collection(contributionsCollection(donation.donorId)).doc(donation.wishId);
  let exists: boolean;
  if (input.attempt === 0) exists = !newCharge;
  else exists = (input.guess?.ref.path === ref.path ? input.guess : await refs.contribution(db, donation.donorId, donation.wishId).get()).exists;
  if (!exists && !newCharge && chargeBooked(donation)) {
    // The charge created the contribution, so a later entry (a refund, a reversal) finds none only when the donor
    // deleted their account, which took it along: their personal data is not written back under users/{uid}.
    return false;
  }
  if (!exists) {
    batch.create(ref, { wishId: donation.wishId, donorId: donation.donorId, currency: donation.currency, amount: delta, donationCount: newCharge ? 1 : 0, firstGivenAt: now, updatedAt: now });
    return true;
  }
  batch.update(ref, { amount: FieldValue.increment(delta), donationCount: FieldValue.increment(newCharge ? 1 : 0), updatedAt: now });
  return false;
}

/** Whether the donation's charge is already in the ledger (its contribution was created with it). */
function chargeBooked(donation: Donation): boolean {
  return donation.paymentIntentId !== null && donation.ledgerEntryIds.includes(ledgerEntryId.charge(donation.paymentIntentId));
}

/** `ops/reconciliation/findings/payment_amount_mismatch_{pi}` in the event's own batch (docs/operations.md). */
function flagMismatch(db: Firestore, batch: WriteBatch, event: PaymentStatusEvent, donation: Donation, donationId: string, detail: string, now: Date): void {
  batch.set(
    db.collection(FINDINGS).doc(findingDocId("payment_amount_mismatch", event.paymentIntentId)),
    {
      kind: "payment_amount_mismatch",
      provider: event.provider,
      providerObjectId: event.paymentIntentId,
      paymentIntentId: event.paymentIntentId,
      donationId,
      wishId: donation.wishId,
      amount: event.amountReceived,
      currency: event.currency,
      repaired: false,
      detail,
      detectedAt: now,
      lastSeenAt: now,
      resolvedAt: null,
    },
    { merge: true },
  );
}
