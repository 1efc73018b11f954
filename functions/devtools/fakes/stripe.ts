// A small, faithful fake of the parts of the Stripe API we call, for the emulator suite and the tests (never deployed).
// The real `stripe` SDK talks to it (host/port/protocol options): form-encoded bodies, Bearer secret key,
// Idempotency-Key replay, Stripe-shaped objects and errors (see /work/shared/stripe/fixtures3.json). It also plays
// the payment's later life (succeed, fail, refund, dispute...) and emits webhook events signed with the SDK's own
// test-header helper and the webhook secret of functions/.secret.local.
//
// Extending it (refunds/transfers for payouts): add a route to `routes` and, if it emits events, a method that
// mutates the stored object and returns `this.event(type, object)`.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import Stripe from "stripe";
import { listen, portOf, readBody, sendJson } from "./http";
import type { RunningServer } from "./http";
import { StripeApiError, invalidParam, listPage, nowSeconds, randomId } from "./stripe-common";
import type { Obj } from "./stripe-common";
import { FakeStripeConnect } from "./stripe-connect";
import { FakeStripeRefunds } from "./stripe-refunds";
import { DECLINES, servePaymentPage } from "./stripe-payment-page";
import type { DeclineKind, PaymentPageActions } from "./stripe-payment-page";


export interface StripeEventObject {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: Obj };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
  /** Connect events only: the connected account the event happened on. */
  account?: string;
}

export interface RecordedCall {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: Obj;
}

/** A secret the emulated functions use (functions/.secret.local), unless overridden by the environment. */
export function localSecret(name: string, env: NodeJS.ProcessEnv): string {
  const fromEnv = env[name];
  if (fromEnv) return fromEnv;
  const file = readFileSync(path.resolve(__dirname, "..", "..", ".secret.local"), "utf8");
  const line = file.split("\n").find((candidate) => candidate.startsWith(`${name}=`));
  if (!line) throw new Error(`${name} is missing from functions/.secret.local`);
  return line.slice(name.length + 1).trim();
}

/** The signing secret of the account webhook endpoint (stripeWebhook). */
export function localWebhookSecret(env: NodeJS.ProcessEnv = process.env): string {
  return localSecret("STRIPE_WEBHOOK_SECRET", env);
}

/** The signing secret of the Connect webhook endpoint (stripeConnectWebhook: account.updated). */
export function localConnectWebhookSecret(env: NodeJS.ProcessEnv = process.env): string {
  return localSecret("STRIPE_CONNECT_WEBHOOK_SECRET", env);
}

const signer = new Stripe("sk_test_fake_signer_only");

/** A Stripe-Signature header for `payload`, made by the SDK's own helper. */
export function signPayload(payload: string, secret: string, timestamp?: number): string {
  return signer.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

/** Parses Stripe's form encoding (`metadata[donationId]=x`, `automatic_payment_methods[enabled]=true`). */
export function parseForm(body: string): Obj {
  const result: Obj = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.split(/\[|\]/).filter((part) => part !== "");
    let cursor: Obj = result;
    parts.forEach((part, index) => {
      if (index === parts.length - 1) {
        cursor[part] = value;
      } else {
        const next = cursor[part];
        if (typeof next === "object" && next !== null) cursor = next as Obj;
        else {
          const created: Obj = {};
          cursor[part] = created;
          cursor = created;
        }
      }
    });
  }
  return result;
}

const clone = <T>(value: T): T => structuredClone(value);

/** Dispute statuses whose money Stripe keeps away from the platform (an inquiry, `warning_*`, withdraws nothing). */
export const WITHDRAWN = new Set<unknown>(["needs_response", "under_review", "lost"]);
/** PaymentIntent statuses Stripe lets us cancel. */
const CANCELABLE = new Set<unknown>(["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"]);

