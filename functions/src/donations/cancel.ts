import type { Firestore, QueryDocumentSnapshot } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { admit } from "../lib/admission";
import { idSchema } from "../lib/ids";
import type { Donation } from "../model/donation";
import { PaymentProviderError } from "../payments/provider";
import type { PaymentProvider, PaymentStatusEvent, ProviderPaymentIntent } from "../payments/provider";
import { processPaymentEvent } from "./ledger";
import type { TaskEnqueuer } from "../lib/tasks";
import { refs } from "../store/donations";
import { unavailable } from "./card";

/**
 * Pending donations that will never be paid: the donor cancels one (`cancelDonation`), or the payment sheet was
 * abandoned and the hourly sweep cancels it after {@link ABANDONED_AFTER_MS}. Either way the PaymentIntent is canceled
 * at Stripe first (so it can never be paid later), and Stripe's answer is folded into the donation through the
 * webhook's own ledger handler (the `payment_intent.canceled` webhook that follows changes nothing more). A payment
 * that succeeded or started processing meanwhile cannot be canceled: Stripe says so, and the donation follows Stripe.
 */
export interface CancelDeps {
  db: Firestore;
  clock: Clock;
  provider: PaymentProvider;
  /** Cloud Tasks: a payment found succeeded instead is booked through the ledger, which schedules the counters' fold. */
  tasks: TaskEnqueuer;
}

/** A donation still pending (or failed, which the donor could retry) this long after `donate` is abandoned. */
export const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

export const cancelDonationInput = z.object({ donationId: idSchema }).strict();

type CancelReason = "requested_by_customer" | "abandoned";
export type CancelOutcome = "canceled" | "already-canceled" | "succeeded" | "processing";

/** Stripe's statuses a cancel can meet, in our terms. */
function finalOf(intent: ProviderPaymentIntent): CancelOutcome | null {
  if (intent.status === "canceled") return "canceled";
  if (intent.status === "succeeded") return "succeeded";
  if (intent.status === "processing") return "processing";
  return null;
}

/** The PaymentIntent as its webhook would report it (only the final or processing states move the donation). */
function eventOf(donationId: string, donation: Donation, intent: ProviderPaymentIntent, status: "canceled" | "succeeded" | "processing", atMs: number): PaymentStatusEvent {
  return {
    provider: "stripe",
    kind: "payment",
    eventId: `cancel_${intent.paymentIntentId}_${status}`,
    type: `cancel.payment_intent.${status}`,
    createdMs: atMs,
    status,
    paymentIntentId: intent.paymentIntentId,
    metadata: { donationId, wishId: donation.wishId, donorId: donation.donorId },
    amountReceived: intent.amountReceived,
    currency: intent.currency,
    chargeId: intent.chargeId,
    failureCode: null,
    cancellationReason: intent.cancellationReason,
  };
}

/**
 * Cancels one unpaid donation at Stripe and in the ledger. A donation that never got a PaymentIntent (Stripe was down
 * at `donate`) is canceled here alone: no money can ever come for it.
 */
export async function cancelUnpaid(deps: CancelDeps, donationId: string, donation: Donation, reason: CancelReason): Promise<CancelOutcome> {
  if (donation.paymentStatus === "canceled") return "already-canceled";
  if (!donation.paymentIntentId) {
    const ref = refs.donation(deps.db, donationId);
    const done = await deps.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current || current.paymentIntentId || current.paymentStatus === "canceled") return false;
      const now = deps.clock.now();
      tx.update(ref, { status: "canceled", paymentStatus: "canceled", paymentStatusAt: now.getTime(), cancellationReason: reason, updatedAt: now });
      return true;
    });
    return done ? "canceled" : "already-canceled";
  }
  let intent: ProviderPaymentIntent;
  try {
    intent = await deps.provider.cancelPayment({ paymentIntentId: donation.paymentIntentId, reason });
  } catch (error) {
    // Already paid, processing or canceled: Stripe refuses the cancel; what it holds is the truth.
    if (!(error instanceof PaymentProviderError) || error.providerCode !== "payment_intent_unexpected_state") throw error;
    intent = await deps.provider.retrievePayment(donation.paymentIntentId);
  }
  const outcome = finalOf(intent);
  if (outcome === "canceled" || outcome === "succeeded" || outcome === "processing") {
    await processPaymentEvent(deps, eventOf(donationId, donation, intent, outcome, deps.clock.now().getTime()));
  }
  if (outcome === "canceled") logger.info("donation canceled", { donationId, reason });
  return outcome ?? "processing";
}

