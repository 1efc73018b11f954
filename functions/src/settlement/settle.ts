import type { Firestore } from "firebase-admin/firestore";
import { fanOutRefunds, runRefundTask, settleDonation } from "../closing/refunds";
import type { RefundTaskOutcome, RefundTaskPayload } from "../closing/refunds";
import { scheduleDeadline } from "../closing/deadline";
import { onWishWrittenForClosing } from "../closing/trigger";
import type { ClosingAction, WishClosingView } from "../closing/trigger";
import { processPaymentEvent } from "../donations/ledger";
import type { Clock } from "../lib/clock";
import type { TaskEnqueuer } from "../lib/tasks";
import type { ClosingProvider, ClosingProviderOf } from "../payments/refunds";
import type { Transfers } from "../payments/transfers";
import { processPayoutEvent, requestPayout } from "../payouts/payouts";
import { auditMoney } from "./audit";
import type { MoneyAuditSummary } from "./audit";
import { reconcileWithStripe } from "./reconcile";
import type { ReconcileDeps, ReconcileSummary } from "./reconcile";

/**
 * The compositions that settle a wish's money across features: closing decides, donations' ledger folds provider
 * events, payouts pay the owner. Features never import each other; this room (above them) joins them, so the api layer
 * only builds dependencies and calls one function per trigger (docs/architecture.md).
 */
export interface SettlementDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
}

/** A write of `wishes/{wishId}`: schedule its deadline, refund every donor, or pay the owner (closing/trigger.ts). */
export function onWishWritten(
  deps: SettlementDeps,
  wishId: string,
  before: WishClosingView | undefined,
  after: WishClosingView | undefined,
  writtenAt: Date,
): Promise<ClosingAction[]> {
  return onWishWrittenForClosing(
    {
      scheduleDeadline: (deadline) => scheduleDeadline(deps, wishId, deadline, 0),
      refundAll: (reason) => fanOutRefunds(deps, wishId, reason),
      payOut: () => requestPayout(deps, wishId),
    },
    before,
    after,
    writtenAt,
  );
}

/** One refund task; what Stripe already holds is folded into the donation by the webhook's own ledger handler. */
export function runRefund(deps: SettlementDeps & { providerOf: ClosingProviderOf }, payload: RefundTaskPayload, retryCount: number): Promise<RefundTaskOutcome> {
  return runRefundTask({ ...deps, applyProviderEvent: (event) => processPaymentEvent(deps, event) }, payload, retryCount);
}

/** The reconciliation's dependencies: payments and refunds repaired through the ledger, transfers through payouts. */
export function reconcileDeps(deps: SettlementDeps & { provider: ClosingProvider; payouts: Pick<Transfers, "transfersSince"> }): ReconcileDeps {
  return {
    db: deps.db,
    clock: deps.clock,
    provider: deps.provider,
    applyPaymentEvent: (event) => processPaymentEvent(deps, event),
    applyRefundEvent: (event) => processPaymentEvent(deps, event),
    settleDonation: (donationId) => settleDonation(deps, donationId),
    payouts: deps.payouts,
    applyTransferEvent: (event) => processPayoutEvent(deps, event),
  };
}

/** The hourly reconciliation with Stripe, wired by {@link reconcileDeps}. */
export function reconcileStripe(deps: SettlementDeps & { provider: ClosingProvider; payouts: Transfers }): Promise<ReconcileSummary> {
  return reconcileWithStripe(reconcileDeps(deps));
}

/** The hourly money audit of every wish whose money moved lately (docs/operations.md "The money audit"). */
export function auditWishMoney(deps: SettlementDeps & { providerOf: ClosingProviderOf; payouts: Transfers }): Promise<MoneyAuditSummary> {
  return auditMoney({ ...deps, applyProviderEvent: (event) => processPaymentEvent(deps, event) });
}
