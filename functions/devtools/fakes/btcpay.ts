import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { IncomingMessage, ServerResponse } from "node:http";
import { btcpaySignature } from "../../src/payments/btcpay";
import { listen, portOf, readBody, sendJson } from "./http";
import type { RunningServer } from "./http";
import { localSecret } from "./stripe";

/**
 * A small fake of BTCPay Server's Greenfield API (one store, on-chain BTC): invoices priced in fiat, their payments,
 * invoice refunds as pull payments, payouts, and webhooks signed `BTCPay-Sig: sha256=<HMAC-SHA256 of the body>` with
 * the store webhook's secret, in Greenfield's delivery envelope. Tests move invoices along with `pay`, `confirm` and
 * `expire`, let the donor `claim` a refund, take the deliveries (`takeDeliveries`) to hand to the webhook handler, and
 * can take the whole server down (`down = true`: every call answers 503) and bring it back.
 */

/** Fiat per BTC, fixed (the fake does not move rates). */
const RATES: Record<string, number> = { CZK: 2_000_000, EUR: 80_000, USD: 90_000, GBP: 70_000, PLN: 350_000 };

interface FakePayment {
  id: string;
  value: string;
  status: "Processing" | "Settled" | "Invalid";
}

interface FakeInvoice {
  id: string;
  storeId: string;
  amount: string;
  currency: string;
  checkoutLink: string;
  status: "New" | "Processing" | "Expired" | "Invalid" | "Settled";
  additionalStatus: "None" | "PaidLate" | "PaidPartial" | "Marked" | "Invalid" | "PaidOver";
  createdTime: number;
  expirationTime: number;
  metadata: Record<string, unknown>;
  /** The BTC due, 8 decimals. */
  due: string;
  rate: string;
  payments: FakePayment[];
}

interface FakePullPayment {
  id: string;
  name: string;
  description: string;
  currency: string;
  amount: string;
  archived: boolean;
  viewLink: string;
  payouts: { id: string; pullPaymentId: string; amount: string; state: "AwaitingApproval" | "AwaitingPayment" | "InProgress" | "Completed" | "Cancelled" }[];
}

export interface FakeDelivery {
  body: Record<string, unknown>;
  rawBody: string;
  signature: string;
}

/** What the fake reads of a create-invoice or refund request (Greenfield sends amounts as decimal strings). */
const requestSchema = z
  .object({
    amount: z.union([z.string(), z.number()]).optional(),
    currency: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    checkout: z.object({ expirationMinutes: z.number().optional() }).partial().optional(),
    name: z.string().optional(),
    description: z.string().optional(),
    refundVariant: z.string().optional(),
    customAmount: z.union([z.string(), z.number()]).optional(),
    customCurrency: z.string().optional(),
  })
  .passthrough();
type GreenfieldRequest = z.infer<typeof requestSchema>;

const id = (length = 22) => randomBytes(32).toString("base64url").replace(/[-_]/g, "").slice(0, length);
const btc = (value: number) => value.toFixed(8);

export class FakeBtcpay {
  readonly storeId: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  readonly webhookId = id(16);
  baseUrl = "http://127.0.0.1:0";
  invoices = new Map<string, FakeInvoice>();
  pullPayments = new Map<string, FakePullPayment>();
  /** Every API call as "METHOD /path" (without the store prefix). */
  calls: string[] = [];
  /** Signed deliveries not yet taken. */
  deliveries: FakeDelivery[] = [];
  /** While true, every API call answers 503 (BTCPay down). */
  down = false;
  /** Seconds since epoch; tests may move it. */
  nowSeconds = () => Math.floor(Date.now() / 1000);

  constructor(options: { storeId: string; apiKey: string; webhookSecret: string }) {
    this.storeId = options.storeId;
    this.apiKey = options.apiKey;
    this.webhookSecret = options.webhookSecret;
  }

  reset(): void {
    this.invoices.clear();
    this.pullPayments.clear();
    this.calls = [];
    this.deliveries = [];
    this.down = false;
  }