/**
 * `cancelDonation({donationId})`: the donor gives up a donation they have not paid. Errors: `unauthenticated`;
 * `invalid-argument`; `not-found` (no such donation, or not theirs: the same answer); `failed-precondition` (already
 * paid, or being processed: it cannot be canceled); `unavailable` (Stripe). Canceling twice answers the same.
 */
export async function cancelDonation(deps: CancelDeps, uid: string, data: unknown): Promise<{ status: "canceled" }> {
  const { donationId } = parseInput(cancelDonationInput, data);
  await admit(deps, uid);
  const donation = (await refs.donation(deps.db, donationId).get()).data();
  if (!donation || donation.donorId !== uid) throw new DomainError("donation_not_found", { field: "donationId" });
  if (donation.paymentStatus === "succeeded") throw new DomainError("donation_already_paid");
  // Only a card payment can be withdrawn at its provider; a bitcoin invoice expires by itself (docs/donations.md).
  if (donation.method !== "card") throw new DomainError("donation_not_cancelable", { params: { method: donation.method } });
  if (donation.paymentStatus === "processing") throw new DomainError("donation_processing");
  let outcome: CancelOutcome;
  try {
    outcome = await cancelUnpaid(deps, donationId, donation, "requested_by_customer");
  } catch (error) {
    if (error instanceof PaymentProviderError) throw unavailable("cancel", error);
    throw error;
  }
  if (outcome === "succeeded") throw new DomainError("donation_already_paid");
  if (outcome === "processing") throw new DomainError("donation_processing");
  return { status: "canceled" };
}

/** Page size and pages per run of the sweep; the next run continues. */
const SWEEP_PAGE = 200;
const SWEEP_PAGES = 5;

/**
 * The hourly sweep (`cancelAbandonedDonations`): every donation still `pending` or `failed` more than
 * {@link ABANDONED_AFTER_MS} after `donate` is canceled at Stripe (`cancellation_reason: abandoned`) and marked so.
 * Uses the (paymentStatus, createdAt) index. A Stripe error skips the donation until the next run.
 */
export async function cancelAbandonedDonations(deps: CancelDeps): Promise<{ canceled: number; checked: number }> {
  const cutoff = new Date(deps.clock.now().getTime() - ABANDONED_AFTER_MS);
  let canceled = 0;
  let checked = 0;
  let last: QueryDocumentSnapshot<Donation> | undefined;
  for (let page = 0; page < SWEEP_PAGES; page++) {
    let query = refs
      .donations(deps.db)
      .where("paymentStatus", "in", ["pending", "failed"])
      .where("createdAt", "<=", cutoff)
      .orderBy("createdAt")
      .limit(SWEEP_PAGE);
    if (last) query = query.startAfter(last);
    const due = await query.get();
    for (const doc of due.docs) {
      // Only card payments are swept here: a bitcoin invoice expires at BTCPay (its webhook fails the donation).
      if (doc.data().provider !== "stripe") continue;
      checked++;
      try {
        if ((await cancelUnpaid(deps, doc.id, doc.data(), "abandoned")) === "canceled") canceled++;
      } catch (error) {
        logger.warn("abandoned donation not canceled; the next run tries again", { donationId: doc.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
    last = due.docs[due.docs.length - 1];
    if (due.size < SWEEP_PAGE) break;
  }
  if (canceled > 0) logger.info("abandoned donations canceled", { canceled, checked });
  return { canceled, checked };
}
