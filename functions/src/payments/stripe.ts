import Stripe from "stripe";
import { isEmulator } from "../lib/env";
import { PaymentProviderError, WebhookSignatureError } from "./provider";
import type { DisputeStatus, RefundStatus } from "../model/donation";
import type { PaymentEvent, PaymentMetadata, PaymentProvider, ProviderAccountState, WebhookVerifier, ProviderPaymentIntent, ProviderTransfer, RefundEvent } from "./provider";

/**
 * A Stripe client. Inside the emulator suite (and only there) it talks to the local fake Stripe server named by
 * ELATEME_FAKE_STRIPE_URL; deployed code always talks to api.stripe.com. Network retries reuse the request's
 * idempotency key, so a retried create never makes a second object.
 */
export function stripeClient(secretKey: string, env: NodeJS.ProcessEnv = process.env): Stripe {
  const fake = isEmulator(env) ? env.ELATEME_FAKE_STRIPE_URL : undefined;
  const local = fake ? new URL(fake) : undefined;
  return new Stripe(secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    ...(local ? { host: local.hostname, port: Number(local.port), protocol: local.protocol === "https:" ? "https" : "http" } : {}),
  });
}

function providerError(error: unknown): PaymentProviderError {
  if (error instanceof Stripe.errors.StripeError) {
    return new PaymentProviderError(`Stripe ${error.type}: ${error.message}`, error.code ?? error.type, error.statusCode ?? null);
  }
  return new PaymentProviderError(error instanceof Error ? error.message : String(error), null);
}

/** Runs a Stripe SDK call, turning its errors into `PaymentProviderError`s (code = Stripe's error code). */
export async function callStripe<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw providerError(error);
  }
}

/**
 * Every object of a Stripe list created at or after `since`, newest first, through the SDK's auto-pagination
 * (`starting_after` the last object of each page), mapped to our type. Errors become `PaymentProviderError`s.
 */
export async function* stripeListSince<T extends { id: string }, R>(
  list: (params: { created: { gte: number }; limit: number }) => AsyncIterable<T>,
  since: Date,
  map: (object: T) => R,
): AsyncIterable<R> {
  try {
    for await (const object of list({ created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100 })) yield map(object);
  } catch (error) {
    throw providerError(error);
  }
}

export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}

/**
 * The one parser of the metadata we put on a PaymentIntent. Metadata are free-form strings anyone with dashboard
 * access can edit: a missing or empty value is null.
 */
export function paymentMetadataOf(metadata: Stripe.Metadata | null | undefined): { donationId: string | null; wishId: string | null; donorId: string | null } {
  const value = (key: "donationId" | "wishId" | "donorId") => {
    const found = metadata?.[key];
    return typeof found === "string" && found.length > 0 ? found : null;
  };
  return { donationId: value("donationId"), wishId: value("wishId"), donorId: value("donorId") };
}

/** Our metadata when all of it is there (a payment of ours), else null. */
function ourMetadata(metadata: Stripe.Metadata | null | undefined): PaymentMetadata | null {
  const { donationId, wishId, donorId } = paymentMetadataOf(metadata);
  if (!donationId || !wishId || !donorId) return null;
  return { donationId, wishId, donorId, ...(metadata?.busyWish === "1" ? { busyWish: true as const } : {}) };
}

/** Our metadata as Stripe stores it (strings only). */
function stripeMetadata({ donationId, wishId, donorId, busyWish }: PaymentMetadata): Stripe.MetadataParam {
  return { donationId, wishId, donorId, ...(busyWish ? { busyWish: "1" } : {}) };
}

/**
 * Stripe's dispute statuses in our terms. An inquiry (`warning_*`) withdraws nothing; `prevented` means Stripe
 * prevented the chargeback by refunding (the refund is its own object), so neither moves money as a dispute.
 */
export function disputeStatusOf(status: string): DisputeStatus {
  switch (status) {
    case "warning_needs_response":
    case "warning_under_review":
      return "inquiry";
    case "warning_closed":
    case "prevented":
      return "inquiry_closed";
    case "won":
      return "won";
    case "lost":
      return "lost";
    default:
      return "open";
  }
}