export class FakeStripe {
  readonly customers = new Map<string, Obj>();
  readonly paymentIntents = new Map<string, Obj>();
  readonly charges = new Map<string, Obj>();
  readonly disputes = new Map<string, Obj>();
  readonly calls: RecordedCall[] = [];
  readonly events: StripeEventObject[] = [];
  private readonly idempotent = new Map<string, { params: string; status: number; body: unknown }>();
  /** Idempotency keys whose request is executing right now (a concurrent same-key request gets 409). */
  private readonly executing = new Set<string>();
  private failures = 0;
  private failurePrefix = "/v1/";
  private failureMethod: string | undefined;
  private readonly holds: { method: string; pathPrefix: string; phase: "executing" | "answering"; arrive: () => void; gate: Promise<void> }[] = [];
  private readonly lostAnswers: { method: string; pathPrefix: string; count: number }[] = [];
  private lastCreated = 0;
  /** closing: the refunds API on these charges; `.failRefunds(n, code)`, `.refundsOf(pi)`, `.settle(re, status)`. */
  readonly refundsApi = new FakeStripeRefunds({
    paymentIntents: this.paymentIntents,
    charges: this.charges,
    chargebacks: (chargeId) => {
      const ofCharge = [...this.disputes.values()].filter((dispute) => dispute.charge === chargeId);
      return {
        open: ofCharge.some((dispute) => WITHDRAWN.has(dispute.status) && dispute.status !== "lost"),
        lost: ofCharge.reduce((sum, dispute) => sum + (dispute.status === "lost" ? Number(dispute.amount) : 0), 0),
      };
    },
    emit: (type, object) => this.event(type, object),
  });
  /** payouts: Connect accounts, account links and transfers; `.completeOnboarding(acct)`, `.reverseTransfer(tr)`. */
  readonly connect = new FakeStripeConnect({
    charges: this.charges,
    withdrawnByDisputes: (currency) =>
      [...this.disputes.values()].filter((dispute) => dispute.currency === currency && WITHDRAWN.has(dispute.status)).reduce((sum, dispute) => sum + Number(dispute.amount), 0),
    emit: (type, object, account) => this.event(type, object, account),
    baseUrl: () => this.baseUrl,
  });
  /** Where this fake listens (set by startFakeStripe); account links point here. */
  baseUrl = "http://127.0.0.1:12111";

  constructor(
    readonly webhookSecret: string,
    readonly connectWebhookSecret = webhookSecret,
  ) {}

  /** Clears every object and counter (tests call it between cases). */
  reset(): void {
    this.customers.clear();
    this.paymentIntents.clear();
    this.charges.clear();
    this.disputes.clear();
    this.calls.length = 0;
    this.events.length = 0;
    this.idempotent.clear();
    this.executing.clear();
    this.failures = 0;
    for (const hold of this.holds.splice(0)) hold.arrive();
    this.lostAnswers.length = 0;
    this.refundsApi.reset();
    this.connect.reset();
  }

  /**
   * The fake's objects as plain JSON, so the `npm start` demo (emulator-data/fake-stripe.json, written by
   * devtools/seed.ts) keeps the PaymentIntents and charges that its seeded donations point at.
   */
  snapshot(): Record<string, Obj[]> {
    return {
      customers: [...this.customers.values()],
      paymentIntents: [...this.paymentIntents.values()],
      charges: [...this.charges.values()],
      disputes: [...this.disputes.values()],
      refunds: [...this.refundsApi.refunds.values()],
      accounts: [...this.connect.accounts.values()],
      transfers: [...this.connect.transfers.values()],
    };
  }

  /** Loads a {@link snapshot}. */
  restore(snapshot: Partial<Record<string, Obj[]>>): void {
    const load = (target: Map<string, Obj>, objects: Obj[] = []) => {
      for (const object of objects) target.set(String(object.id), object);
    };
    load(this.customers, snapshot.customers);
    load(this.paymentIntents, snapshot.paymentIntents);
    load(this.charges, snapshot.charges);
    load(this.disputes, snapshot.disputes);
    load(this.refundsApi.refunds, snapshot.refunds);
    load(this.connect.accounts, snapshot.accounts);
    load(this.connect.transfers, snapshot.transfers);
  }

