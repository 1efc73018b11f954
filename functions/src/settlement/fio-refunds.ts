import type { Firestore } from "firebase-admin/firestore";
import type { Clock } from "../lib/clock";
import { variableSymbolOfPaymentId } from "../model/bank-transfer";
import type { FioOrder } from "../model/bank-transfer";
import type { RefundStatus } from "../model/donation";
import type { IncomingDecision } from "../payments/fio-match";
import { PaymentProviderError } from "../payments/provider";
import type { ClosingProvider, ProviderDispute, ProviderPayment, ProviderRefund, RefundMetadata } from "../payments/refunds";
import { bankRefs } from "../store/bank-transfer";
import { createOrder } from "./fio";

/**
 * The closing port of the bank-transfer rail (refund tasks, the money audit), chosen by `donation.provider === "fio"`.
 * A refund is a payment order back to the account that paid (the reference's payer), queued in `fioOrders` and sent by
 * the poller's next import; it stays `pending` until its outgoing movement appears in the feed (src/settlement/fio.ts).
 * The order id comes from the refund task's idempotency key, so a retried task finds the same order: never two.
 */
export class FioClosingProvider implements ClosingProvider {
  constructor(private readonly deps: { db: Firestore; clock: Clock }) {}

  async refund(input: { paymentIntentId: string; amount: number; metadata: RefundMetadata; idempotencyKey: string }): Promise<ProviderRefund> {
    const reference = await this.reference(input.paymentIntentId);
    const payer = reference.payer;
    if (!payer?.account || !payer.bankCode || !/^\d{4}$/.test(payer.bankCode)) {
      // A 4xx-like refusal: the refund task hands it to ops (refund failures), who return the money by hand.
      throw new PaymentProviderError("The paying account is not a Czech domestic account: return it by hand", "fio_no_domestic_payer", 400);
    }
    const orderId = `r_${input.idempotencyKey.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const order = await createOrder(this.deps, orderId, {
      kind: "refund",
      donationId: input.metadata.donationId,
      wishId: input.metadata.wishId,
      paymentIntentId: input.paymentIntentId,
      sourceMovementId: reference.paidByMovementId,
      reason: "refund",
      amount: input.amount,
      accountTo: payer.account,
      bankCode: payer.bankCode,
      variableSymbol: reference.variableSymbol,
      message: "ElateMe: vraceni daru / gift refunded",
    });
    return toRefund(orderId, order);
  }

  async refundsOfPayment(paymentIntentId: string): Promise<ProviderRefund[]> {
    const orders = await bankRefs.orders(this.deps.db).where("paymentIntentId", "==", paymentIntentId).get();
    return orders.docs.filter((doc) => doc.data().kind === "refund").map((doc) => toRefund(doc.id, doc.data()));
  }

  disputesOfPayment(): Promise<ProviderDispute[]> {
    // A bank transfer cannot be disputed (no chargebacks).
    return Promise.resolve([]);
  }

  async payment(paymentIntentId: string): Promise<ProviderPayment> {
    const reference = await this.reference(paymentIntentId);
    const paying = reference.paidByMovementId ? (await bankRefs.transaction(this.deps.db, reference.paidByMovementId).get()).data() : undefined;
    const decision = paying?.decision as IncomingDecision | null | undefined;
    const booked = decision?.kind === "book" ? decision.received : 0;
    return {
      provider: "fio",
      paymentIntentId,
      status: booked > 0 ? "succeeded" : reference.closedAt ? "canceled" : "requires_payment_method",
      amount: reference.amount,
      amountReceived: booked,
      currency: reference.currency,
      donationId: reference.donationId,
      wishId: reference.wishId,
      donorId: reference.donorId,
      chargeId: reference.paidByMovementId,
      cancellationReason: reference.closedAt ? "expired" : null,
      createdMs: reference.createdAt.getTime(),
    };
  }

  /** Fio's own listing is the movement feed, reconciled by the poller's daily period download (src/settlement/fio.ts). */
  async *refundsSince(): AsyncIterable<ProviderRefund> {}

  async *paymentsSince(): AsyncIterable<ProviderPayment> {}

  private async reference(paymentIntentId: string) {
    const symbol = variableSymbolOfPaymentId(paymentIntentId);
    const reference = symbol ? (await bankRefs.reference(this.deps.db, symbol).get()).data() : undefined;
    if (!reference) throw new PaymentProviderError(`No bank-transfer reference for ${paymentIntentId}`, "fio_unknown_reference", 404);
    return reference;
  }
}

/**
 * Executed → succeeded; refused by the bank → failed (no money left: the refund request goes to ops, whose
 * retryRefund makes a new order); anything else is still on its way (an unknown order may have reached the bank: ops
 * look in internet banking, and it stays pending).
 */
function toRefund(orderId: string, order: FioOrder): ProviderRefund {
  const status: RefundStatus = order.status === "executed" ? "succeeded" : order.status === "refused" ? "failed" : "pending";
  return {
    provider: "fio",
    refundId: orderId,
    status,
    amount: order.amount,
    paymentIntentId: order.paymentIntentId,
    chargeId: order.sourceMovementId,
    currency: order.currency,
    donationId: order.donationId,
    failureReason: order.lastError,
    createdMs: order.createdAt.getTime(),
  };
}
