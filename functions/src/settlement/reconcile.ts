import type { Firestore } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { FINDINGS, findingDocId } from "../model/closing";
import { DONATIONS } from "../model/donation";
import type { Donation, ProviderName } from "../model/donation";
import type { PaymentStatusEvent, RefundEvent, TransferEvent } from "../payments/provider";
import { payoutRef } from "../payouts/payouts";
import type { Transfers } from "../payments/transfers";
import type { ClosingProvider, ProviderPayment, ProviderRefund } from "../payments/refunds";
import { refundReportEvent } from "../closing/refunds";
import { refs } from "../store/donations";

/**
 * Reconciliation with Stripe (N8), run hourly by `reconcileWithStripe`: one step per kind of provider object, each
 * listing what Stripe created in the last {@link RECONCILE_LOOKBACK_MS} and comparing it with our ledger.
 * Payments (PaymentIntents with our `donationId` metadata):
 * - succeeded (or canceled) at Stripe while our donation is still waiting (a dropped `payment_intent.*` webhook) is
 *   repaired by feeding the webhook's own ledger handler a synthetic event (idempotent: the ledger entry ids are
 *   deterministic, so the late original webhook changes nothing) and recorded as a repaired finding;
 * - succeeded with no donation to credit, or in another currency than the donation's, is recorded for ops and never
 *   applied (money we cannot explain is not counted towards a wish); an amount received other than the donation's is
 *   recorded for ops too, but booked as received (the ledger follows Stripe).
 * Refunds:
 * - a refund in a state our ledger has not seen (a dropped `refund.*` webhook: succeeded, or failed/canceled after we
 *   counted it) is folded in the same way; a failed one then puts its refund request in the ops queue;
 * - a refund of a payment we cannot match is recorded for ops.
 * Transfers (payouts, with our `wishId` metadata):
 * - a transfer, or a reversal of one, that our payout has not booked (a dropped `transfer.*` webhook) is repaired
 *   through the webhook's own payout handler;
 * - a transfer for a wish that has no payout is recorded for ops (money left the platform for a reason we lack).
 * Findings live in `ops/reconciliation/findings/{kind}_{providerObjectId}` (deterministic: a rerun updates, never
 * duplicates); the last run's summary in `ops/reconciliation`.
 */

/**
 * Four days: Stripe retries a webhook for up to 3 days, so anything older that our ledger lacks is lost for good,
 * plus one day of margin for reconciliation runs that themselves failed. Stripe's list reaches back 30 days if ops
 * ever need a wider run.
 */
export const RECONCILE_LOOKBACK_MS = 4 * 24 * 60 * 60 * 1000;
/** Objects younger than this may still have their webhook in flight: not judged yet. */
export const RECONCILE_GRACE_MS = 5 * 60 * 1000;

export const RECONCILIATION_DOC = "ops/reconciliation";
export { FINDINGS };

export interface ReconcileDeps {
  db: Firestore;
  clock: Clock;
  provider: ClosingProvider;
  /** The webhook's own event handler (donations ledger): a repaired payment goes through exactly the same code. */
  applyPaymentEvent: (event: PaymentStatusEvent) => Promise<unknown>;
  /** The same handler, for refunds. */
  applyRefundEvent: (event: RefundEvent) => Promise<unknown>;
  /** Brings a donation's refund request in line after its money moved (src/closing/refunds.ts `settleDonation`). */
  settleDonation: (donationId: string) => Promise<unknown>;
  /** Transfers for payouts, and the webhook's payout handler (src/payouts/payouts.ts `processPayoutEvent`). */
  payouts: Pick<Transfers, "transfersSince">;
  applyTransferEvent: (event: TransferEvent) => Promise<unknown>;
}
export type PaymentReconcileDeps = Pick<ReconcileDeps, "db" | "clock" | "provider" | "applyPaymentEvent">;
export type RefundReconcileDeps = Pick<ReconcileDeps, "db" | "clock" | "provider" | "applyRefundEvent" | "settleDonation">;
export type TransferReconcileDeps = Pick<ReconcileDeps, "db" | "clock" | "payouts" | "applyTransferEvent">;

