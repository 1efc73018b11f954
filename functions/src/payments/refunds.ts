import type Stripe from "stripe";
import { z } from "zod";
import type { DisputeStatus, ProviderName, RefundStatus } from "../model/donation";
import { callStripe, disputeStatusOf, idOf, paymentMetadataOf, refundStatusOf, stripeListSince } from "./stripe";

/**
 * What closing a wish needs from the payment provider: refunds, Connect accounts and transfers, and listings for
 * reconciliation. A narrow seam beside the donations domain's `PaymentProvider` (src/payments/provider.ts): donation
 * code never sees payout calls and closing code never creates payments. Errors are `PaymentProviderError`s whose
 * `providerCode` is the provider's error code (e.g. `charge_already_refunded`).
 */
export interface RefundMetadata {
  donationId: string;
  wishId: string;
  donorId: string;
  /** The refund request's generation (docs/operations.md): which of our requests made this refund. */
  generation: string;
}

export interface ProviderRefund {
  provider: ProviderName;
  refundId: string;
  status: RefundStatus;
  amount: number;
  paymentIntentId: string | null;
  chargeId: string | null;
  currency: string;
  donationId: string | null;
  failureReason: string | null;
  createdMs: number;
}

/**
 * Stripe's PaymentIntent statuses (only `succeeded` and `canceled` are final), plus `other` for one Stripe may add
 * later: reconciliation leaves such a payment alone rather than failing the whole run.
 */
const providerPaymentStatusSchema = z
  .enum(["requires_payment_method", "requires_confirmation", "requires_action", "processing", "requires_capture", "canceled", "succeeded", "other"])
  .catch("other");
export type ProviderPaymentStatus = z.infer<typeof providerPaymentStatusSchema>;

/** A payment (Stripe PaymentIntent) as reconciliation sees it. */
export interface ProviderPayment {
  provider: ProviderName;
  paymentIntentId: string;
  status: ProviderPaymentStatus;
  amount: number;
  amountReceived: number;
  /** Upper-case ISO code, as our documents store it. */
  currency: string;
  /** From the payment's metadata; null when absent (a payment of another product on the account). */
  donationId: string | null;
  wishId: string | null;
  donorId: string | null;
  /** The latest charge (the one that succeeded, for a succeeded payment). */
  chargeId: string | null;
  /** Stripe's `cancellation_reason` of a canceled payment. */
  cancellationReason: string | null;
  createdMs: number;
}

/** A dispute of a payment, as the provider reports it now. */
export interface ProviderDispute {
  provider: ProviderName;
  disputeId: string;
  status: DisputeStatus;
  amount: number;
  currency: string;
  paymentIntentId: string | null;
  chargeId: string | null;
  createdMs: number;
}

export interface ClosingProvider {
  /** Refunds `amount` of a payment. Idempotent per `idempotencyKey` (Stripe keeps keys for 24 h). */
  refund(input: { paymentIntentId: string; amount: number; metadata: RefundMetadata; idempotencyKey: string }): Promise<ProviderRefund>;
  /** Every refund of one payment, whoever made it (us, an earlier attempt whose answer was lost, the dashboard). */
  refundsOfPayment(paymentIntentId: string): Promise<ProviderRefund[]>;
  /** Every dispute of one payment. */
  disputesOfPayment(paymentIntentId: string): Promise<ProviderDispute[]>;
  /** One payment as the provider holds it now. */
  payment(paymentIntentId: string): Promise<ProviderPayment>;
  /** Every refund created at or after `since`, newest first (auto-paginated; for reconciliation). */
  refundsSince(since: Date): AsyncIterable<ProviderRefund>;
  /** Every payment created at or after `since`, newest first (auto-paginated; for reconciliation). */
  paymentsSince(since: Date): AsyncIterable<ProviderPayment>;
}

export function toProviderRefund(refund: Stripe.Refund): ProviderRefund {
  return {
    provider: "stripe",
    refundId: refund.id,
    status: refundStatusOf(refund.status),
    amount: refund.amount,
    paymentIntentId: idOf(refund.payment_intent),
    chargeId: idOf(refund.charge),
    currency: refund.currency.toUpperCase(),
    donationId: refund.metadata?.donationId ?? null,
    failureReason: refund.failure_reason ?? null,
    createdMs: refund.created * 1000,
  };
}

export function toProviderDispute(dispute: Stripe.Dispute): ProviderDispute {
  return {
    provider: "stripe",
    disputeId: dispute.id,
    status: disputeStatusOf(dispute.status),
    amount: dispute.amount,
    currency: dispute.currency.toUpperCase(),
    paymentIntentId: idOf(dispute.payment_intent),
    chargeId: idOf(dispute.charge),
    createdMs: dispute.created * 1000,
  };
}

export function toProviderPayment(intent: Stripe.PaymentIntent): ProviderPayment {
  return {
    provider: "stripe",
    paymentIntentId: intent.id,
    status: providerPaymentStatusSchema.parse(intent.status),
    amount: intent.amount,
    amountReceived: intent.amount_received,
    currency: intent.currency.toUpperCase(),
    ...paymentMetadataOf(intent.metadata),
    chargeId: idOf(intent.latest_charge),
    cancellationReason: intent.cancellation_reason ?? null,
    createdMs: intent.created * 1000,
  };
}

/**
 * The closing port of each provider, chosen by the donation's `provider` (refund tasks, the money audit). Built in
 * api/deps.ts; a provider's port is only built when a donation of it needs one (its secrets are read then).
 */
export type ClosingProviderOf = (provider: ProviderName) => ClosingProvider;

/** The Stripe implementation (the client comes from src/payments/stripe.ts: fake server in the emulator). */
export class StripeClosingProvider implements ClosingProvider {
  constructor(private readonly stripe: Stripe) {}

  refund(input: { paymentIntentId: string; amount: number; metadata: RefundMetadata; idempotencyKey: string }) {
    return callStripe(async () => {
      const refund = await this.stripe.refunds.create(
        { payment_intent: input.paymentIntentId, amount: input.amount, reason: "requested_by_customer", metadata: { ...input.metadata } },
        { idempotencyKey: input.idempotencyKey },
      );
      return toProviderRefund(refund);
    });
  }

  refundsSince(since: Date): AsyncIterable<ProviderRefund> {
    return stripeListSince((params) => this.stripe.refunds.list(params), since, toProviderRefund);
  }

  paymentsSince(since: Date): AsyncIterable<ProviderPayment> {
    return stripeListSince((params) => this.stripe.paymentIntents.list(params), since, toProviderPayment);
  }

  refundsOfPayment(paymentIntentId: string) {
    return callStripe(async () => {
      const list = await this.stripe.refunds.list({ payment_intent: paymentIntentId, limit: 100 });
      return list.data.map(toProviderRefund);
    });
  }

  disputesOfPayment(paymentIntentId: string) {
    return callStripe(async () => {
      const list = await this.stripe.disputes.list({ payment_intent: paymentIntentId, limit: 100 });
      return list.data.map(toProviderDispute);
    });
  }

  payment(paymentIntentId: string) {
    return callStripe(async () => toProviderPayment(await this.stripe.paymentIntents.retrieve(paymentIntentId)));
  }
}
