import type { DisputeState, DisputeStatus, Donation, DonationStatus, PaymentStatus, RefundState, RefundStatus } from "../model/donation";
import type { DisputeEvent, PaymentStatusEvent, RefundEvent } from "../payments/provider";

/**
 * The pure money state machine of one donation. Every provider event is folded into the donation with `applyEvent`,
 * which is commutative, associative and idempotent (a join): the final state does not depend on the order or the
 * number of deliveries. The ledger entries a donation owes are a function of its state (`ledgerEntriesOf`), and only
 * ever grow, so the entries to append for an event are simply "owed now" minus "already applied".
 */

export type MoneyEvent = PaymentStatusEvent | RefundEvent | DisputeEvent;

export type MoneyState = Pick<
  Donation,
  | "amount"
  | "amountReceived"
  | "paymentStatus"
  | "paymentStatusAt"
  | "failureCode"
  | "cancellationReason"
  | "paymentIntentId"
  | "chargeId"
  | "refunds"
  | "disputes"
  | "succeededAt"
>;

/** pending < processing = failed < succeeded = canceled. Equal non-terminal ranks are ordered by event time. */
const PAYMENT_RANK: Record<PaymentStatus, number> = { pending: 0, processing: 1, failed: 1, succeeded: 2, canceled: 2 };
/** An inquiry may become a chargeback; a chargeback ends won or lost; an inquiry may close. Never backwards. */
const DISPUTE_RANK: Record<DisputeStatus, number> = { inquiry: 0, open: 1, won: 2, lost: 2, inquiry_closed: 2 };
/** pending < succeeded < failed = canceled (Stripe can fail a refund even after it succeeded). */
const REFUND_RANK: Record<RefundStatus, number> = { pending: 0, succeeded: 1, failed: 2, canceled: 2 };

function laterPayment(current: MoneyState, status: PaymentStatus, atMs: number): boolean {
  const rankNow = PAYMENT_RANK[current.paymentStatus];
  const rankNew = PAYMENT_RANK[status];
  if (rankNew !== rankNow) return rankNew > rankNow;
  if (rankNew !== 1 || status === current.paymentStatus) return false;
  const currentAt = current.paymentStatusAt ?? 0;
  // Same rank, different status (processing vs failed): the provider's later event wins; on a tie (Stripe's
  // `created` has one-second resolution) `failed` wins, so every delivery order converges on the same state.
  return atMs > currentAt || (atMs === currentAt && status === "failed");
}

function withPayment(state: MoneyState, status: PaymentStatus, atMs: number, failureCode: string | null, at: Date): MoneyState {
  if (!laterPayment(state, status, atMs)) return state;
  return {
    ...state,
    paymentStatus: status,
    paymentStatusAt: atMs,
    failureCode: status === "failed" ? failureCode : null,
    succeededAt: status === "succeeded" ? (state.succeededAt ?? at) : state.succeededAt,
  };
}

/** Folds one provider event into the donation's money state. `now` stamps `succeededAt` the first time. */
export function applyEvent(state: MoneyState, event: MoneyEvent, now: Date): MoneyState {
  let next: MoneyState = { ...state, refunds: { ...state.refunds }, disputes: { ...state.disputes } };
  if (event.paymentIntentId && !next.paymentIntentId) next.paymentIntentId = event.paymentIntentId;
  switch (event.kind) {
    case "payment":
      next = withPayment(next, event.status, event.createdMs, event.failureCode, now);
      if (event.chargeId && !next.chargeId) next.chargeId = event.chargeId;
      // What Stripe received is fixed once the payment succeeded; a canceled payment says why, once.
      if (event.status === "succeeded" && next.amountReceived === null) next.amountReceived = event.amountReceived;
      if (event.status === "canceled" && next.paymentStatus === "canceled") next.cancellationReason ??= event.cancellationReason;
      return next;
    case "refund":
      // A refund proves the charge succeeded, whatever order the events arrive in.
      next = withPayment(next, "succeeded", event.createdMs, null, now);
      next.chargeId ??= event.chargeId;
      for (const refund of event.refunds) {
        const current = next.refunds[refund.id];
        if (!current || REFUND_RANK[refund.status] > REFUND_RANK[current.status]) {
          const claimLink = refund.claimLink ?? current?.claimLink;
          next.refunds[refund.id] = { amount: refund.amount, status: refund.status, ...(claimLink ? { claimLink } : {}) };
        }
      }
      return next;
    case "dispute": {
      // An inquiry moves no money and proves nothing about the order of events; a chargeback proves the charge.
      if (event.status !== "inquiry" && event.status !== "inquiry_closed") next = withPayment(next, "succeeded", event.createdMs, null, now);
      next.chargeId ??= event.chargeId;
      const current = next.disputes[event.disputeId];
      if (!current || DISPUTE_RANK[event.status] > DISPUTE_RANK[current.status]) {
        next.disputes[event.disputeId] = { status: event.status, amount: event.amount };
      }
      return next;
    }
  }
}