export type FindingKind =
  | "missed_payment_webhook"
  | "payment_unknown_donation"
  | "payment_amount_mismatch"
  | "missed_refund_webhook"
  | "refund_failed_at_provider"
  | "refund_unknown_payment"
  | "missed_transfer_webhook"
  | "transfer_unknown_payout"
  // BTCPay (settlement/btcpay.ts)
  | "btcpay_unknown_invoice"
  | "btcpay_stray_invoice"
  | "btcpay_late_payment"
  | "missed_btcpay_webhook"
  // Fio (settlement/fio.ts)
  | "bank_transfer_unmatched"
  | "bank_transfer_manual_return"
  | "fio_order_refused"
  | "fio_order_unknown"
  | "fio_order_unconfirmed";

/** The provider objects one run judges: created in [since, now - grace]. */
export interface ReconcileWindow {
  now: Date;
  since: Date;
}

export function reconcileWindow(now: Date): ReconcileWindow {
  return { now, since: new Date(now.getTime() - RECONCILE_LOOKBACK_MS) };
}

function judgeable(window: ReconcileWindow, createdMs: number): boolean {
  return window.now.getTime() - createdMs >= RECONCILE_GRACE_MS;
}

/**
 * One run's totals: `…Checked` counts our provider objects past the grace period; `findings` counts the repairs this
 * run made and the findings it could not repair that are new or still unresolved, not one seen again after it was
 * resolved (repaired by an earlier run, or by ops by hand): the `reconciliation-findings` alert fires on
 * `findings > 0`, so it stops once every finding is handled, though their objects stay in the window for days.
 */
export interface ReconcileSummary {
  paymentsChecked: number;
  refundsChecked: number;
  transfersChecked: number;
  repaired: number;
  findings: number;
}
export type PaymentsSummary = Pick<ReconcileSummary, "paymentsChecked" | "repaired" | "findings">;
export type RefundsSummary = Pick<ReconcileSummary, "refundsChecked" | "repaired" | "findings">;
export type TransfersSummary = Pick<ReconcileSummary, "transfersChecked" | "repaired" | "findings">;

const donationRef = (db: Firestore, donationId: string) => refs.donation(db, donationId);

async function findDonationId(db: Firestore, refund: ProviderRefund): Promise<string | null> {
  if (refund.donationId) return refund.donationId;
  if (!refund.paymentIntentId) return null;
  const found = await db.collection(DONATIONS).where("paymentIntentId", "==", refund.paymentIntentId).limit(1).get();
  return found.docs[0]?.id ?? null;
}

export interface Finding {
  kind: FindingKind;
  /** Whose object it is; Stripe's when absent. */
  provider?: ProviderName;
  /** The provider object it is about (pi_…, re_…); with `kind`, it names the finding document. */
  objectId: string;
  paymentIntentId: string | null;
  donationId: string | null;
  amount: number;
  currency: string;
  repaired: boolean;
  detail: string;
  /** Written when given (Fio's findings name the wish). */
  wishId?: string | null;
  /**
   * When what it reports happened (an import attempt, an order's last change): a sighting of something that happened
   * again after ops resolved the finding reopens it. Without it, a resolution is never undone.
   */
  occurredAt?: Date;
}

/**
 * The `resolvedAt` a sighting writes, given the document's (undefined: no document yet). Resolved at once when
 * repaired, also when a later run repaired what an earlier one could not; a finding ops resolved by hand stays resolved
 * when a rerun sees its object again (only `lastSeenAt` moves), unless it happened again since (`occurredAt`).
 */
function resolutionAfter(current: unknown, finding: Pick<Finding, "repaired" | "occurredAt">, now: Date): { resolvedAt?: Date | null } {
  if (current === undefined) return { resolvedAt: finding.repaired ? now : null };
  if (finding.repaired) return current == null ? { resolvedAt: now } : {};
  const happenedAgain = finding.occurredAt !== undefined && current instanceof Timestamp && current.toMillis() < finding.occurredAt.getTime();
  return happenedAgain ? { resolvedAt: null } : {};
}