  /** The store's invoices and pull payments (the seeded demo keeps them in emulator-data/fake-btcpay.json). */
  snapshot(): { invoices: FakeInvoice[]; pullPayments: FakePullPayment[] } {
    return { invoices: [...this.invoices.values()], pullPayments: [...this.pullPayments.values()] };
  }

  /** Loads a {@link snapshot}; links point at this server. */
  restore(snapshot: { invoices?: FakeInvoice[]; pullPayments?: FakePullPayment[] }): void {
    for (const invoice of snapshot.invoices ?? []) this.invoices.set(invoice.id, { ...invoice, checkoutLink: `${this.baseUrl}/i/${invoice.id}` });
    for (const pullPayment of snapshot.pullPayments ?? []) this.pullPayments.set(pullPayment.id, { ...pullPayment, viewLink: `${this.baseUrl}/pull-payments/${pullPayment.id}` });
  }

  // ---- webhooks ----

  private emit(type: string, fields: Record<string, unknown>): FakeDelivery {
    const body = {
      deliveryId: id(),
      webhookId: this.webhookId,
      originalDeliveryId: null as string | null,
      isRedelivery: false,
      type,
      timestamp: this.nowSeconds(),
      storeId: this.storeId,
      ...fields,
    };
    body.originalDeliveryId = body.deliveryId;
    return this.queue(body);
  }

  private queue(body: Record<string, unknown>): FakeDelivery {
    const rawBody = JSON.stringify(body);
    const delivery = { body, rawBody, signature: btcpaySignature(rawBody, this.webhookSecret) };
    this.deliveries.push(delivery);
    return delivery;
  }

  /** The deliveries made since the last take, oldest first. */
  takeDeliveries(): FakeDelivery[] {
    const taken = this.deliveries;
    this.deliveries = [];
    return taken;
  }

  /** BTCPay's "Redeliver": the same event under a new delivery id that names the original. */
  redeliver(delivery: FakeDelivery): FakeDelivery {
    return this.queue({ ...delivery.body, deliveryId: id(), isRedelivery: true, originalDeliveryId: delivery.body.originalDeliveryId ?? delivery.body.deliveryId });
  }

  /** Posts a delivery to a webhook URL (npm start). */
  deliver(url: string, delivery: FakeDelivery): Promise<Response> {
    return fetch(url, { method: "POST", headers: { "content-type": "application/json", "btcpay-sig": delivery.signature, "user-agent": "BTCPayServer" }, body: delivery.rawBody });
  }

  // ---- what donors and time do ----

