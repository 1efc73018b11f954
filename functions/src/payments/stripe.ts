import Stripe from "stripe";
import { isEmulator } from "../lib/env";
import { PaymentProviderError, WebhookSignatureError } from "./provider";
import type { PaymentEvent, PaymentMetadata, PaymentProvider, ProviderAccountState, ProviderTransfer } from "./provider";

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
    return new PaymentProviderError(`Stripe ${error.type}: ${error.message}`, error.code ?? error.type);
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

function ourMetadata(metadata: Stripe.Metadata | null | undefined): PaymentMetadata | null {
  const donationId = metadata?.donationId;
  const wishId = metadata?.wishId;
  const donorId = metadata?.donorId;
  return donationId && wishId && donorId ? { donationId, wishId, donorId } : null;
}

function disputeStatus(status: Stripe.Dispute.Status): "open" | "won" | "lost" {
  if (status === "lost") return "lost";
  if (status === "won" || status === "warning_closed" || status === "prevented") return "won";
  return "open";
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

/** Turns a verified Stripe event into our provider-neutral event. */
export function normaliseStripeEvent(event: Stripe.Event): PaymentEvent {
  const base = { eventId: event.id, type: event.type, createdMs: event.created * 1000 };
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
      const charge = event.data.object;
      const refunds = (charge.refunds?.data ?? []).filter((refund) => refund.status === "succeeded");
      return {
        ...base,
        kind: "refund",
        paymentIntentId: idOf(charge.payment_intent),
        chargeId: charge.id,
        currency: charge.currency.toUpperCase(),
        refunds: refunds.map((refund) => ({ id: refund.id, amount: refund.amount })),
      };
    }
    case "charge.dispute.created":
    case "charge.dispute.closed": {
      const dispute = event.data.object;
      return {
        ...base,
        kind: "dispute",
        paymentIntentId: idOf(dispute.payment_intent),
        chargeId: idOf(dispute.charge) ?? "",
        disputeId: dispute.id,
        amount: dispute.amount,
        currency: dispute.currency.toUpperCase(),
        status: disputeStatus(dispute.status),
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

  constructor(
    private readonly stripe: Stripe,
    private readonly webhookSecret: string,
  ) {}

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
          metadata: { ...input.metadata },
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
