import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { isEmulator } from "../lib/env";
import { CURRENCIES } from "../model/money";
import type { Currency } from "../model/money";
import type { RefundStatus } from "../model/donation";
import { PaymentProviderError, WebhookSignatureError } from "./provider";
import type { PaymentMetadata, PaymentStatusEvent } from "./provider";
import type { ClosingProvider, ProviderPayment, ProviderRefund, RefundMetadata } from "./refunds";

/**
 * BTCPay Server, the bitcoin rail (docs/donations.md, "Bitcoin"), through its Greenfield REST API
 * (`/api/v1/stores/{storeId}/…`, `Authorization: token <api key>`). Provider-specific shapes stay in this file: the
 * rest of the code sees `PaymentEvent`s, `ProviderRefund`s and `ProviderPayment`s with `provider: "btcpay"`.
 *
 * - An invoice is priced in the wish's currency (BTCPay converts at its rate when the donor opens it). Its id is the
 *   donation's `paymentIntentId`; its metadata carry our ids (`orderId` = the donation id).
 * - Webhooks are only a nudge: the adapter reads the invoice (and its payments) when one arrives and derives the
 *   donation's payment status from the invoice as BTCPay holds it now, so duplicate, re-delivered and reordered
 *   deliveries all derive the same events, and reconciliation (the invoice listing) derives them again.
 * - A refund is BTCPay's invoice refund: a pull payment for an amount in the wish's currency, which the donor claims
 *   through its link (`viewLink`) by giving a bitcoin address. It is `pending` until its payout is `Completed`.
 */

export interface BtcpayConfig {
  /** Base URL of the BTCPay Server (`https://btcpay.example.com`). */
  url: string;
  storeId: string;
  apiKey: string;
}

/** The BTCPay base URL to call: inside the emulator suite (only there) the local fake named by ELATEME_FAKE_BTCPAY_URL. */
export function btcpayBaseUrl(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  const fake = isEmulator(env) ? env.ELATEME_FAKE_BTCPAY_URL : undefined;
  return (fake ?? configured).replace(/\/+$/, "");
}

// ---- Greenfield shapes (only the fields we read; BTCPay sends more) ----

const invoiceSchema = z.object({
  id: z.string(),
  storeId: z.string().optional(),
  amount: z.string(),
  currency: z.string(),
  checkoutLink: z.string(),
  status: z.enum(["New", "Processing", "Expired", "Invalid", "Settled"]).catch("New"),
  additionalStatus: z.string().nullish(),
  createdTime: z.number(),
  expirationTime: z.number(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});
export type GreenfieldInvoice = z.infer<typeof invoiceSchema>;

const paymentSchema = z.object({ id: z.string(), value: z.string(), status: z.string() });
const paymentMethodSchema = z.object({
  paymentMethodId: z.string().optional(),
  amount: z.string(),
  rate: z.string().optional(),
  payments: z.array(paymentSchema).default([]),
});
type GreenfieldPaymentMethod = z.infer<typeof paymentMethodSchema>;

const pullPaymentSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  description: z.string().nullish(),
  currency: z.string(),
  amount: z.string(),
  archived: z.boolean().optional(),
  viewLink: z.string().nullish(),
});
type GreenfieldPullPayment = z.infer<typeof pullPaymentSchema>;

const payoutSchema = z.object({
  id: z.string(),
  pullPaymentId: z.string().nullish(),
  amount: z.string(),
  state: z.string(),
});
type GreenfieldPayout = z.infer<typeof payoutSchema>;

/** A webhook delivery as Greenfield sends it (invoice events and payout events share the envelope). */
export const btcpayDeliverySchema = z.object({
  deliveryId: z.string(),
  webhookId: z.string().optional(),
  originalDeliveryId: z.string().nullish(),
  isRedelivery: z.boolean().optional(),
  type: z.string(),
  timestamp: z.number(),
  storeId: z.string(),
  invoiceId: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  afterExpiration: z.boolean().optional(),
  overPaid: z.boolean().optional(),
  partiallyPaid: z.boolean().optional(),
  manuallyMarked: z.boolean().optional(),
  payoutId: z.string().optional(),
  pullPaymentId: z.string().nullish(),
  payoutState: z.string().optional(),
});
export type BtcpayDelivery = z.infer<typeof btcpayDeliverySchema>;

