import type { DisputeStatus, ProviderName, RefundStatus } from "../model/donation";

export type { ProviderName };

/**
 * The payment-provider seam. Donation code depends only on the provider-neutral `PaymentEvent`s the adapters yield:
 * Stripe (src/payments/stripe.ts, cards), BTCPay Server (src/payments/btcpay.ts, bitcoin) and Fio banka (bank
 * transfers) each normalise their notifications to the same events, which carry the provider's name. `PaymentProvider`
 * is the card rail's port (customers, PaymentIntents); the other rails have their own ports beside it.
 */

export interface PaymentMetadata {
  donationId: string;
  wishId: string;
  donorId: string;
  /** The donation's `busyWish` (its wish was busy when it was made): the webhook does not read the wish. */
  busyWish?: true;
}

export interface PaymentProvider {
  readonly name: "stripe";
  /** Creates the user's customer. Must be idempotent per `idempotencyKey` (concurrent first donations). */
  createCustomer(input: { userId: string; idempotencyKey: string }): Promise<{ customerId: string }>;
  /** Creates a payment for a server-computed amount. Idempotent per `idempotencyKey`. */
  createPayment(input: {
    amount: number;
    currency: string;
    customerId: string;
    metadata: PaymentMetadata;
    idempotencyKey: string;
  }): Promise<{ paymentIntentId: string; clientSecret: string }>;
  /** A short-lived key that lets the mobile payment sheet act for this customer. */
  createCustomerKey(customerId: string): Promise<{ secret: string }>;
  /** A payment as the provider holds it now (a retried `donate` answers the same payment sheet). */
  retrievePayment(paymentIntentId: string): Promise<ProviderPaymentIntent>;
  /**
   * Cancels a payment nobody paid (Stripe: only before it succeeded or started processing; otherwise the error code
   * is `payment_intent_unexpected_state`). Answers the canceled payment.
   */
  cancelPayment(input: { paymentIntentId: string; reason: "requested_by_customer" | "abandoned" }): Promise<ProviderPaymentIntent>;
}

/** The webhook-verification port: one endpoint's signing secret, nothing else (the callables never hold one). */
export interface WebhookVerifier {
  /** Verifies a webhook delivery and normalises it. Throws `WebhookSignatureError` when it cannot be trusted. */
  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent;
}

/** A payment (Stripe PaymentIntent) as the donations domain needs it. `status` is the provider's own status. */
export interface ProviderPaymentIntent {
  paymentIntentId: string;
  status: string;
  clientSecret: string | null;
  amount: number;
  amountReceived: number;
  currency: string;
  chargeId: string | null;
  cancellationReason: string | null;
  createdMs: number;
}

/**
 * The provider API failed or could not be reached. The message is for logs only, never for clients.
 * `httpStatus` is the provider's HTTP answer (null when none came: a network failure or timeout).
 */
export class PaymentProviderError extends Error {
  constructor(
    message: string,
    readonly providerCode: string | null,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
    this.name = "PaymentProviderError";
  }

  /**
   * True when the provider answered that it did not do the request: a 4xx, which Stripe stores under the idempotency
   * key (so a retry with the same key gets the same answer) — except 409 (another request with the same key is
   * executing) and 429 (rate limited), which are not stored. Everything else (no answer, a timeout, a 5xx) leaves the
   * outcome unknown: the request may have been executed, so only the same idempotency key may be used again.
   */
  get refused(): boolean {
    return this.httpStatus !== null && this.httpStatus >= 400 && this.httpStatus < 500 && this.httpStatus !== 409 && this.httpStatus !== 429;
  }
}

/** A webhook delivery whose signature is missing, malformed, stale or wrong. */
export class WebhookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookSignatureError";
  }
}

interface EventBase {
  /** Who sent it; ledger entries and the processed-event record carry it on. */
  provider: ProviderName;
  /** The provider's event id (the dedup key of `providerEvents`; unique across providers by their id formats). */
  eventId: string;
  /** The provider's event type, for the processed-event record. */
  type: string;
  /** Provider event creation time, ms since epoch. */
  createdMs: number;
  /** Stripe: the connected account the event happened on (its `account`); absent or null for the platform's own. */
  connectedAccount?: string | null;
}

/** A payment changed state (Stripe: payment_intent.processing / succeeded / payment_failed / canceled). */
export interface PaymentStatusEvent extends EventBase {
  kind: "payment";
  status: "processing" | "succeeded" | "failed" | "canceled";
  paymentIntentId: string;
  /** From the payment's metadata; null when the payment is not one of ours. */
  metadata: PaymentMetadata | null;
  /** What the provider says it received (Stripe: `amount_received`); meaningful for `succeeded`. */
  amountReceived: number;
  currency: string;
  chargeId: string | null;
  failureCode: string | null;
  /** Why a canceled payment was canceled (Stripe: `cancellation_reason`, e.g. `abandoned`, `requested_by_customer`). */
  cancellationReason: string | null;
}

/** One refund as a provider event or listing reports it. */
export interface RefundReport {
  id: string;
  amount: number;
  status: RefundStatus;
  /** Where the donor claims it (a BTCPay pull payment's link; only the donor may read it). */
  claimLink?: string | null;
}

/**
 * Refunds of one payment changed (Stripe: `refund.created` / `refund.updated` / `refund.failed` /
 * `charge.refund.updated` carry one refund; an older `charge.refunded` with its `refunds` list carries several).
 */
export interface RefundEvent extends EventBase {
  kind: "refund";
  paymentIntentId: string | null;
  chargeId: string;
  currency: string;
  refunds: RefundReport[];
}

/** A dispute was opened, changed or closed. */
export interface DisputeEvent extends EventBase {
  kind: "dispute";
  paymentIntentId: string | null;
  chargeId: string;
  disputeId: string;
  amount: number;
  currency: string;
  status: DisputeStatus;
}

/** A Connect account as the provider reports it (payouts, src/payouts/). */
export interface ProviderAccountState {
  accountId: string;
  /** Our user, from the account's metadata; null for an account we did not create. */
  uid: string | null;
  /** The account can receive transfers (Stripe: `capabilities.transfers === "active"`). Gates every payout. */
  transfersActive: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  requirementsDue: string[];
}

/** A transfer from the platform to a connected account (payouts). */
export interface ProviderTransfer {
  transferId: string;
  amount: number;
  amountReversed: number;
  currency: string;
  destination: string | null;
  /** From the transfer's metadata; null for a transfer we did not make. */
  wishId: string | null;
  seq: number | null;
  createdMs: number;
  /** Reversals by provider id → amount. */
  reversals: Record<string, number>;
}

/** A transfer was created or (partly) reversed (Stripe: transfer.created / transfer.reversed / transfer.updated). */
export interface TransferEvent extends EventBase {
  kind: "transfer";
  transfer: ProviderTransfer;
}

/** A connected account changed (Stripe Connect: account.updated). */
export interface AccountEvent extends EventBase {
  kind: "account";
  account: ProviderAccountState;
}

/** A verified event we do not act on (answered 2xx and ignored). */
export interface IgnoredEvent extends EventBase {
  kind: "ignored";
}

export type PaymentEvent = PaymentStatusEvent | RefundEvent | DisputeEvent | TransferEvent | AccountEvent | IgnoredEvent;
/** The events that move a donation's money (the donations ledger). */
/** The events of payouts (src/payouts/). */
export type PayoutEvent = TransferEvent | AccountEvent;
