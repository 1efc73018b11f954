import { logger } from "../lib/log";
import { refundReportEvent } from "../closing/refunds";
import { processPaymentEvent } from "../donations/ledger";
import type { LedgerDeps, ProcessOutcome } from "../donations/ledger";
import { INVOICE_EVENT_TYPES, PAYOUT_EVENT_TYPES, invoiceEvent, invoiceMetadata, invoiceOfPullPayment, verifyBtcpayDelivery } from "../payments/btcpay";
import type { BtcpayClient, BtcpayDelivery } from "../payments/btcpay";
import type { PaymentStatusEvent } from "../payments/provider";
import type { ProviderRefund } from "../payments/refunds";
import { WebhookSignatureError } from "../payments/provider";
import { refs } from "../store/donations";
import { RECONCILE_GRACE_MS, RECONCILE_LOOKBACK_MS, recordFinding } from "./reconcile";
import type { WebhookRequest, WebhookResponse } from "./webhook";

/**
 * The bitcoin rail's settlement (docs/donations.md, "Bitcoin"): BTCPay's webhook and its reconciliation. Both derive
 * the donation's state from the invoice (or pull payment) as BTCPay holds it now and feed it to the same ledger
 * handler as card payments (`processPaymentEvent`), under event ids that name the object and the derived status, so
 * every delivery, redelivery, reordering and reconciliation of the same state is one event.
 */
export type BtcpayPort = Pick<BtcpayClient, "currentInvoiceEvent" | "pullPayment" | "refundOf" | "invoicesSince" | "paymentMethods" | "pullPayments">;

export interface BtcpaySettlementDeps extends LedgerDeps {
  btcpay: BtcpayPort;
  storeId: string;
}

const INVOICE_TYPES = new Set<string>(INVOICE_EVENT_TYPES);
const PAYOUT_TYPES = new Set<string>(PAYOUT_EVENT_TYPES);

/**
 * Applies an invoice's payment event through the ledger, unless it is not the donation's invoice: an invoice with
 * our metadata whose donation does not exist, or that is not the invoice the donation holds (a stray), is recorded
 * for ops and never credited.
 */
export async function applyInvoiceEvent(deps: BtcpaySettlementDeps, event: PaymentStatusEvent): Promise<ProcessOutcome | "stray"> {
  const donationId = event.metadata?.donationId ?? null;
  const donation = donationId ? (await refs.donation(deps.db, donationId).get()).data() : undefined;
  const finding = { provider: "btcpay" as const, objectId: event.paymentIntentId, paymentIntentId: event.paymentIntentId, donationId, amount: event.amountReceived, currency: event.currency, repaired: false };
  if (donation && donation.paymentIntentId && donation.paymentIntentId !== event.paymentIntentId) {
    await recordFinding(deps, { ...finding, kind: "btcpay_stray_invoice", detail: `Invoice ${event.paymentIntentId} names donation ${donationId ?? ""}, which is paid by invoice ${donation.paymentIntentId}: not credited (${event.status}).` });
    return "stray";
  }
  const outcome = await processPaymentEvent(deps, event);
  if (outcome === "unknown_donation" && event.status !== "failed") {
    await recordFinding(deps, { ...finding, kind: "btcpay_unknown_invoice", detail: `Invoice ${event.paymentIntentId} (${event.status}, ${event.amountReceived} ${event.currency}) matches no donation: recorded, not credited. Refund it from BTCPay if it was paid.` });
  }
  if (donation && event.status === "succeeded") await flagLatePayment(deps, event, donationId ?? "");
  return outcome;
}

/**
 * Bitcoin that reached the invoice after the donation's amount was booked (BTCPay's `PaidLate` after a partial payment,
 * or a second payment to a settled invoice): the ledger books what the invoice showed when it first settled
 * (`amountReceived` is fixed then), so the rest is neither credited nor refunded. Until it is, ops hear of it: a
 * `btcpay_late_payment_{invoiceId}_{paid}` finding (one per total BTCPay reports, so a further payment is a new one),
 * written after the event was applied, by the webhook and reconciliation alike (docs/operations.md).
 */
async function flagLatePayment(deps: BtcpaySettlementDeps, event: PaymentStatusEvent, donationId: string): Promise<void> {
  const donation = (await refs.donation(deps.db, donationId).get()).data();
  const booked = donation?.amountReceived;
  if (!donation || booked === null || booked === undefined || donation.currency !== event.currency || event.amountReceived <= booked) return;
  const extra = event.amountReceived - booked;
  const isNew = await recordFinding(deps, {
    provider: "btcpay",
    kind: "btcpay_late_payment",
    objectId: `${event.paymentIntentId}_${event.amountReceived}`,
    paymentIntentId: event.paymentIntentId,
    donationId,
    amount: extra,
    currency: event.currency,
    repaired: false,
    detail:
      `Invoice ${event.paymentIntentId} shows ${event.amountReceived} ${event.currency} paid; donation ${donationId} booked ${booked} when it settled. ` +
      `The other ${extra} ${event.currency} is neither credited nor refunded: refund it in BTCPay (Invoice → Issue refund, custom amount ${extra} ${event.currency}; ` +
      `less what an earlier btcpay_late_payment finding of this invoice already refunded) and resolve the finding.`,
  });
  if (isNew) logger.error("bitcoin paid after the invoice settled: not booked; flagged for ops", { donationId, invoiceId: event.paymentIntentId, paid: event.amountReceived, booked });
}