export const INVOICE_EVENT_TYPES = ["InvoiceReceivedPayment", "InvoicePaymentSettled", "InvoiceProcessing", "InvoiceSettled", "InvoiceExpired", "InvoiceInvalid"] as const;
export const PAYOUT_EVENT_TYPES = ["PayoutCreated", "PayoutApproved", "PayoutUpdated"] as const;

// ---- money: our minor units ↔ Greenfield's decimal strings ----

export function toDecimal(amount: number, currency: Currency): string {
  const exponent = CURRENCIES[currency].exponent;
  return (amount / 10 ** exponent).toFixed(exponent);
}

export function toMinor(decimal: string, currency: string): number {
  const exponent = currency in CURRENCIES ? CURRENCIES[currency as Currency].exponent : 2;
  return Math.round(Number(decimal) * 10 ** exponent);
}

// ---- webhook signature ----

/**
 * Verifies `BTCPay-Sig: sha256=<hex>`: the HMAC-SHA256 of the raw body with the webhook's secret, compared in constant
 * time (lengths first: timingSafeEqual throws on unequal lengths). Throws `WebhookSignatureError`; parses the delivery
 * only after the signature holds (a body that is not a delivery is a `SyntaxError`/zod error: 400 as malformed).
 */
export function verifyBtcpayDelivery(rawBody: Buffer, signature: string | undefined, secret: string): BtcpayDelivery {
  if (!signature) throw new WebhookSignatureError("missing BTCPay-Sig header");
  const match = /^sha256=([0-9a-f]+)$/i.exec(signature.trim());
  if (!match?.[1]) throw new WebhookSignatureError("malformed BTCPay-Sig header");
  const given = Buffer.from(match[1].toLowerCase(), "hex");
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookSignatureError("BTCPay-Sig does not match the body");
  return btcpayDeliverySchema.parse(JSON.parse(rawBody.toString("utf8")));
}