/**
 * Records a sighting of a finding (one document per kind and provider object). Answers whether it was new or still
 * unresolved before this sighting (a run counts those in `findings`); false when its document already had
 * `resolvedAt` (repaired, or resolved by ops by hand), which a sighting never undoes unless it happened again after
 * the resolution (`occurredAt`).
 */
export async function recordFinding(deps: Pick<ReconcileDeps, "db" | "clock">, finding: Finding): Promise<boolean> {
  const ref = deps.db.collection(FINDINGS).doc(findingDocId(finding.kind, finding.objectId));
  const now = deps.clock.now();
  return deps.db.runTransaction(async (tx) => {
    const existing = await tx.get(ref);
    const resolvedAt = resolutionAfter(existing.exists ? existing.get("resolvedAt") : undefined, finding, now);
    tx.set(
      ref,
      {
        kind: finding.kind,
        provider: finding.provider ?? "stripe",
        providerObjectId: finding.objectId,
        paymentIntentId: finding.paymentIntentId,
        donationId: finding.donationId,
        amount: finding.amount,
        currency: finding.currency,
        repaired: finding.repaired,
        detail: finding.detail,
        ...(finding.wishId !== undefined ? { wishId: finding.wishId } : {}),
        lastSeenAt: now,
        ...(existing.exists ? {} : { detectedAt: now }),
        ...resolvedAt,
      },
      { merge: true },
    );
    return !existing.exists || existing.get("resolvedAt") == null;
  });
}

type OurPayment = ProviderPayment & { donationId: string };

/** Donations are read this many at a time, in parallel (a 4-day window can hold thousands of payments). */
const PAYMENT_GROUP = 100;

/**
 * Payments step. Only PaymentIntents carrying our `donationId` metadata are ours; the others (other products on
 * the same Stripe account) are not counted.
 */
export async function reconcilePayments(deps: PaymentReconcileDeps, window = reconcileWindow(deps.clock.now())): Promise<PaymentsSummary> {
  const summary: PaymentsSummary = { paymentsChecked: 0, repaired: 0, findings: 0 };
  let group: OurPayment[] = [];
  const judgeGroup = async () => {
    if (group.length === 0) return;
    const snaps = await Promise.all(group.map((payment) => donationRef(deps.db, payment.donationId).get()));
    for (const [index, payment] of group.entries()) await judgePayment(deps, payment, snaps[index]?.data(), summary);
    group = [];
  };
  for await (const payment of deps.provider.paymentsSince(window.since)) {
    if (payment.donationId === null || !judgeable(window, payment.createdMs)) continue;
    summary.paymentsChecked++;
    group.push({ ...payment, donationId: payment.donationId });
    if (group.length >= PAYMENT_GROUP) await judgeGroup();
  }
  await judgeGroup();
  return summary;
}

function amountMismatch(payment: ProviderPayment, donation: Donation): string | null {
  const received = payment.status === "succeeded" && payment.amountReceived !== donation.amount;
  if (payment.amount === donation.amount && payment.currency === donation.currency && !received) return null;
  return `Stripe: ${payment.amount} ${payment.currency} (received ${payment.amountReceived}, ${payment.status}); donation: ${donation.amount} ${donation.currency}.`;
}

/** Money in another currency cannot be credited to the donation's wish. */
const otherCurrency = (payment: ProviderPayment, donation: Donation) => payment.currency !== donation.currency;

/** The final status a dropped webhook would have brought, when our donation has not caught up with it. */
function missedStatus(payment: ProviderPayment, donation: Donation): "succeeded" | "canceled" | null {
  if (payment.status === "succeeded" && donation.paymentStatus !== "succeeded") return "succeeded";
  if (payment.status === "canceled" && (donation.paymentStatus === "pending" || donation.paymentStatus === "processing")) return "canceled";
  return null;
}