export interface OwedEntry {
  id: string;
  kind: "charge" | "charge_adjustment" | "refund" | "refund_failed" | "dispute" | "dispute_reinstated";
  amount: number;
  providerObjectId: string;
}

/** Deterministic ledger entry ids: one provider money movement is one entry, whichever event carried it. */
export const ledgerEntryId = {
  charge: (paymentIntentId: string) => `charge_${paymentIntentId}`,
  chargeAdjustment: (paymentIntentId: string) => `charge_${paymentIntentId}_received`,
  refund: (refundId: string) => `refund_${refundId}`,
  refundFailed: (refundId: string) => `refund_${refundId}_failed`,
  dispute: (disputeId: string) => `dispute_${disputeId}`,
  disputeReinstated: (disputeId: string) => `dispute_${disputeId}_reinstated`,
};

const refundIsFinalFailure = (refund: RefundState) => refund.status === "failed" || refund.status === "canceled";
const disputeWithdrew = (dispute: DisputeState) => dispute.status === "open" || dispute.status === "won" || dispute.status === "lost";

/**
 * Every ledger entry this state implies. Monotonic: a later state owes a superset.
 * - The charge books the amount asked; once Stripe's `amount_received` is known and differs, an adjustment books the
 *   difference, so the ledger holds what Stripe received.
 * - A refund books −amount when it succeeds; when it fails or is canceled (whether or not we saw it succeed) both the
 *   refund and its failure (+amount) are owed: net zero, the money is back.
 * - A chargeback books the withdrawal; a won one its reinstatement. Inquiries move no money.
 */
export function ledgerEntriesOf(state: MoneyState): OwedEntry[] {
  const entries: OwedEntry[] = [];
  if (state.paymentStatus === "succeeded" && state.paymentIntentId) {
    const pi = state.paymentIntentId;
    entries.push({ id: ledgerEntryId.charge(pi), kind: "charge", amount: state.amount, providerObjectId: pi });
    if (state.amountReceived !== null && state.amountReceived !== state.amount) {
      entries.push({ id: ledgerEntryId.chargeAdjustment(pi), kind: "charge_adjustment", amount: state.amountReceived - state.amount, providerObjectId: pi });
    }
  }
  for (const [refundId, refund] of Object.entries(state.refunds).sort(([a], [b]) => a.localeCompare(b))) {
    if (refund.status === "pending") continue;
    entries.push({ id: ledgerEntryId.refund(refundId), kind: "refund", amount: -refund.amount, providerObjectId: refundId });
    if (refundIsFinalFailure(refund)) entries.push({ id: ledgerEntryId.refundFailed(refundId), kind: "refund_failed", amount: refund.amount, providerObjectId: refundId });
  }
  for (const [disputeId, dispute] of Object.entries(state.disputes).sort(([a], [b]) => a.localeCompare(b))) {
    if (!disputeWithdrew(dispute)) continue;
    entries.push({ id: ledgerEntryId.dispute(disputeId), kind: "dispute", amount: -dispute.amount, providerObjectId: disputeId });
    if (dispute.status === "won") {
      entries.push({ id: ledgerEntryId.disputeReinstated(disputeId), kind: "dispute_reinstated", amount: dispute.amount, providerObjectId: disputeId });
    }
  }
  return entries;
}

/** Sum of the refunds that succeeded (and did not fail since). */
export function refundedAmount(state: Pick<MoneyState, "refunds">): number {
  return Object.values(state.refunds).reduce((sum, refund) => sum + (refund.status === "succeeded" ? refund.amount : 0), 0);
}

/** What the donor sees: disputes and refunds override the payment status. */
export function displayStatus(state: MoneyState): DonationStatus {
  if (Object.values(state.disputes).some((dispute) => dispute.status === "open" || dispute.status === "lost")) return "disputed";
  const received = state.amountReceived ?? state.amount;
  if (state.paymentStatus === "succeeded" && refundedAmount(state) >= received) return "refunded";
  return state.paymentStatus;
}