/** The signature BTCPay puts on a body (the fake server and tests sign with it). */
export function btcpaySignature(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

// ---- invoices → our payment events ----

function text(metadata: Record<string, unknown> | null | undefined, key: string): string | null {
  const value = metadata?.[key];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** Our metadata on an invoice (all of it, or null: an invoice some other app of the store created). */
export function invoiceMetadata(invoice: Pick<GreenfieldInvoice, "metadata">): PaymentMetadata | null {
  const donationId = text(invoice.metadata, "donationId");
  const wishId = text(invoice.metadata, "wishId");
  const donorId = text(invoice.metadata, "donorId");
  return donationId && wishId && donorId ? { donationId, wishId, donorId } : null;
}

/**
 * What the donor paid, in the invoice's currency (minor units): the share of the invoice's crypto amount that the
 * payments in `statuses` cover, times the invoice's amount. Exact when they cover it exactly (the common case).
 */
export function paidMinor(invoice: Pick<GreenfieldInvoice, "amount" | "currency">, methods: GreenfieldPaymentMethod[], statuses: string[]): number {
  const invoiceMinor = toMinor(invoice.amount, invoice.currency);
  let share = 0;
  for (const method of methods) {
    const due = Number(method.amount);
    if (!(due > 0)) continue;
    const paid = method.payments.filter((payment) => statuses.includes(payment.status)).reduce((sum, payment) => sum + Number(payment.value), 0);
    share += paid / due;
  }
  return Math.round(invoiceMinor * share);
}

export type DerivedInvoiceStatus = { status: PaymentStatusEvent["status"]; amountReceived: number; failureCode: string | null } | null;

/**
 * The donation's payment status as the invoice shows it now (pure):
 * - `Settled` (also paid late, over-paid, or marked settled by the merchant) → succeeded with what the confirmed
 *   payments are worth in the invoice's currency (a marked invoice: its amount);
 * - `Processing` (paid in full, waiting for confirmations), or `New` with a payment seen → processing;
 * - `Expired`/`Invalid` with confirmed payments and none still confirming (a partial payment) → succeeded with what
 *   arrived (docs/donations.md: a short payment is booked as given, like a bank transfer's);
 * - `Expired`/`Invalid` with payments still confirming → processing (InvoicePaymentSettled comes later);
 * - `Expired` without payments → failed `invoice_expired`; `Invalid` → failed `invoice_invalid`;
 * - `New` without payments → nothing to say (null).
 */
export function deriveInvoiceStatus(invoice: GreenfieldInvoice, methods: GreenfieldPaymentMethod[]): DerivedInvoiceStatus {
  const settled = paidMinor(invoice, methods, ["Settled"]);
  const confirming = paidMinor(invoice, methods, ["Processing"]);
  switch (invoice.status) {
    case "Settled":
      if (invoice.additionalStatus === "Marked" && settled === 0) return { status: "succeeded", amountReceived: toMinor(invoice.amount, invoice.currency), failureCode: null };
      if (confirming > 0 && settled === 0) return { status: "processing", amountReceived: 0, failureCode: null };
      return { status: "succeeded", amountReceived: settled + confirming, failureCode: null };
    case "Processing":
      return { status: "processing", amountReceived: 0, failureCode: null };
    case "New":
      return settled + confirming > 0 ? { status: "processing", amountReceived: 0, failureCode: null } : null;
    case "Expired":
    case "Invalid":
      if (confirming > 0) return { status: "processing", amountReceived: 0, failureCode: null };
      if (settled > 0) return { status: "succeeded", amountReceived: settled, failureCode: null };
      return { status: "failed", amountReceived: 0, failureCode: invoice.status === "Expired" ? "invoice_expired" : "invoice_invalid" };
  }
}

/**
 * The payment event of an invoice's current state. Its id names the invoice and the derived status, so every
 * delivery, redelivery or reconciliation that sees the same state is one event (`providerEvents` dedups it).
 */
export function invoiceEvent(invoice: GreenfieldInvoice, methods: GreenfieldPaymentMethod[], source: { type: string; atMs: number }): PaymentStatusEvent | null {
  const derived = deriveInvoiceStatus(invoice, methods);
  if (!derived) return null;
  return {
    provider: "btcpay",
    kind: "payment",
    eventId: `btcpay_${invoice.id}_${derived.status}`,
    type: source.type,
    createdMs: source.atMs,
    status: derived.status,
    paymentIntentId: invoice.id,
    metadata: invoiceMetadata(invoice),
    amountReceived: derived.amountReceived,
    currency: invoice.currency.toUpperCase(),
    chargeId: null,
    failureCode: derived.failureCode,
    cancellationReason: null,
  };
}

// ---- refunds: pull payments and their payouts ----

/** Our pull payments are named after the refund's idempotency key and describe the invoice they refund. */
const REFUND_NAME_PREFIX = "ElateMe ";
const refundDescription = (invoiceId: string) => `Refund of invoice ${invoiceId}`;
export function invoiceOfPullPayment(pullPayment: Pick<GreenfieldPullPayment, "description">): string | null {
  return /^Refund of invoice (\S+)$/.exec(pullPayment.description ?? "")?.[1] ?? null;
}

/** A pull payment's refund status: succeeded once its completed payouts cover it; canceled when archived unclaimed. */
export function pullPaymentStatus(pullPayment: GreenfieldPullPayment, payouts: GreenfieldPayout[]): RefundStatus {
  const owed = toMinor(pullPayment.amount, pullPayment.currency);
  const completed = payouts.filter((payout) => payout.state === "Completed").reduce((sum, payout) => sum + toMinor(payout.amount, pullPayment.currency), 0);
  if (completed >= owed && owed > 0) return "succeeded";
  const underWay = payouts.some((payout) => payout.state !== "Cancelled");
  if (pullPayment.archived && !underWay) return "canceled";
  return "pending";
}

function toRefund(pullPayment: GreenfieldPullPayment, payouts: GreenfieldPayout[], createdMs: number): ProviderRefund {
  return {
    provider: "btcpay",
    refundId: pullPayment.id,
    status: pullPaymentStatus(pullPayment, payouts),
    amount: toMinor(pullPayment.amount, pullPayment.currency),
    paymentIntentId: invoiceOfPullPayment(pullPayment),
    chargeId: null,
    currency: pullPayment.currency.toUpperCase(),
    donationId: null,
    failureReason: null,
    createdMs,
    claimLink: pullPayment.viewLink ?? null,
  };
}

// ---- the client ----

export interface InvoiceListPage {
  invoices: GreenfieldInvoice[];
}

/** The Greenfield API of one store. Errors are `PaymentProviderError`s carrying the HTTP status (null: no answer). */
export class BtcpayClient {
  private readonly base: string;

  constructor(
    private readonly config: BtcpayConfig,
    private readonly clock: { now(): Date } = { now: () => new Date() },
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.base = btcpayBaseUrl(config.url, env);
  }

  private async call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}/api/v1/stores/${encodeURIComponent(this.config.storeId)}${path}`, {
        method,
        headers: { authorization: `token ${this.config.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(20_000),
      });
    } catch (error) {
      throw new PaymentProviderError(`BTCPay ${method} ${path}: ${error instanceof Error ? error.message : String(error)}`, null, null);
    }
    const answer: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const code = answer && typeof answer === "object" && "code" in answer && typeof answer.code === "string" ? answer.code : `http_${response.status}`;
      throw new PaymentProviderError(`BTCPay ${method} ${path}: HTTP ${response.status}`, code, response.status);
    }
    const parsed = schema.safeParse(answer);
    if (!parsed.success) throw new PaymentProviderError(`BTCPay ${method} ${path}: unexpected answer`, "unexpected_answer", response.status);
    return parsed.data;
  }

  createInvoice(input: { amount: number; currency: Currency; metadata: PaymentMetadata; expirationMinutes: number; redirectUrl: string | null }): Promise<GreenfieldInvoice> {
    return this.call("POST", "/invoices", invoiceSchema, {
      amount: toDecimal(input.amount, input.currency),
      currency: input.currency,
      metadata: { orderId: input.metadata.donationId, ...input.metadata },
      checkout: { expirationMinutes: input.expirationMinutes, ...(input.redirectUrl ? { redirectURL: input.redirectUrl } : {}) },
    });
  }

  /** The store's invoices with this `orderId` (our donation id): how a retried create finds the first one. */
  invoicesOfOrder(orderId: string): Promise<GreenfieldInvoice[]> {
    return this.call("GET", `/invoices?orderId=${encodeURIComponent(orderId)}`, z.array(invoiceSchema));
  }

  invoice(invoiceId: string): Promise<GreenfieldInvoice> {
    return this.call("GET", `/invoices/${encodeURIComponent(invoiceId)}`, invoiceSchema);
  }

  paymentMethods(invoiceId: string): Promise<GreenfieldPaymentMethod[]> {
    return this.call("GET", `/invoices/${encodeURIComponent(invoiceId)}/payment-methods`, z.array(paymentMethodSchema));
  }

  /** Every invoice created at or after `since`, a page at a time (`skip`/`take`). */
  async *invoicesSince(since: Date): AsyncIterable<GreenfieldInvoice> {
    const take = 100;
    for (let skip = 0; ; skip += take) {
      const page = await this.call("GET", `/invoices?startDate=${Math.floor(since.getTime() / 1000)}&skip=${skip}&take=${take}`, z.array(invoiceSchema));
      yield* page;
      if (page.length < take) return;
    }
  }

  /** The payment event of the invoice as it stands now (null: nothing to say yet). */
  async currentInvoiceEvent(invoiceId: string, source: { type: string; atMs: number }): Promise<PaymentStatusEvent | null> {
    const [invoice, methods] = await Promise.all([this.invoice(invoiceId), this.paymentMethods(invoiceId)]);
    return invoiceEvent(invoice, methods, source);
  }

  pullPayments(): Promise<GreenfieldPullPayment[]> {
    return this.call("GET", "/pull-payments?includeArchived=true", z.array(pullPaymentSchema));
  }

  pullPayment(pullPaymentId: string): Promise<GreenfieldPullPayment> {
    return this.call("GET", `/pull-payments/${encodeURIComponent(pullPaymentId)}`, pullPaymentSchema);
  }

  payouts(pullPaymentId: string): Promise<GreenfieldPayout[]> {
    return this.call("GET", `/pull-payments/${encodeURIComponent(pullPaymentId)}/payouts?includeCancelled=true`, z.array(payoutSchema));
  }

  refundInvoice(invoiceId: string, input: { amount: number; currency: Currency; name: string }): Promise<GreenfieldPullPayment> {
    return this.call("POST", `/invoices/${encodeURIComponent(invoiceId)}/refund`, pullPaymentSchema, {
      name: input.name,
      description: refundDescription(invoiceId),
      paymentMethod: "BTC-CHAIN",
      refundVariant: "Custom",
      customAmount: toDecimal(input.amount, input.currency),
      customCurrency: input.currency,
    });
  }

  archivePullPayment(pullPaymentId: string): Promise<unknown> {
    return this.call("DELETE", `/pull-payments/${encodeURIComponent(pullPaymentId)}`, z.unknown());
  }

  /** One pull payment as a refund (its payouts decide the status). */
  async refundOf(pullPayment: GreenfieldPullPayment): Promise<ProviderRefund> {
    return toRefund(pullPayment, await this.payouts(pullPayment.id), this.clock.now().getTime());
  }

  /** Our refunds of one invoice: the pull payments that describe it, archived ones included. */
  async refundsOfInvoice(invoiceId: string): Promise<ProviderRefund[]> {
    const ours = (await this.pullPayments()).filter((pullPayment) => invoiceOfPullPayment(pullPayment) === invoiceId);
    return Promise.all(ours.map((pullPayment) => this.refundOf(pullPayment)));
  }
}