async function judgePayment(deps: PaymentReconcileDeps, payment: OurPayment, donation: Donation | undefined, summary: PaymentsSummary): Promise<void> {
  const { paymentIntentId, donationId, amount, currency } = payment;
  const finding = { objectId: paymentIntentId, paymentIntentId, donationId, amount, currency };
  // A donation paid by another PaymentIntent would have this one's charge credited under the other's id: not ours either.
  const otherIntent = donation?.paymentIntentId != null && donation.paymentIntentId !== paymentIntentId ? donation.paymentIntentId : null;
  if (!donation || otherIntent) {
    // Only money taken matters; an abandoned PaymentIntent of a deleted donation moved nothing.
    if (payment.status !== "succeeded") return;
    const detail = otherIntent
      ? `Stripe took this payment for donation ${donationId}, which is paid by ${otherIntent}; our ledger will never count it.`
      : `Stripe took this payment for donation ${donationId}, which does not exist.`;
    if (await recordFinding(deps, { ...finding, kind: "payment_unknown_donation", repaired: false, detail })) summary.findings++;
    return;
  }
  const mismatch = amountMismatch(payment, donation);
  if (mismatch) {
    const detail = otherCurrency(payment, donation) ? `Not applied. ${mismatch}` : `Booked as Stripe received it. ${mismatch}`;
    if (await recordFinding(deps, { ...finding, kind: "payment_amount_mismatch", repaired: false, detail })) summary.findings++;
    if (otherCurrency(payment, donation)) return;
  }
  const status = missedStatus(payment, donation);
  if (!status) return;
  await deps.applyPaymentEvent({
    provider: "stripe",
    kind: "payment",
    eventId: `reconcile_${paymentIntentId}_${status}`,
    type: `reconciliation.payment_intent.${status}`,
    createdMs: payment.createdMs,
    status,
    paymentIntentId,
    // The donation's own wish and donor (the metadata named this donation; the ledger trusts the donation).
    metadata: { donationId, wishId: donation.wishId, donorId: donation.donorId },
    amountReceived: payment.amountReceived,
    currency,
    chargeId: payment.chargeId,
    failureCode: null,
    cancellationReason: payment.cancellationReason,
  });
  // Say "repaired" only if the ledger really moved the donation there.
  const after = (await donationRef(deps.db, donationId).get()).data();
  const repaired = after?.paymentStatus === status;
  const counted = await recordFinding(deps, {
    ...finding,
    kind: "missed_payment_webhook",
    repaired,
    detail: repaired
      ? `The payment_intent.${status} webhook never arrived; applied from the PaymentIntent list.`
      : `The payment_intent.${status} webhook never arrived and the ledger did not apply it (donation is ${after?.paymentStatus ?? "missing"}).`,
  });
  if (repaired) summary.repaired++;
  // A repair is this run's news; a finding it could not repair counts until it is resolved.
  if (repaired || counted) summary.findings++;
}

/** Refunds step. */
export async function reconcileRefunds(deps: RefundReconcileDeps, window = reconcileWindow(deps.clock.now())): Promise<RefundsSummary> {
  const summary: RefundsSummary = { refundsChecked: 0, repaired: 0, findings: 0 };
  for await (const refund of deps.provider.refundsSince(window.since)) {
    if (!judgeable(window, refund.createdMs)) continue;
    summary.refundsChecked++;
    const donationId = await findDonationId(deps.db, refund);
    const donation = donationId ? (await donationRef(deps.db, donationId).get()).data() : undefined;
    const finding = { objectId: refund.refundId, paymentIntentId: refund.paymentIntentId, donationId, amount: refund.amount, currency: refund.currency };
    if (!donationId || !donation) {
      if (await recordFinding(deps, { ...finding, kind: "refund_unknown_payment", repaired: false, detail: "Stripe refunded a payment we have no donation for." })) summary.findings++;
      continue;
    }
    // Stripe's state of the refund is newer than ours whenever they differ (a refund only moves forward).
    if (refund.status === "pending" || donation.refunds[refund.refundId]?.status === refund.status) continue;
    await deps.applyRefundEvent({ ...refundReportEvent(refund, "sync"), eventId: `reconcile_${refund.refundId}_${refund.status}`, type: "reconciliation.refund" });
    await deps.settleDonation(donationId);
    const failed = refund.status !== "succeeded";
    await recordFinding(deps, {
      ...finding,
      kind: failed ? "refund_failed_at_provider" : "missed_refund_webhook",
      repaired: true,
      detail: failed
        ? `The refund.failed webhook never arrived (${refund.failureReason ?? refund.status}); booked from the refund list: the money is back with us and the refund request waits for ops.`
        : "The refund webhook never arrived; applied from the refund list.",
    });
    summary.repaired++;
    summary.findings++;
  }
  return summary;
}