/** Stripe's refund statuses in our terms (`requires_action` waits like `pending`). */
export function refundStatusOf(status: string | null | undefined): RefundStatus {
  if (status === "succeeded" || status === "failed" || status === "canceled") return status;
  return "pending";
}

/** A refund object (from a refund.* event, a list or an API answer) as the refund event our ledger folds. */
export function refundEventOf(base: { provider: "stripe"; eventId: string; type: string; createdMs: number }, refund: Stripe.Refund): RefundEvent {
  return {
    ...base,
    kind: "refund",
    paymentIntentId: idOf(refund.payment_intent),
    chargeId: idOf(refund.charge) ?? "",
    currency: refund.currency.toUpperCase(),
    refunds: [{ id: refund.id, amount: refund.amount, status: refundStatusOf(refund.status) }],
  };
}

export function toAccountState(account: Stripe.Account): ProviderAccountState {
  return {
    accountId: account.id,
    uid: account.metadata?.uid ?? null,
    transfersActive: account.capabilities?.transfers === "active",
    payoutsEnabled: account.payouts_enabled ?? false,
    detailsSubmitted: account.details_submitted ?? false,
    requirementsDue: account.requirements?.currently_due ?? [],
  };
}

export function toProviderTransfer(transfer: Stripe.Transfer): ProviderTransfer {
  const seq = Number.parseInt(transfer.metadata?.seq ?? "", 10);
  return {
    transferId: transfer.id,
    amount: transfer.amount,
    amountReversed: transfer.amount_reversed,
    currency: transfer.currency.toUpperCase(),
    destination: idOf(transfer.destination),
    wishId: transfer.metadata?.wishId ?? null,
    seq: Number.isInteger(seq) ? seq : null,
    createdMs: transfer.created * 1000,
    reversals: Object.fromEntries((transfer.reversals?.data ?? []).map((reversal) => [reversal.id, reversal.amount])),
  };
}

export function toPaymentIntent(intent: Stripe.PaymentIntent): ProviderPaymentIntent {
  return {
    paymentIntentId: intent.id,
    status: intent.status,
    clientSecret: intent.client_secret,
    amount: intent.amount,
    amountReceived: intent.amount_received,
    currency: intent.currency.toUpperCase(),
    chargeId: idOf(intent.latest_charge),
    cancellationReason: intent.cancellation_reason ?? null,
    createdMs: intent.created * 1000,
  };
}

/** Turns a verified Stripe event into our provider-neutral event. */
export function normaliseStripeEvent(event: Stripe.Event): PaymentEvent {
  const base = { provider: "stripe" as const, eventId: event.id, type: event.type, createdMs: event.created * 1000, connectedAccount: event.account ?? null };
  const payment = (pi: Stripe.PaymentIntent, status: "processing" | "succeeded" | "failed" | "canceled"): PaymentEvent => ({
    ...base,
    kind: "payment",
    status,
    paymentIntentId: pi.id,
    metadata: ourMetadata(pi.metadata),
    amountReceived: pi.amount_received,
    currency: pi.currency.toUpperCase(),
    chargeId: idOf(pi.latest_charge),
    failureCode: status === "failed" ? (pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? "payment_failed") : null,
    cancellationReason: status === "canceled" ? (pi.cancellation_reason ?? null) : null,
  });
  switch (event.type) {
    case "payment_intent.processing":
      return payment(event.data.object, "processing");
    case "payment_intent.succeeded":
      return payment(event.data.object, "succeeded");
    case "payment_intent.payment_failed":
      return payment(event.data.object, "failed");
    case "payment_intent.canceled":
      return payment(event.data.object, "canceled");
    case "charge.refunded": {
      // Since API version 2022-11-15 a charge no longer carries its refunds: the refund.* events carry them. Only a
      // charge that still lists them (an older endpoint version, or one that expands `refunds`) is worth folding.
      const charge = event.data.object;
      const listed = charge.refunds?.data;
      if (!listed) return { ...base, kind: "ignored" };
      return {
        ...base,
        kind: "refund",
        paymentIntentId: idOf(charge.payment_intent),
        chargeId: charge.id,
        currency: charge.currency.toUpperCase(),
        refunds: listed.map((refund) => ({ id: refund.id, amount: refund.amount, status: refundStatusOf(refund.status) })),
      };
    }
    case "refund.created":
    case "refund.updated":
    case "refund.failed":
    case "charge.refund.updated":
      return refundEventOf(base, event.data.object);
    case "charge.dispute.created":
    case "charge.dispute.updated":
    case "charge.dispute.closed":
    case "charge.dispute.funds_withdrawn":
    case "charge.dispute.funds_reinstated": {
      const dispute = event.data.object;
      return {
        ...base,
        kind: "dispute",
        paymentIntentId: idOf(dispute.payment_intent),
        chargeId: idOf(dispute.charge) ?? "",
        disputeId: dispute.id,
        amount: dispute.amount,
        currency: dispute.currency.toUpperCase(),
        status: disputeStatusOf(dispute.status),
      };
    }
    case "transfer.created":
    case "transfer.updated":
    case "transfer.reversed":
      return { ...base, kind: "transfer", transfer: toProviderTransfer(event.data.object) };
    case "account.updated":
      return { ...base, kind: "account", account: toAccountState(event.data.object) };
    default:
      return { ...base, kind: "ignored" };
  }
}

