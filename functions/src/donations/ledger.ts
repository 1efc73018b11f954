import { FieldValue } from "firebase-admin/firestore";
import type { DocumentReference, DocumentSnapshot, Firestore, WriteBatch } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { FINDINGS, findingDocId } from "../model/closing";
import type { Donation, ProviderEventRecord } from "../model/donation";
import { DONATIONS, contributionsCollection, supportersCollection } from "../model/donation";
import { raisedShardId } from "../model/wish";
import type { PaymentEvent, PaymentStatusEvent } from "../payments/provider";
import type { FirestoreConflict } from "../lib/firestore-errors";
import { retryOnConflict } from "../lib/retry";
import { refs } from "../store/donations";
import type { TaskEnqueuer } from "../lib/tasks";
import { scheduleCounterFold } from "./counters";
import { raisedShardRef } from "../store/wishes";
import { appendLedgerEntry } from "../store/ledger";
import { applyEvent, displayStatus, ledgerEntriesOf, refundedAmount } from "./state";
import type { MoneyEvent, MoneyState } from "./state";

export interface LedgerDeps {
  db: Firestore;
  clock: Clock;
  /** Cloud Tasks: the fold of the wish's counter shards (counters.ts). */
  tasks: TaskEnqueuer;
}

export type ProcessOutcome = "applied" | "no_change" | "unknown_donation" | "duplicate" | "ignored";

/** Conflicts (another delivery won the race) are retried from a fresh read; anything else propagates. */
const MAX_ATTEMPTS = 12;

const CONFLICTS: FirestoreConflict[] = ["already-exists", "failed-precondition", "aborted"];

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
 *   incremented, the supporter entry appears or disappears, and `donation.received` goes to the outbox.
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

async function attemptOnce(deps: LedgerDeps, event: MoneyEvent, donationId: string | null, attempt: number): Promise<ProcessOutcome> {
  const { db } = deps;
  const eventRef = refs.providerEvent(db, event.eventId);
  const metadata = event.kind === "payment" ? event.metadata : null;
  // One batched read of everything the event needs: the donation and (for payment events, from their metadata) the
  // contribution. The event record is not read on the first attempt: its create() in the commit is the duplicate
  // check, and a duplicate delivery fails that precondition and comes back here (attempt > 0), which reads it.
  const donationRef = donationId ? refs.donation(db, donationId) : null;
  const guessedRef = metadata ? refs.contribution(db, metadata.donorId, metadata.wishId) : null;
  const wanted: DocumentReference[] = [...(attempt > 0 ? [eventRef] : []), ...(donationRef ? [donationRef] : []), ...(guessedRef ? [guessedRef] : [])];
  const snaps = wanted.length > 0 ? await db.getAll(...wanted) : [];
  const snapOf = <T>(ref: DocumentReference<T> | null) => {
    const snap = ref ? snaps[wanted.indexOf(ref as DocumentReference)] : undefined;
    return snap ? (snap as DocumentSnapshot<T>) : null;
  };
  const [eventSnap, donationSnap, guessedContribution] = [snapOf(attempt > 0 ? eventRef : null), snapOf(donationRef), snapOf(guessedRef)];
  const donation = donationSnap?.data();
  if (eventSnap?.exists) {
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
  batch.create(eventRef, eventRecord(event, changed ? "applied" : "no_change", donationId, now));
  if (mismatch && event.kind === "payment") flagMismatch(db, batch, event, donation, donationId, mismatch, now);
  if (changed) {
    const netAmount = donation.netAmount + delta;
    batch.update(
      db.collection(DONATIONS).doc(donationId),
      {
        ...after,
        status: displayStatus(after),
        refundedAmount: refundedAmount(after),
        ledgerEntryIds: [...donation.ledgerEntryIds, ...newEntries.map((entry) => entry.id)],
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
      const contribution =
        guessedContribution && metadata?.donorId === donation.donorId && metadata.wishId === donation.wishId
          ? guessedContribution
          : await refs.contribution(db, donation.donorId, donation.wishId).get();
      const contributionRef = db.collection(contributionsCollection(donation.donorId)).doc(donation.wishId);
      const firstFromDonor = !contribution.exists;
      if (firstFromDonor) {
        // create(): of two concurrent first donations by the same donor, one wins; the other retries and increments.
        batch.create(contributionRef, {
          wishId: donation.wishId,
          donorId: donation.donorId,
          currency: donation.currency,
          amount: delta,
          donationCount: newCharge ? 1 : 0,
          firstGivenAt: now,
          updatedAt: now,
        });
      } else {
        batch.update(contributionRef, {
          amount: FieldValue.increment(delta),
          donationCount: FieldValue.increment(newCharge ? 1 : 0),
          updatedAt: now,
        });
      }
      // Not the wish itself (it may be hot): one of its shards, folded into it by foldWishCounters (counters.ts).
      batch.set(
        raisedShardRef(db, donation.wishId, raisedShardId(donationId)),
        { raised: FieldValue.increment(delta), donorCount: FieldValue.increment(firstFromDonor && newCharge ? 1 : 0) },
        { merge: true },
      );
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
    if (newCharge) {
      addToOutbox(
        db,
        batch,
        {
          id: `donation.received:${donationId}`,
          type: "donation.received",
          wishId: donation.wishId,
          donationId,
          donorId: donation.donorId,
          amount: after.amountReceived ?? donation.amount,
          currency: donation.currency,
          anonymous: donation.anonymous,
        },
        now,
      );
    }
  }
  await batch.commit();
  // After the commit: the fold of this interval reads the shards after it ended (counters.ts).
  if (newEntries.length > 0) await scheduleCounterFold(deps, donation.wishId, deps.clock.now());
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