/**
 * Transfers step. A transfer is ours when it carries our `wishId` metadata. Booking goes through the webhook's own
 * handler with a synthetic event id, so the late original webhook (or a second run) finds it booked and changes
 * nothing.
 */
export async function reconcileTransfers(deps: TransferReconcileDeps, window = reconcileWindow(deps.clock.now())): Promise<TransfersSummary> {
  const summary: TransfersSummary = { transfersChecked: 0, repaired: 0, findings: 0 };
  for await (const transfer of deps.payouts.transfersSince(window.since)) {
    if (!transfer.wishId || !judgeable(window, transfer.createdMs)) continue;
    summary.transfersChecked++;
    const finding = { objectId: transfer.transferId, paymentIntentId: null, donationId: null, amount: transfer.amount, currency: transfer.currency };
    const payout = (await payoutRef(deps.db, transfer.wishId).get()).data();
    if (!payout) {
      if (await recordFinding(deps, { ...finding, kind: "transfer_unknown_payout", repaired: false, detail: `A transfer for wish ${transfer.wishId}, which has no payout.` })) summary.findings++;
      continue;
    }
    const booked = payout.transfers[transfer.transferId];
    const unbookedReversals = Object.keys(transfer.reversals).filter((id) => booked?.reversals[id] === undefined);
    if (booked?.confirmed && unbookedReversals.length === 0) continue;
    const reversalSuffix = unbookedReversals.length > 0 ? `_${[...unbookedReversals].sort().join("_")}` : "";
    await deps.applyTransferEvent({
      provider: "stripe",
      kind: "transfer",
      eventId: `reconcile_${transfer.transferId}${reversalSuffix}`,
      type: "reconciliation.transfer",
      createdMs: transfer.createdMs,
      transfer,
    });
    await recordFinding(deps, {
      ...finding,
      kind: "missed_transfer_webhook",
      repaired: true,
      detail: booked?.confirmed ? "A transfer reversal's webhook never arrived; booked from the transfer list." : "The transfer.created webhook never arrived; booked from the transfer list.",
    });
    summary.repaired++;
    summary.findings++;
  }
  return summary;
}

type ReconcileStep = (deps: ReconcileDeps, window: ReconcileWindow) => Promise<Partial<ReconcileSummary>>;

/**
 * The steps of one run, over one window. Payments first: a refund's money can only have left after it came in;
 * transfers last (they pay out money the payments brought in).
 */
const STRIPE_STEPS: readonly ReconcileStep[] = [reconcilePayments, reconcileRefunds, reconcileTransfers];

/**
 * The hourly job: every step over the same window, then ONE summary in `ops/reconciliation`. A step that throws
 * (Stripe unreachable) fails the run without a summary, so a stale `lastRunAt` tells ops the job is failing; the
 * next run covers the same objects again.
 */
export async function reconcileWithStripe(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const window = reconcileWindow(deps.clock.now());
  const summary: ReconcileSummary = { paymentsChecked: 0, refundsChecked: 0, transfersChecked: 0, repaired: 0, findings: 0 };
  for (const step of STRIPE_STEPS) {
    const part = await step(deps, window);
    for (const key of Object.keys(summary) as (keyof ReconcileSummary)[]) summary[key] += part[key] ?? 0;
  }
  await deps.db.doc(RECONCILIATION_DOC).set({ lastRunAt: window.now, windowStart: window.since, ...summary });
  logger.info("reconciliation with Stripe finished", { ...summary });
  return summary;
}