/** The Stripe implementation of the payment-provider seam. */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = "stripe" as const;

  constructor(private readonly stripe: Stripe) {}

  createCustomer(input: { userId: string; idempotencyKey: string }) {
    return callStripe(async () => {
      const customer = await this.stripe.customers.create(
        { metadata: { uid: input.userId } },
        { idempotencyKey: input.idempotencyKey },
      );
      return { customerId: customer.id };
    });
  }

  createPayment(input: { amount: number; currency: string; customerId: string; metadata: PaymentMetadata; idempotencyKey: string }) {
    return callStripe(async () => {
      const intent = await this.stripe.paymentIntents.create(
        {
          amount: input.amount,
          currency: input.currency.toLowerCase(),
          customer: input.customerId,
          automatic_payment_methods: { enabled: true },
          metadata: stripeMetadata(input.metadata),
        },
        { idempotencyKey: input.idempotencyKey },
      );
      if (!intent.client_secret) throw new PaymentProviderError("Stripe returned a PaymentIntent without a client secret", null);
      return { paymentIntentId: intent.id, clientSecret: intent.client_secret };
    });
  }

  createCustomerKey(customerId: string) {
    return callStripe(async () => {
      const key = await this.stripe.ephemeralKeys.create({ customer: customerId }, { apiVersion: Stripe.API_VERSION });
      if (!key.secret) throw new PaymentProviderError("Stripe returned an ephemeral key without a secret", null);
      return { secret: key.secret };
    });
  }

  retrievePayment(paymentIntentId: string) {
    return callStripe(async () => toPaymentIntent(await this.stripe.paymentIntents.retrieve(paymentIntentId)));
  }

  cancelPayment(input: { paymentIntentId: string; reason: "requested_by_customer" | "abandoned" }) {
    return callStripe(async () => toPaymentIntent(await this.stripe.paymentIntents.cancel(input.paymentIntentId, { cancellation_reason: input.reason })));
  }
}

/**
 * The webhook-verification port of Stripe: checks the signature of a delivery on its raw body with one endpoint's
 * signing secret, and normalises the event. Only the webhook endpoints hold a secret (the payments endpoint's or the
 * Connect endpoint's); no other function receives one.
 */
export class StripeWebhookVerifier implements WebhookVerifier {
  constructor(
    private readonly stripe: Stripe,
    private readonly webhookSecret: string,
  ) {}

  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent {
    if (!signature) throw new WebhookSignatureError("missing Stripe-Signature header");
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.webhookSecret);
    } catch (error) {
      throw new WebhookSignatureError(error instanceof Error ? error.message : "invalid signature");
    }
    return normaliseStripeEvent(event);
  }
}
