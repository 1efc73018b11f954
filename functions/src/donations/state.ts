import type { DisputeState, Donation, DonationStatus, PaymentStatus } from "../model/donation";
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
  | "paymentStatus"
  | "paymentStatusAt"
  | "failureCode"
  | "paymentIntentId"
  | "chargeId"
  | "refunds"
  | "disputes"
  | "succeededAt"
>;

/** pending < processing = failed < succeeded = canceled. Equal non-terminal ranks are ordered by event time. */
const PAYMENT_RANK: Record<PaymentStatus, number> = { pending: 0, processing: 1, failed: 1, succeeded: 2, canceled: 2 };
const DISPUTE_RANK: Record<DisputeState["status"], number> = { open: 0, won: 1, lost: 1 };

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
      return next;
    case "refund":
      // A refund proves the charge succeeded, whatever order the events arrive in.
      next = withPayment(next, "succeeded", event.createdMs, null, now);
      next.chargeId ??= event.chargeId;
      for (const refund of event.refunds) next.refunds[refund.id] = refund.amount;
      return next;
    case "dispute": {
      next = withPayment(next, "succeeded", event.createdMs, null, now);
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
  kind: "charge" | "refund" | "dispute" | "dispute_reinstated";
  amount: number;
  providerObjectId: string;
}

/** Deterministic ledger entry ids: one provider money movement is one entry, whichever event carried it. */
export const ledgerEntryId = {
  charge: (paymentIntentId: string) => `charge_${paymentIntentId}`,
  refund: (refundId: string) => `refund_${refundId}`,
  dispute: (disputeId: string) => `dispute_${disputeId}`,
  disputeReinstated: (disputeId: string) => `dispute_${disputeId}_reinstated`,
};

/** Every ledger entry this state implies. Monotonic: a later state owes a superset. */
export function ledgerEntriesOf(state: MoneyState): OwedEntry[] {
  const entries: OwedEntry[] = [];
  if (state.paymentStatus === "succeeded" && state.paymentIntentId) {
    entries.push({ id: ledgerEntryId.charge(state.paymentIntentId), kind: "charge", amount: state.amount, providerObjectId: state.paymentIntentId });
  }
  for (const [refundId, amount] of Object.entries(state.refunds).sort()) {
    entries.push({ id: ledgerEntryId.refund(refundId), kind: "refund", amount: -amount, providerObjectId: refundId });
  }
  for (const [disputeId, dispute] of Object.entries(state.disputes).sort()) {
    entries.push({ id: ledgerEntryId.dispute(disputeId), kind: "dispute", amount: -dispute.amount, providerObjectId: disputeId });
    if (dispute.status === "won") {
      entries.push({
        id: ledgerEntryId.disputeReinstated(disputeId),
        kind: "dispute_reinstated",
        amount: dispute.amount,
        providerObjectId: disputeId,
      });
    }
  }
  return entries;
}

export function refundedAmount(state: Pick<MoneyState, "refunds">): number {
  return Object.values(state.refunds).reduce((sum, amount) => sum + amount, 0);
}

/** What the donor sees: disputes and refunds override the payment status. */
export function displayStatus(state: MoneyState): DonationStatus {
  if (Object.values(state.disputes).some((dispute) => dispute.status !== "won")) return "disputed";
  if (state.paymentStatus === "succeeded" && refundedAmount(state) >= state.amount) return "refunded";
  return state.paymentStatus;
}