/**
 * The closing port of BTCPay (refund tasks, the money audit). BTCPay has no idempotency keys, so `refund` finds the
 * pull payment an earlier attempt of the same key made before it makes one; of two made concurrently (a duplicated
 * task), both callers keep the same one (the smallest id) and archive the other, which can then never be claimed.
 */
export class BtcpayClosingProvider implements ClosingProvider {
  constructor(private readonly client: BtcpayClient) {}

  async refund(input: { paymentIntentId: string; amount: number; metadata: RefundMetadata; idempotencyKey: string }): Promise<ProviderRefund> {
    const name = `${REFUND_NAME_PREFIX}${input.idempotencyKey}`;
    const sameKey = async () =>
      (await this.client.pullPayments()).filter((pullPayment) => pullPayment.name === name && !pullPayment.archived).sort((a, b) => a.id.localeCompare(b.id));
    const invoice = await this.client.invoice(input.paymentIntentId);
    const currency = invoice.currency.toUpperCase() as Currency;
    if ((await sameKey()).length === 0) await this.client.refundInvoice(input.paymentIntentId, { amount: input.amount, currency, name });
    const [kept, ...extra] = await sameKey();
    for (const duplicate of extra) await this.client.archivePullPayment(duplicate.id);
    if (!kept) throw new PaymentProviderError("BTCPay refund: the pull payment is missing after its creation", "pull_payment_missing", null);
    return this.client.refundOf(kept);
  }

