// Refunds for the fake Stripe server (devtools/fakes/stripe.ts), used by closing a wish (issue 6): the `refunds`
// API (create with Idempotency-Key, list by payment_intent / created) on the charges the fake already holds.
// Objects follow Stripe's fixtures (resources.refund in /work/shared/stripe/fixtures3.json). Never deployed.
import { ScriptedErrors, listPage, nowSeconds, randomId } from "./stripe-common";
import type { Obj } from "./stripe-common";

/** What the refunds routes need from the fake Stripe that hosts them. */
export interface RefundsHost {
  paymentIntents: Map<string, Obj>;
  charges: Map<string, Obj>;
  /** Records an event of `type` carrying `object` (as Stripe would send it) and returns it. */
  emit(type: string, object: Obj): unknown;
  /** A Stripe-shaped API error the host answers with. */
  error(status: number, body: { type: string; code?: string; message: string; param?: string }): Error;
}


export class FakeStripeRefunds {
  readonly refunds = new Map<string, Obj>();
  /** When set, refund creation answers this error (e.g. a permanent `charge_disputed`) `count` times. */
  private readonly scripted = new ScriptedErrors();

  constructor(private readonly host: RefundsHost) {}

  reset(): void {
    this.refunds.clear();
    this.scripted.clear();
  }

  /** The next `count` refund creations fail with `code` (HTTP `status`), as Stripe would answer them. */
  failRefunds(count: number, code: string, status = 400, message = `Fake Stripe: scripted ${code}.`): void {
    this.scripted.set(count, code, status, message);
  }

  /** Refunds of one payment intent, newest first. */
  refundsOf(paymentIntentId: string): Obj[] {
    return [...this.refunds.values()].filter((refund) => refund.payment_intent === paymentIntentId).reverse();
  }

  /** Routes this module serves; undefined when the request is not for it. */
  route(method: string, resource: string | undefined, id: string | undefined, params: Obj): Obj | undefined {
    if (resource !== "refunds") return undefined;
    if (method === "POST" && !id) return this.create(params);
    if (method === "GET" && id) return structuredClone(this.require(id));
    if (method === "GET" && !id) return this.list(params);
    return undefined;
  }

  private require(id: string): Obj {
    const refund = this.refunds.get(id);
    if (!refund) throw this.host.error(404, { type: "invalid_request_error", code: "resource_missing", param: "id", message: `No such refund: '${id}'` });
    return refund;
  }

  private create(params: Obj): Obj {
    this.scripted.throwIfDue((status, body) => this.host.error(status, body));
    const paymentIntentId = typeof params.payment_intent === "string" ? params.payment_intent : "";
    const intent = this.host.paymentIntents.get(paymentIntentId);
    if (!intent) {
      throw this.host.error(404, { type: "invalid_request_error", code: "resource_missing", param: "payment_intent", message: `No such payment_intent: '${paymentIntentId}'` });
    }
    const charge = typeof intent.latest_charge === "string" ? this.host.charges.get(intent.latest_charge) : undefined;
    if (!charge) {
      throw this.host.error(400, { type: "invalid_request_error", code: "charge_not_found", message: "This PaymentIntent does not have a successful charge to refund." });
    }
    if (charge.disputed === true) {
      throw this.host.error(400, { type: "invalid_request_error", code: "charge_disputed", message: `Charge ${String(charge.id)} has been charged back; cannot issue a refund.` });
    }
    const remaining = Number(charge.amount) - Number(charge.amount_refunded);
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (remaining <= 0) {
      throw this.host.error(400, { type: "invalid_request_error", code: "charge_already_refunded", message: `Charge ${String(charge.id)} has already been refunded.` });
    }
    if (!Number.isInteger(amount) || amount < 1 || amount > remaining) {
      throw this.host.error(400, { type: "invalid_request_error", code: "amount_too_large", param: "amount", message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining}).` });
    }
    const metadata = params.metadata && typeof params.metadata === "object" ? (params.metadata as Obj) : {};
    const refund: Obj = {
      id: randomId("re"),
      object: "refund",
      amount,
      balance_transaction: randomId("txn"),
      charge: charge.id,
      created: nowSeconds(),
      currency: charge.currency,
      destination_details: { card: { type: "reversal" }, type: "card" },
      metadata: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, String(value)])),
      payment_intent: paymentIntentId,
      reason: typeof params.reason === "string" ? params.reason : null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: "succeeded",
      transfer_reversal: null,
    };
    this.refunds.set(refund.id as string, refund);
    const list = charge.refunds as { data: Obj[] };
    list.data.unshift(structuredClone(refund));
    charge.amount_refunded = Number(charge.amount_refunded) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    this.host.emit("charge.refunded", charge);
    return structuredClone(refund);
  }

  private list(params: Obj): Obj {
    const refunds = [...this.refunds.values()].filter((refund) => !params.payment_intent || refund.payment_intent === params.payment_intent);
    return listPage(refunds, params, "/v1/refunds");
  }
}