  /**
   * The next `count` API requests (only those whose path starts with `pathPrefix`, when given) answer HTTP 500
   * `api_error` before reaching the endpoint, as when Stripe is having trouble in front of its API: nothing is executed
   * or stored under the idempotency key, so the SDK's retries (same key) can succeed.
   */
  failNext(count: number, pathPrefix = "/v1/", method?: string): void {
    this.failures = count;
    this.failurePrefix = pathPrefix;
    this.failureMethod = method;
  }

  /**
   * The next `method` request to a path starting with `pathPrefix` stops inside Stripe until `release()`; `arrived`
   * resolves when it got there. `executing` (a money request in flight): its idempotency key counts as executing (a
   * concurrent request with the same key gets 409 `idempotency_key_in_use`, as at Stripe) and nothing it creates exists
   * yet. `answering`: Stripe has done it (objects and events exist, the answer is stored under the key) and its answer
   * is on the way back — slower than the webhooks it caused. Released before a request came, it is disarmed.
   */
  hold(method: string, pathPrefix: string, phase: "executing" | "answering" = "executing"): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hold = { method, pathPrefix, phase, arrive: arrived, gate };
    this.holds.push(hold);
    // Released before any request came: disarmed, so it cannot stop a later caller's request (another test's).
    const release = () => {
      const index = this.holds.indexOf(hold);
      if (index >= 0) this.holds.splice(index, 1);
      open();
    };
    return { arrived: arrivedPromise, release };
  }

  /**
   * The next `count` `method` requests to paths starting with `pathPrefix` are executed (and stored under their
   * idempotency key) but their answer never reaches the caller: the connection drops, as when a network fails after
   * Stripe acted. The SDK sees a connection error and retries (Stripe then replays the stored answer).
   */
  loseAnswers(count: number, method: string, pathPrefix: string): void {
    this.lostAnswers.push({ method, pathPrefix, count });
  }

  callsTo(method: string, pathPrefix: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method && call.path.startsWith(pathPrefix));
  }

  // ---- HTTP API ----

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake-stripe");
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const params = method === "GET" ? Object.fromEntries(url.searchParams) : parseForm(raw);
    const idempotencyKey = typeof req.headers["idempotency-key"] === "string" ? req.headers["idempotency-key"] : null;
    this.calls.push({ method, path: url.pathname, idempotencyKey, params });
    // The local payment page (a browser page, not the API): stripe-payment-page.ts.
    if (servePaymentPage(this.pageActions, method, url.pathname, new URLSearchParams(raw), res)) return;
    if (url.pathname.startsWith("/_fake/")) {
      this.control(method, url.pathname, res);
      return;
    }
    const requestId = randomId("req");
    const headers = { "request-id": requestId, "stripe-version": String(req.headers["stripe-version"] ?? Stripe.API_VERSION) };
    try {
      const auth = req.headers.authorization ?? "";
      if (!/^Bearer sk_(test|live)_\S+$/.test(auth)) {
        throw new StripeApiError(401, { type: "invalid_request_error", message: "Invalid API Key provided." }, false);
      }
      if (this.failures > 0 && url.pathname.startsWith(this.failurePrefix) && (!this.failureMethod || this.failureMethod === method)) {
        this.failures -= 1;
        throw new StripeApiError(500, { type: "api_error", message: "An unknown error occurred (fake Stripe: injected failure)." }, false);
      }
      const replayKey = idempotencyKey && method === "POST" ? `${url.pathname}|${idempotencyKey}` : null;
      const replay = replayKey ? this.idempotent.get(replayKey) : undefined;
      if (replay) {
        if (replay.params !== JSON.stringify(params)) {
          throw new StripeApiError(
            400,
            { type: "idempotency_error", message: `Keys for idempotent requests can only be used with the same parameters they were first used with.` },
            false,
          );
        }
        this.answer(req, res, method, url.pathname, replay.status, replay.body, { ...headers, "idempotent-replayed": "true" });
        return;
      }
      if (replayKey && this.executing.has(replayKey)) {
        throw new StripeApiError(
          409,
          { type: "idempotency_error", code: "idempotency_key_in_use", message: "There is currently another in-progress request using this Idempotent Key." },
          false,
        );
      }
      if (replayKey) this.executing.add(replayKey);
      try {
        const hold = this.holdFor(method, url.pathname);
        if (hold?.phase === "executing") await this.waitAt(hold);
        const stored = (status: number, body: unknown) => {
          if (replayKey) this.idempotent.set(replayKey, { params: JSON.stringify(params), status, body });
        };
        let answer: { status: number; body: unknown };
        try {
          answer = { status: 200, body: this.route(method, url.pathname, params, req) };
        } catch (error) {
          if (!(error instanceof StripeApiError) || !error.stored) throw error;
          answer = { status: error.status, body: { error: { ...error.body, request_log_url: null } } };
        }
        stored(answer.status, answer.body);
        if (replayKey) this.executing.delete(replayKey);
        if (hold?.phase === "answering") await this.waitAt(hold);
        this.answer(req, res, method, url.pathname, answer.status, answer.body, headers);
      } finally {
        if (replayKey) this.executing.delete(replayKey);
      }
    } catch (error) {
      if (error instanceof StripeApiError) {
        sendJson(res, error.status, { error: { ...error.body, request_log_url: null } }, headers);
        return;
      }
      throw error;
    }
  }

  /** The {@link hold} this request meets, if any (each hold catches one request). */
  private holdFor(method: string, pathname: string): FakeStripe["holds"][number] | undefined {
    const index = this.holds.findIndex((hold) => hold.method === method && pathname.startsWith(hold.pathPrefix));
    return index < 0 ? undefined : this.holds.splice(index, 1)[0];
  }

  private async waitAt(hold: FakeStripe["holds"][number]): Promise<void> {
    hold.arrive();
    await hold.gate;
  }

  /** Sends the answer, unless {@link loseAnswers} drops it on the way back. */
  private answer(req: IncomingMessage, res: ServerResponse, method: string, pathname: string, status: number, body: unknown, headers: Record<string, string>): void {
    const lost = this.lostAnswers.find((rule) => rule.count > 0 && rule.method === method && pathname.startsWith(rule.pathPrefix));
    if (lost) {
      lost.count -= 1;
      req.socket.destroy();
      return;
    }
    sendJson(res, status, body, headers);
  }

  private route(method: string, pathname: string, params: Obj, req: IncomingMessage): Obj {
    const segments = pathname.split("/").filter(Boolean);
    if (segments[0] !== "v1") throw this.notFound(pathname);
    const [, resource, id] = segments;
    if (method === "POST" && resource === "customers" && !id) return this.createCustomer(params);
    if (method === "GET" && resource === "customers" && id) return clone(this.require(this.customers, id, "customer"));
    if (method === "POST" && resource === "payment_intents" && !id) return this.createPaymentIntent(params);
    if (method === "GET" && resource === "payment_intents" && id) return clone(this.require(this.paymentIntents, id, "payment_intent"));
    if (method === "GET" && resource === "payment_intents" && !id) return this.listPaymentIntents(params);
    if (method === "POST" && resource === "payment_intents" && id && segments[3] === "cancel") return clone(this.cancelIntent(id, params).object);
    if (method === "GET" && resource === "disputes" && id) return clone(this.require(this.disputes, id, "dispute"));
    if (method === "GET" && resource === "disputes" && !id) return this.listDisputes(params);
    if (method === "GET" && resource === "charges" && id) return clone(this.require(this.charges, id, "charge"));
    if (method === "POST" && resource === "ephemeral_keys" && !id) return this.createEphemeralKey(params, req);
    const closingRoute = this.refundsApi.route(method, resource, id, params) ?? this.connect.route(method, resource, id, params);
    if (closingRoute) return closingRoute;
    throw this.notFound(pathname);
  }

  private notFound(pathname: string): StripeApiError {
    return new StripeApiError(404, { type: "invalid_request_error", message: `Unrecognized request URL (${pathname}).` });
  }

  private require(map: Map<string, Obj>, id: string, what: string): Obj {
    const found = map.get(id);
    if (!found) {
      throw new StripeApiError(404, { type: "invalid_request_error", code: "resource_missing", param: "id", message: `No such ${what}: '${id}'` });
    }
    return found;
  }

  private metadata(params: Obj): Record<string, string> {
    const metadata = params.metadata;
    if (!metadata || typeof metadata !== "object") return {};
    return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, String(value)]));
  }

  private createCustomer(params: Obj): Obj {
    const customer: Obj = {
      id: randomId("cus"),
      object: "customer",
      address: null,
      balance: 0,
      created: nowSeconds(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: typeof params.description === "string" ? params.description : null,
      email: typeof params.email === "string" ? params.email : null,
      invoice_prefix: randomBytes(4).toString("hex").toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: this.metadata(params),
      name: typeof params.name === "string" ? params.name : null,
      next_invoice_sequence: 1,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: "none",
      test_clock: null,
    };
    this.customers.set(customer.id as string, customer);
    return clone(customer);
  }

  private createPaymentIntent(params: Obj): Obj {
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1) {
      throw invalidParam("amount", "This value must be greater than or equal to 1.");
    }
    if (typeof params.currency !== "string" || params.currency !== params.currency.toLowerCase()) {
      throw invalidParam("currency", "Invalid currency.");
    }
    const customer = typeof params.customer === "string" ? params.customer : null;
    if (customer) this.require(this.customers, customer, "customer");
    const id = randomId("pi");
    const automatic = (params.automatic_payment_methods as Obj | undefined)?.enabled === "true";
    const intent: Obj = {
      id,
      object: "payment_intent",
      amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: automatic ? { enabled: true } : null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: "automatic",
      client_secret: `${id}_secret_${randomId("x").slice(2)}`,
      confirmation_method: "automatic",
      created: nowSeconds(),
      currency: params.currency,
      customer,
      description: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: this.metadata(params),
      next_action: null,
      on_behalf_of: null,
      payment_method: null,
      payment_method_options: {},
      payment_method_types: ["card"],
      processing: null,
      receipt_email: null,
      review: null,
      setup_future_usage: null,
      shipping: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: "requires_payment_method",
      transfer_data: null,
      transfer_group: null,
    };
    this.paymentIntents.set(id, intent);
    return clone(intent);
  }

  /** Stripe's list of PaymentIntents (an unknown `starting_after` is a 404, as at Stripe). */
  private listPaymentIntents(params: Obj): Obj {
    if (typeof params.starting_after === "string") this.require(this.paymentIntents, params.starting_after, "payment_intent");
    return listPage([...this.paymentIntents.values()], params, "/v1/payment_intents");
  }

  private createEphemeralKey(params: Obj, req: IncomingMessage): Obj {
    if (!req.headers["stripe-version"]) {
      throw new StripeApiError(400, { type: "invalid_request_error", message: "Stripe-Version header is required for ephemeral keys." }, false);
    }
    const customer = typeof params.customer === "string" ? params.customer : "";
    this.require(this.customers, customer, "customer");
    const created = nowSeconds();
    return {
      id: randomId("ephkey"),
      object: "ephemeral_key",
      associated_objects: [{ id: customer, type: "customer" }],
      created,
      expires: created + 3600,
      livemode: false,
      secret: `ek_test_${randomId("x").slice(2)}`,
    };
  }

  /** The page's buttons, played on this fake. */
  private readonly pageActions: PaymentPageActions = {
    intentBySecret: (clientSecret) => [...this.paymentIntents.values()].find((intent) => intent.client_secret === clientSecret),
    succeed: (pi) => this.succeed(pi),
    decline: (pi, kind) => this.decline(pi, kind),
    requireAction: (pi) => this.requireAction(pi),
    failAuthentication: (pi) => this.failAuthentication(pi),
  };

  /** The local payment page of a PaymentIntent: `<this fake's URL>/pay/<client secret>` (stripe-payment-page.ts). */
  paymentPageUrl(paymentIntentId: string): string {
    return `${this.baseUrl}/pay/${encodeURIComponent(String(this.intent(paymentIntentId).client_secret))}`;
  }

  /**
   * Dev control (not a Stripe API): `GET /_fake/payment_intents/{id}/page` answers `{url}`, the intent's local payment
   * page; `GET /_fake/onboarding/{acct}` (an account link's URL) completes onboarding;
   * `POST /_fake/payment_intents/{id}/{succeed|fail|cancel|processing|refund|dispute}`
   * plays that step on a held PaymentIntent and answers the event Stripe would send (devtools/send-webhook.ts uses it
   * against the `npm start` fake, which runs in its own process).
   */
  private control(method: string, pathname: string, res: ServerResponse): void {
    const [, , resource, id, action] = pathname.split("/");
    // An account link's URL (GET, from a browser): the owner "completes" Stripe's hosted onboarding.
    if (method === "GET" && resource === "onboarding" && id) {
      try {
        this.connect.completeOnboarding(id);
        sendJson(res, 200, { onboarded: id, note: "Fake Stripe: onboarding complete; account.updated goes to stripeConnectWebhook." });
      } catch (error) {
        sendJson(res, 404, { error: { type: "invalid_request_error", message: error instanceof Error ? error.message : String(error) } });
      }
      return;
    }
    if (method === "GET" && resource === "payment_intents" && id && action === "page") {
      if (this.paymentIntents.has(id)) sendJson(res, 200, { url: this.paymentPageUrl(id) });
      else sendJson(res, 404, { error: { type: "invalid_request_error", code: "resource_missing", message: `No such payment_intent: '${id}'` } });
      return;
    }
    const steps: Record<string, (pi: string) => StripeEventObject> = {
      succeed: (pi) => this.succeed(pi),
      fail: (pi) => this.fail(pi),
      cancel: (pi) => this.cancel(pi),
      processing: (pi) => this.processing(pi),
      refund: (pi) => this.refund(pi),
      dispute: (pi) => this.dispute(pi),
    };
    const step = action ? steps[action] : undefined;
    if (method !== "POST" || resource !== "payment_intents" || !id || !step) {
      sendJson(res, 404, { error: { type: "invalid_request_error", message: `Unknown fake control ${method} ${pathname}` } });
      return;
    }
    try {
      sendJson(res, 200, step(id));
    } catch (error) {
      sendJson(res, 400, { error: { type: "invalid_request_error", message: error instanceof Error ? error.message : String(error) } });
    }
  }

  // ---- the payment's later life, each step returning the event Stripe would send ----

  private event(type: string, object: Obj, account?: string): StripeEventObject {
    this.lastCreated = Math.max(nowSeconds(), this.lastCreated + 1);
    const event: StripeEventObject = {
      id: randomId("evt"),
      object: "event",
      api_version: Stripe.API_VERSION,
      created: this.lastCreated,
      data: { object: clone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      ...(account ? { account } : {}),
    };
    this.events.push(event);
    return event;
  }

  private intent(id: string): Obj {
    return this.require(this.paymentIntents, id, "payment_intent");
  }

  /** The customer submitted a payment method that is being processed (e.g. a bank debit). */
  processing(paymentIntentId: string): StripeEventObject {
    const intent = this.intent(paymentIntentId);
    Object.assign(intent, { status: "processing", processing: { type: "card" }, last_payment_error: null });
    return this.event("payment_intent.processing", intent);
  }

  /**
   * The payment succeeded: a charge is created and the intent's `latest_charge` points at it. `amountReceived` other
   * than the amount plays a Stripe that took a different sum (it never should; we must notice).
   */
  succeed(paymentIntentId: string, options: { amountReceived?: number } = {}): StripeEventObject {
    const intent = this.intent(paymentIntentId);
    if (intent.status === "succeeded" || intent.status === "canceled") throw new Error(`PaymentIntent ${paymentIntentId} is already ${String(intent.status)}`);
    const amount = options.amountReceived ?? Number(intent.amount);
    const charge: Obj = {
      id: randomId("ch"),
      object: "charge",
      amount,
      amount_captured: amount,
      amount_refunded: 0,
      application: null,
      application_fee: null,
      application_fee_amount: null,
      balance_transaction: randomId("txn"),
      billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
      captured: true,
      created: nowSeconds(),
      currency: intent.currency,
      customer: intent.customer,
      description: null,
      disputed: false,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      fraud_details: {},
      livemode: false,
      metadata: {},
      on_behalf_of: null,
      outcome: { network_status: "approved_by_network", reason: null, risk_level: "normal", seller_message: "Payment complete.", type: "authorized" },
      paid: true,
      payment_intent: intent.id,
      payment_method: randomId("pm"),
      receipt_email: null,
      refunded: false,
      // No `refunds` list: API versions since 2022-11-15 do not include it (refunds come as refund objects and events).
      review: null,
      shipping: null,
      status: "succeeded",
      transfer_data: null,
      transfer_group: null,
    };
    this.charges.set(charge.id as string, charge);
    Object.assign(intent, { status: "succeeded", amount_received: amount, latest_charge: charge.id, processing: null, next_action: null, last_payment_error: null });
    return this.event("payment_intent.succeeded", intent);
  }

  /** The payment attempt was declined; the intent goes back to requires_payment_method. */
  fail(paymentIntentId: string, declineCode = "insufficient_funds"): StripeEventObject {
    const intent = this.intent(paymentIntentId);
    Object.assign(intent, {
      status: "requires_payment_method",
      processing: null,
      last_payment_error: { type: "card_error", code: "card_declined", decline_code: declineCode, message: "Your card was declined." },
    });
    return this.event("payment_intent.payment_failed", intent);
  }

  /** A card declined as Stripe declines its test cards (stripe-payment-page.ts `DECLINES`). */
  decline(paymentIntentId: string, kind: DeclineKind): StripeEventObject {
    const intent = this.intent(paymentIntentId);
    Object.assign(intent, { status: "requires_payment_method", processing: null, next_action: null, last_payment_error: { ...DECLINES[kind] } });
    return this.event("payment_intent.payment_failed", intent);
  }

  /** The card needs 3-D Secure: the intent waits in requires_action (Stripe sends payment_intent.requires_action). */
  requireAction(paymentIntentId: string): StripeEventObject {
    const intent = this.intent(paymentIntentId);
    Object.assign(intent, {
      status: "requires_action",
      payment_method: randomId("pm"),
      next_action: { type: "use_stripe_sdk", use_stripe_sdk: { type: "three_d_secure_redirect", stripe_js: `${this.baseUrl}/pay/${String(intent.client_secret)}` } },
    });
    return this.event("payment_intent.requires_action", intent);
  }

  /** The donor failed (or canceled) 3-D Secure: the intent goes back to requires_payment_method. */
  failAuthentication(paymentIntentId: string): StripeEventObject {
    const intent = this.intent(paymentIntentId);
    Object.assign(intent, {
      status: "requires_payment_method",
      next_action: null,
      payment_method: null,
      last_payment_error: {
        type: "invalid_request_error",
        code: "payment_intent_authentication_failure",
        message: "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
      },
    });
    return this.event("payment_intent.payment_failed", intent);
  }

  /** Cancels a PaymentIntent (as `POST /v1/payment_intents/:id/cancel` does) and answers `payment_intent.canceled`. */
  cancel(paymentIntentId: string, reason = "requested_by_customer"): StripeEventObject {
    return this.cancelIntent(paymentIntentId, { cancellation_reason: reason }).event;
  }

  /** Stripe cancels only an intent that has not been paid or started processing (`payment_intent_unexpected_state`). */
  private cancelIntent(paymentIntentId: string, params: Obj): { object: Obj; event: StripeEventObject } {
    const intent = this.intent(paymentIntentId);
    if (!CANCELABLE.has(intent.status)) {
      throw new StripeApiError(400, {
        type: "invalid_request_error",
        code: "payment_intent_unexpected_state",
        message: `You cannot cancel this PaymentIntent because it has a status of ${String(intent.status)}. Only a PaymentIntent with one of the following statuses may be canceled: ${[...CANCELABLE].join(", ")}.`,
      });
    }
    const reason = typeof params.cancellation_reason === "string" ? params.cancellation_reason : null;
    Object.assign(intent, { status: "canceled", canceled_at: nowSeconds(), cancellation_reason: reason, processing: null });
    return { object: intent, event: this.event("payment_intent.canceled", intent) };
  }

  private chargeOf(paymentIntentId: string): Obj {
    const chargeId = this.intent(paymentIntentId).latest_charge;
    if (typeof chargeId !== "string") throw new Error(`PaymentIntent ${paymentIntentId} has no charge yet`);
    return this.require(this.charges, chargeId, "charge");
  }

  /**
   * Refunds (part of) the charge the way someone in the Stripe dashboard does (no metadata of ours), through the same
   * refunds API and its checks; answers the `refund.created` event (a `charge.refunded` follows it in `events`).
   */
  refund(paymentIntentId: string, amount?: number): StripeEventObject {
    const before = this.events.length;
    this.refundsApi.create({ payment_intent: paymentIntentId, ...(amount === undefined ? {} : { amount: String(amount) }), reason: "requested_by_customer" });
    const created = this.events.slice(before).find((event) => event.type === "refund.created");
    if (!created) throw new Error("the refund emitted no refund.created");
    return created;
  }

  /** The cardholder disputed (part of) the charge: Stripe withdraws the disputed amount from the balance. */
  dispute(paymentIntentId: string, amount?: number): StripeEventObject {
    const charge = this.chargeOf(paymentIntentId);
    charge.disputed = true;
    const dispute: Obj = {
      id: randomId("du"),
      object: "dispute",
      amount: amount ?? charge.amount,
      balance_transactions: [],
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      evidence_details: { due_by: nowSeconds() + 7 * 86_400, has_evidence: false, past_due: false, submission_count: 0 },
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: paymentIntentId,
      reason: "fraudulent",
      status: "needs_response",
    };
    this.disputes.set(dispute.id as string, dispute);
    return this.event("charge.dispute.created", dispute);
  }

  /** The bank decided: `won` gives the money back to the platform, `lost` keeps it with the cardholder. */
  closeDispute(disputeId: string, outcome: "won" | "lost"): StripeEventObject {
    const dispute = this.require(this.disputes, disputeId, "dispute");
    if (dispute.status === "won" || dispute.status === "lost") throw new Error(`dispute ${disputeId} is already ${String(dispute.status)}`);
    dispute.status = outcome;
    return this.event("charge.dispute.closed", dispute);
  }

  /** Disputes of a payment (`payment_intent`) or charge (`charge`), newest first. */
  private listDisputes(params: Obj): Obj {
    const disputes = [...this.disputes.values()]
      .filter((dispute) => !params.payment_intent || dispute.payment_intent === params.payment_intent)
      .filter((dispute) => !params.charge || dispute.charge === params.charge);
    return listPage(disputes, params, "/v1/disputes");
  }

  /** An event of a type we do not handle (e.g. customer.created). */
  unrelated(type = "customer.created"): StripeEventObject {
    return this.event(type, this.createCustomer({}));
  }

  /** The exact bytes and Stripe-Signature header Stripe would send for `event`. */
  signed(event: StripeEventObject, secret = event.account ? this.connectWebhookSecret : this.webhookSecret): { payload: string; signature: string } {
    const payload = JSON.stringify(event, null, 2);
    return { payload, signature: signPayload(payload, secret) };
  }

  /** Delivers `event` to a webhook URL the way Stripe does (POST, JSON body, Stripe-Signature). */
  async deliver(url: string, event: StripeEventObject, options: { secret?: string; signature?: string | null } = {}): Promise<Response> {
    const { payload, signature } = this.signed(event, options.secret);
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)" };
    const header = options.signature === undefined ? signature : options.signature;
    if (header !== null) headers["stripe-signature"] = header;
    return fetch(url, { method: "POST", headers, body: payload });
  }
}

export type RunningFakeStripe = RunningServer & { stripe: FakeStripe };

/** Starts the fake on the port ELATEME_FAKE_STRIPE_URL names (12111 + offset by default). */
export async function startFakeStripe(env: NodeJS.ProcessEnv = process.env, port = portOf(env.ELATEME_FAKE_STRIPE_URL, 12111)): Promise<RunningFakeStripe> {
  const stripe = new FakeStripe(localWebhookSecret(env), localConnectWebhookSecret(env));
  stripe.baseUrl = `http://127.0.0.1:${port}`;
  const server = await listen(port, (req, res) => stripe.handle(req, res));
  return { ...server, stripe };
}