  refundsOfPayment(paymentIntentId: string): Promise<ProviderRefund[]> {
    return this.client.refundsOfInvoice(paymentIntentId);
  }

  /** Bitcoin payments have no chargebacks. */
  disputesOfPayment(): Promise<[]> {
    return Promise.resolve([]);
  }

  async payment(paymentIntentId: string): Promise<ProviderPayment> {
    const [invoice, methods] = await Promise.all([this.client.invoice(paymentIntentId), this.client.paymentMethods(paymentIntentId)]);
    return toProviderPayment(invoice, methods);
  }

  async *refundsSince(): AsyncIterable<ProviderRefund> {
    for (const pullPayment of await this.client.pullPayments()) {
      if (invoiceOfPullPayment(pullPayment)) yield await this.client.refundOf(pullPayment);
    }
  }

  async *paymentsSince(since: Date): AsyncIterable<ProviderPayment> {
    for await (const invoice of this.client.invoicesSince(since)) yield toProviderPayment(invoice, await this.client.paymentMethods(invoice.id));
  }
}

function toProviderPayment(invoice: GreenfieldInvoice, methods: GreenfieldPaymentMethod[]): ProviderPayment {
  const derived = deriveInvoiceStatus(invoice, methods);
  const metadata = invoiceMetadata(invoice);
  return {
    provider: "btcpay",
    paymentIntentId: invoice.id,
    status: derived?.status === "succeeded" ? "succeeded" : derived?.status === "processing" ? "processing" : derived?.status === "failed" ? "canceled" : "requires_payment_method",
    amount: toMinor(invoice.amount, invoice.currency),
    amountReceived: derived?.amountReceived ?? 0,
    currency: invoice.currency.toUpperCase(),
    donationId: metadata?.donationId ?? text(invoice.metadata, "orderId"),
    wishId: metadata?.wishId ?? null,
    donorId: metadata?.donorId ?? null,
    chargeId: null,
    cancellationReason: null,
    createdMs: invoice.createdTime * 1000,
  };
}