  private invoiceOf(invoiceId: string): FakeInvoice {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) throw new Error(`fake BTCPay: no invoice ${invoiceId}`);
    return invoice;
  }

  private paidBtc(invoice: FakeInvoice, statuses: FakePayment["status"][] = ["Processing", "Settled"]): number {
    return invoice.payments.filter((payment) => statuses.includes(payment.status)).reduce((sum, payment) => sum + Number(payment.value), 0);
  }

  /**
   * The donor sends `fraction` of the BTC due (1 = exactly, 0.5 = short, 1.2 = over), unconfirmed. A full payment
   * moves a New invoice to Processing; `afterExpiration` when the invoice had expired.
   */
  pay(invoiceId: string, fraction = 1): FakePayment {
    const invoice = this.invoiceOf(invoiceId);
    const payment: FakePayment = { id: `${id(64)}-0`, value: btc(Number(invoice.due) * fraction), status: "Processing" };
    invoice.payments.push(payment);
    const afterExpiration = invoice.status === "Expired";
    this.emit("InvoiceReceivedPayment", { invoiceId, metadata: invoice.metadata, afterExpiration, paymentMethod: "BTC-CHAIN", payment: { id: payment.id, value: payment.value, status: payment.status } });
    if (invoice.status === "New" && this.paidBtc(invoice) >= Number(invoice.due) - 1e-8) {
      invoice.status = "Processing";
      invoice.additionalStatus = this.paidBtc(invoice) > Number(invoice.due) + 1e-8 ? "PaidOver" : "None";
      this.emit("InvoiceProcessing", { invoiceId, metadata: invoice.metadata, overPaid: invoice.additionalStatus === "PaidOver" });
    }
    return payment;
  }

  /** The payments confirm: each one InvoicePaymentSettled; a Processing (or late-paid expired) invoice settles. */
  confirm(invoiceId: string): void {
    const invoice = this.invoiceOf(invoiceId);
    for (const payment of invoice.payments.filter((candidate) => candidate.status === "Processing")) {
      payment.status = "Settled";
      this.emit("InvoicePaymentSettled", { invoiceId, metadata: invoice.metadata, afterExpiration: invoice.status === "Expired", paymentMethod: "BTC-CHAIN", payment: { id: payment.id, value: payment.value, status: payment.status } });
    }
    const full = this.paidBtc(invoice, ["Settled"]) >= Number(invoice.due) - 1e-8;
    if (invoice.status === "Processing" || (invoice.status === "Expired" && full)) {
      if (invoice.status === "Expired") invoice.additionalStatus = "PaidLate";
      invoice.status = "Settled";
      this.emit("InvoiceSettled", { invoiceId, metadata: invoice.metadata, manuallyMarked: false, overPaid: invoice.additionalStatus === "PaidOver" });
    }
  }

  /** The invoice's time runs out: Expired (PaidPartial when something was paid). */
  expire(invoiceId: string): void {
    const invoice = this.invoiceOf(invoiceId);
    if (invoice.status !== "New") return;
    invoice.status = "Expired";
    const partiallyPaid = invoice.payments.length > 0;
    invoice.additionalStatus = partiallyPaid ? "PaidPartial" : "None";
    this.emit("InvoiceExpired", { invoiceId, metadata: invoice.metadata, partiallyPaid, paymentMethod: "BTC-CHAIN" });
  }

  /** The donor opens the refund's link, gives an address, and the store pays it out: AwaitingApproval → Completed. */
  claim(pullPaymentId: string, options: { complete?: boolean } = {}): void {
    const pullPayment = this.pullPayments.get(pullPaymentId);
    if (!pullPayment) throw new Error(`fake BTCPay: no pull payment ${pullPaymentId}`);
    const payout = { id: id(), pullPaymentId, amount: pullPayment.amount, state: "AwaitingApproval" as FakePullPayment["payouts"][number]["state"] };
    pullPayment.payouts.push(payout);
    this.emit("PayoutCreated", { payoutId: payout.id, pullPaymentId, payoutState: payout.state });
    if (options.complete === false) return;
    payout.state = "AwaitingPayment";
    this.emit("PayoutApproved", { payoutId: payout.id, pullPaymentId, payoutState: payout.state });
    payout.state = "Completed";
    this.emit("PayoutUpdated", { payoutId: payout.id, pullPaymentId, payoutState: payout.state });
  }

  // ---- the Greenfield API ----

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = req.method === "POST" ? await readBody(req) : "";
    if (url.pathname.startsWith("/i/")) return this.checkoutPage(req, res, url);
    const match = /^\/api\/v1\/stores\/([^/]+)(\/.*)$/.exec(url.pathname);
    const path = match?.[2] ?? url.pathname;
    this.calls.push(`${req.method ?? "GET"} ${path}`);
    if (this.down) return sendJson(res, 503, { code: "service-unavailable", message: "BTCPay Server is down (fake)" });
    if (req.headers.authorization !== `token ${this.apiKey}`) return sendJson(res, 401, { code: "unauthenticated", message: "Authentication is required" });
    if (!match || match[1] !== this.storeId) return sendJson(res, 404, { code: "store-not-found", message: "The store was not found" });
    const segments = path.split("/").filter(Boolean);
    const json = (): GreenfieldRequest => requestSchema.parse(body ? JSON.parse(body) : {});
    if (segments[0] === "invoices") {
      if (segments.length === 1 && req.method === "POST") return sendJson(res, 200, this.createInvoice(json()));
      if (segments.length === 1 && req.method === "GET") return sendJson(res, 200, this.listInvoices(url.searchParams));
      const invoice = this.invoices.get(segments[1] ?? "");
      if (!invoice) return sendJson(res, 404, { code: "invoice-not-found", message: "The invoice was not found" });
      if (segments.length === 2 && req.method === "GET") return sendJson(res, 200, this.invoiceData(invoice));
      if (segments[2] === "payment-methods" && req.method === "GET") return sendJson(res, 200, [this.paymentMethod(invoice)]);
      if (segments[2] === "refund" && req.method === "POST") return this.refund(res, invoice, json());
    }
    if (segments[0] === "pull-payments") {
      if (segments.length === 1 && req.method === "GET") {
        const all = [...this.pullPayments.values()].filter((pullPayment) => url.searchParams.get("includeArchived") === "true" || !pullPayment.archived);
        return sendJson(res, 200, all.map((pullPayment) => this.pullPaymentData(pullPayment)));
      }
      const pullPayment = this.pullPayments.get(segments[1] ?? "");
      if (!pullPayment) return sendJson(res, 404, { code: "pullpayment-not-found", message: "The pull payment was not found" });
      if (segments.length === 2 && req.method === "GET") return sendJson(res, 200, this.pullPaymentData(pullPayment));
      if (segments.length === 2 && req.method === "DELETE") {
        pullPayment.archived = true;
        return sendJson(res, 200, {});
      }
      if (segments[2] === "payouts" && req.method === "GET") {
        const payouts = pullPayment.payouts.filter((payout) => url.searchParams.get("includeCancelled") === "true" || payout.state !== "Cancelled");
        return sendJson(res, 200, payouts.map((payout) => ({ ...payout, payoutMethodId: "BTC-CHAIN", cryptoCode: "BTC", date: this.nowSeconds() })));
      }
    }
    return sendJson(res, 404, { code: "not-found", message: `fake BTCPay: no route ${req.method ?? ""} ${path}` });
  }

  private createInvoice(input: GreenfieldRequest): Record<string, unknown> {
    const currency = input.currency ?? "BTC";
    const rate = RATES[currency] ?? 1;
    const checkout = input.checkout ?? {};
    const invoiceId = id();
    const now = this.nowSeconds();
    const invoice: FakeInvoice = {
      id: invoiceId,
      storeId: this.storeId,
      amount: String(input.amount),
      currency,
      checkoutLink: `${this.baseUrl}/i/${invoiceId}`,
      status: "New",
      additionalStatus: "None",
      createdTime: now,
      expirationTime: now + (checkout.expirationMinutes ?? 15) * 60,
      metadata: input.metadata ?? {},
      due: btc(Number(input.amount) / rate),
      rate: String(rate),
      payments: [],
    };
    this.invoices.set(invoiceId, invoice);
    this.emit("InvoiceCreated", { invoiceId, metadata: invoice.metadata });
    return this.invoiceData(invoice);
  }

  private listInvoices(params: URLSearchParams): Record<string, unknown>[] {
    const orderId = params.get("orderId");
    const startDate = Number(params.get("startDate") ?? 0);
    const skip = Number(params.get("skip") ?? 0);
    const take = Number(params.get("take") ?? 1000);
    return [...this.invoices.values()]
      .filter((invoice) => (orderId === null || invoice.metadata.orderId === orderId) && invoice.createdTime >= startDate)
      .sort((a, b) => b.createdTime - a.createdTime)
      .slice(skip, skip + take)
      .map((invoice) => this.invoiceData(invoice));
  }

  private invoiceData(invoice: FakeInvoice): Record<string, unknown> {
    const { id: invoiceId, storeId, amount, currency, checkoutLink, status, additionalStatus, createdTime, expirationTime, metadata } = invoice;
    return { id: invoiceId, storeId, amount, currency, checkoutLink, status, additionalStatus, createdTime, expirationTime, metadata, type: "Standard", monitoringExpiration: expirationTime + 3600, archived: false };
  }

  private paymentMethod(invoice: FakeInvoice): Record<string, unknown> {
    const paid = this.paidBtc(invoice);
    return {
      paymentMethodId: "BTC-CHAIN",
      currency: "BTC",
      destination: "bc1qfakeaddress0000000000000000000000000000",
      rate: invoice.rate,
      amount: invoice.due,
      paymentMethodPaid: btc(paid),
      totalPaid: btc(paid),
      due: btc(Math.max(0, Number(invoice.due) - paid)),
      activated: true,
      payments: invoice.payments.map((payment) => ({ ...payment, receivedDate: invoice.createdTime, fee: "0.00000000", destination: "bc1qfakeaddress0000000000000000000000000000" })),
    };
  }

  private refund(res: ServerResponse, invoice: FakeInvoice, input: GreenfieldRequest): void {
    if (invoice.status !== "Settled" && this.paidBtc(invoice, ["Settled"]) === 0) {
      return sendJson(res, 400, { code: "non-refundable", message: "Cannot refund this invoice" });
    }
    const variant = input.refundVariant ?? "RateThen";
    const currency = variant === "Custom" ? (input.customCurrency ?? invoice.currency) : variant === "Fiat" ? invoice.currency : "BTC";
    const amount = variant === "Custom" ? String(input.customAmount) : variant === "Fiat" ? invoice.amount : btc(this.paidBtc(invoice, ["Settled"]));
    const pullPaymentId = id();
    const pullPayment: FakePullPayment = {
      id: pullPaymentId,
      name: input.name ?? "",
      description: input.description ?? "",
      currency,
      amount,
      archived: false,
      viewLink: `${this.baseUrl}/pull-payments/${pullPaymentId}`,
      payouts: [],
    };
    this.pullPayments.set(pullPaymentId, pullPayment);
    sendJson(res, 200, this.pullPaymentData(pullPayment));
  }

  private pullPaymentData(pullPayment: FakePullPayment): Record<string, unknown> {
    const { id: pullPaymentId, name, description, currency, amount, archived, viewLink } = pullPayment;
    return { id: pullPaymentId, name, description, currency, amount, archived, viewLink, period: null, BOLT11Expiration: "30", autoApproveClaims: false };
  }

  /** The demo's checkout page: shows the invoice, and a button that pays it in full and confirms it. */
  private checkoutPage(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const invoiceId = url.pathname.split("/")[2] ?? "";
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) return sendJson(res, 404, { code: "invoice-not-found" });
    if (req.method === "POST") {
      this.pay(invoiceId, 1);
      this.confirm(invoiceId);
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><title>Fake BTCPay checkout</title><h1>${invoice.amount} ${invoice.currency}</h1><p>${invoice.due} BTC · ${invoice.status}</p>` +
        (invoice.status === "New" ? `<form method="post"><button>Pay with the fake wallet</button></form>` : ""),
    );
  }
}

export type RunningFakeBtcpay = RunningServer & { btcpay: FakeBtcpay };

/** The store, API key and webhook secret the emulated functions use (functions/.env.local, functions/.secret.local). */
export function localBtcpayOptions(env: NodeJS.ProcessEnv = process.env) {
  return { storeId: env.BTCPAY_STORE_ID ?? "elateme-demo-store", apiKey: localSecret("BTCPAY_API_KEY", env), webhookSecret: localSecret("BTCPAY_WEBHOOK_SECRET", env) };
}

/** Starts the fake on the port ELATEME_FAKE_BTCPAY_URL names (12114 + offset by default). */
export async function startFakeBtcpay(env: NodeJS.ProcessEnv = process.env, port = portOf(env.ELATEME_FAKE_BTCPAY_URL, 12114)): Promise<RunningFakeBtcpay> {
  const btcpay = new FakeBtcpay(localBtcpayOptions(env));
  const server = await listen(port, (req, res) => btcpay.handle(req, res));
  btcpay.baseUrl = server.url;
  return { ...server, btcpay };
}
