// Refunds for the fake Stripe server (devtools/fakes/stripe.ts): the `refunds` API (create with Idempotency-Key,
// retrieve, list by payment_intent / created) on the charges the fake already holds, and a refund's later life.
// Objects and events follow Stripe's fixtures (resources.refund in /work/shared/stripe/fixtures3.json) and today's API
// versions: a charge no longer carries its `refunds` list (2022-11-15), so `charge.refunded` tells only the charge's
// `amount_refunded`; the refund itself travels in `refund.created` / `refund.updated` / `refund.failed` (sent for every
// refund since 2024-10-28) and the older `charge.refund.updated`. Never deployed.
import { ScriptedErrors, StripeApiError, invalidParam, listPage, nowSeconds, randomId } from "./stripe-common";
import type { Obj } from "./stripe-common";

/** What the refunds routes need from the fake Stripe that hosts them. */
export interface RefundsHost {
  paymentIntents: Map<string, Obj>;
  charges: Map<string, Obj>;
  /**
   * The charge's chargebacks: `open` while the bank decides (Stripe refuses refunds meanwhile: `charge_disputed`);
   * `lost`, the amount the cardholder's bank took back for good (no longer refundable).
   */
  chargebacks(chargeId: string): { open: boolean; lost: number };
  /** Records an event of `type` carrying `object` (as Stripe would send it) and returns it. */
  emit(type: string, object: Obj): unknown;
}

export type RefundStatus = "pending" | "requires_action" | "succeeded" | "failed" | "canceled";

/** Pending refunds count towards a charge's `amount_refunded` until they fail or are canceled. */
const HOLDS_MONEY = new Set<unknown>(["pending", "requires_action", "succeeded"]);

export class FakeStripeRefunds {
  readonly refunds = new Map<string, Obj>();
  /** When set, refund creation answers this error (e.g. a permanent `charge_disputed`) `count` times. */
  private readonly scripted = new ScriptedErrors();
  /** The status a new refund starts in: cards refund at once (`succeeded`); some methods stay `pending` a while. */
  nextStatus: "pending" | "succeeded" = "succeeded";

  constructor(private readonly host: RefundsHost) {}

  reset(): void {
    this.refunds.clear();
    this.scripted.clear();
    this.nextStatus = "succeeded";
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
    if (!refund) throw new StripeApiError(404, { type: "invalid_request_error", code: "resource_missing", param: "id", message: `No such refund: '${id}'` });
    return refund;
  }

  /** `POST /v1/refunds`: never more than what is left of the charge, never while a dispute holds it. */
  create(params: Obj): Obj {
    this.scripted.throwIfDue((status, body) => new StripeApiError(status, body));
    const paymentIntentId = typeof params.payment_intent === "string" ? params.payment_intent : "";
    const intent = this.host.paymentIntents.get(paymentIntentId);
    if (!intent) {
      throw new StripeApiError(404, { type: "invalid_request_error", code: "resource_missing", param: "payment_intent", message: `No such payment_intent: '${paymentIntentId}'` });
    }
    const charge = typeof intent.latest_charge === "string" ? this.host.charges.get(intent.latest_charge) : undefined;
    if (!charge || intent.status !== "succeeded") {
      throw new StripeApiError(400, { type: "invalid_request_error", code: "charge_not_found", message: "This PaymentIntent does not have a successful charge to refund." });
    }
    const chargebacks = this.host.chargebacks(String(charge.id));
    if (chargebacks.open) {
      throw new StripeApiError(400, { type: "invalid_request_error", code: "charge_disputed", message: `Charge ${String(charge.id)} has been charged back; cannot issue a refund.` });
    }
    const remaining = Number(charge.amount) - Number(charge.amount_refunded) - chargebacks.lost;
    if (params.amount !== undefined && (!Number.isInteger(Number(params.amount)) || Number(params.amount) < 1)) {
      throw invalidParam("amount", "Invalid positive integer", "parameter_invalid_integer");
    }
    if (remaining <= 0) {
      throw new StripeApiError(400, { type: "invalid_request_error", code: "charge_already_refunded", message: `Charge ${String(charge.id)} has already been refunded.` });
    }
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (amount > remaining) {
      throw new StripeApiError(400, { type: "invalid_request_error", code: "amount_too_large", param: "amount", message: `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining}).` });
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
      failure_reason: null,
      metadata: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, String(value)])),
      payment_intent: paymentIntentId,
      reason: typeof params.reason === "string" ? params.reason : null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: this.nextStatus,
      transfer_reversal: null,
    };
    this.refunds.set(refund.id as string, refund);
    charge.amount_refunded = Number(charge.amount_refunded) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    this.host.emit("refund.created", refund);
    this.host.emit("charge.refunded", charge);
    return structuredClone(refund);
  }

  /**
   * A refund's later life: a pending refund succeeds, or a refund fails (the card was closed: Stripe gives the money
   * back to our balance, even after `succeeded`) or is canceled. Sends `refund.updated` (and `refund.failed` for a
   * failure) plus the older `charge.refund.updated`; answers the events, newest last.
   */
  settle(refundId: string, status: "succeeded" | "failed" | "canceled", failureReason = "expired_or_canceled_card"): unknown[] {
    const refund = this.require(refundId);
    if (refund.status === "failed" || refund.status === "canceled") throw new Error(`refund ${refundId} is already ${String(refund.status)}`);
    const charge = this.host.charges.get(String(refund.charge));
    if (status !== "succeeded" && charge && HOLDS_MONEY.has(refund.status)) {
      charge.amount_refunded = Number(charge.amount_refunded) - Number(refund.amount);
      charge.refunded = charge.amount_refunded === charge.amount;
    }
    Object.assign(refund, { status, failure_reason: status === "failed" ? failureReason : null });
    const events = [this.host.emit("refund.updated", refund), this.host.emit("charge.refund.updated", refund)];
    if (status === "failed") events.push(this.host.emit("refund.failed", refund));
    return events;
  }

  private list(params: Obj): Obj {
    const refunds = [...this.refunds.values()]
      .filter((refund) => !params.payment_intent || refund.payment_intent === params.payment_intent)
      .filter((refund) => !params.charge || refund.charge === params.charge);
    return listPage(refunds, params, "/v1/refunds");
  }
}