/** A pull payment of ours, as its refund event through the ledger (id per pull payment and status: once each). */
function applyRefund(deps: BtcpaySettlementDeps, refund: ProviderRefund, type: string): Promise<ProcessOutcome> {
  return processPaymentEvent(deps, { ...refundReportEvent(refund, "sync"), eventId: `btcpay_${refund.refundId}_${refund.status}`, type });
}

async function applyDelivery(deps: BtcpaySettlementDeps, delivery: BtcpayDelivery): Promise<ProcessOutcome | "stray"> {
  if (delivery.storeId !== deps.storeId) return "ignored";
  if (INVOICE_TYPES.has(delivery.type) && delivery.invoiceId) {
    const event = await deps.btcpay.currentInvoiceEvent(delivery.invoiceId, { type: delivery.type, atMs: delivery.timestamp * 1000 });
    // An invoice without our metadata is another app's on the same store: ignored, as reconciliation ignores it.
    return event?.metadata ? applyInvoiceEvent(deps, event) : "ignored";
  }
  if (PAYOUT_TYPES.has(delivery.type) && delivery.pullPaymentId) {
    const pullPayment = await deps.btcpay.pullPayment(delivery.pullPaymentId);
    if (!invoiceOfPullPayment(pullPayment)) return "ignored";
    return applyRefund(deps, await deps.btcpay.refundOf(pullPayment), delivery.type);
  }
  return "ignored";
}

/**
 * `btcpayWebhook`: 400 and nothing written when `BTCPay-Sig` does not verify (or the body is not a delivery); 200
 * once the state it announces is durably applied (or it is not ours, or a duplicate); 500 when BTCPay or Firestore
 * failed, so BTCPay redelivers (automatic redelivery: after 10 s, 1 min, then up to 6 times 10 min apart).
 */
export async function handleBtcpayWebhook(deps: BtcpaySettlementDeps & { webhookSecret: string }, request: WebhookRequest): Promise<WebhookResponse> {
  if (request.method !== "POST") return { status: 405, body: { error: "method not allowed" } };
  let delivery: BtcpayDelivery;
  try {
    delivery = verifyBtcpayDelivery(request.rawBody ?? Buffer.alloc(0), request.signature, deps.webhookSecret);
  } catch (error) {
    if (error instanceof WebhookSignatureError) {
      // The same message as Stripe's: the webhook-bad-signature metric (ops/monitoring) counts both.
      logger.warn("payment webhook rejected: bad signature", { provider: "btcpay", reason: error.message });
      return { status: 400, body: { error: "invalid signature" } };
    }
    logger.warn("BTCPay webhook rejected: not a delivery", { error: error instanceof Error ? error.message : String(error) });
    return { status: 400, body: { error: "malformed delivery" } };
  }
  const context = { deliveryId: delivery.deliveryId, originalDeliveryId: delivery.originalDeliveryId ?? null, type: delivery.type, invoiceId: delivery.invoiceId ?? null };
  try {
    const outcome = await applyDelivery(deps, delivery);
    logger.info("BTCPay webhook processed", { ...context, outcome });
    return { status: 200, body: { received: true, outcome } };
  } catch (error) {
    // The same message as Stripe's: the webhook-5xx alert (ops/monitoring) watches both.
    logger.error("payment webhook failed; the provider will retry", { provider: "btcpay", ...context, error: error instanceof Error ? error.stack : String(error) });
    return { status: 500, body: { error: "not processed; retry" } };
  }
}

export interface BtcpayReconcileSummary {
  invoicesChecked: number;
  refundsChecked: number;
  repaired: number;
}

/**
 * `reconcileBtcpay` (hourly): every invoice of the store created in the last four days (BTCPay gives up redelivering
 * well within that) and every refund pull payment of ours, applied through the same path as their webhooks. What
 * changed a donation was a missed webhook: recorded as a repaired `missed_btcpay_webhook` finding. Invoices younger
 * than five minutes may still have a delivery in flight and wait for the next run.
 */
export async function reconcileBtcpay(deps: BtcpaySettlementDeps): Promise<BtcpayReconcileSummary> {
  const now = deps.clock.now();
  const summary: BtcpayReconcileSummary = { invoicesChecked: 0, refundsChecked: 0, repaired: 0 };
  const source = { type: "reconciliation.invoice", atMs: now.getTime() };
  for await (const invoice of deps.btcpay.invoicesSince(new Date(now.getTime() - RECONCILE_LOOKBACK_MS))) {
    if (!invoiceMetadata(invoice) || invoice.createdTime * 1000 > now.getTime() - RECONCILE_GRACE_MS) continue;
    summary.invoicesChecked++;
    const event = invoiceEvent(invoice, await deps.btcpay.paymentMethods(invoice.id), source);
    if (!event || (await applyInvoiceEvent(deps, event)) !== "applied") continue;
    summary.repaired++;
    await recordFinding(deps, {
      provider: "btcpay",
      kind: "missed_btcpay_webhook",
      objectId: invoice.id,
      paymentIntentId: invoice.id,
      donationId: event.metadata?.donationId ?? null,
      amount: event.amountReceived,
      currency: event.currency,
      repaired: true,
      detail: `Invoice ${invoice.id} was ${event.status} at BTCPay; its webhook never reached us. Applied.`,
    });
  }
  for (const pullPayment of await deps.btcpay.pullPayments()) {
    if (!invoiceOfPullPayment(pullPayment)) continue;
    summary.refundsChecked++;
    if ((await applyRefund(deps, await deps.btcpay.refundOf(pullPayment), "reconciliation.pull_payment")) === "applied") summary.repaired++;
  }
  if (summary.repaired > 0) logger.warn("BTCPay reconciliation repaired missed webhooks", { ...summary });
  return summary;
}
