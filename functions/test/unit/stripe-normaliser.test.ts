// The Stripe event normaliser (src/payments/stripe.ts): every event type we subscribe to, and every dispute status,
// in our provider-neutral terms. Pure; no emulator. (Refund and dispute detail: money-state.test.ts.)
import assert from "node:assert/strict";
import type Stripe from "stripe";
import { disputeStatusOf, normaliseStripeEvent } from "../../src/payments/stripe";

const event = (type: string, object: Record<string, unknown>) => ({ id: "evt_1", type, created: 1_700_000_000, data: { object } }) as unknown as Stripe.Event;
const intent = {
  id: "pi_1",
  object: "payment_intent",
  amount: 10_000,
  amount_received: 10_000,
  currency: "czk",
  latest_charge: "ch_1",
  metadata: { donationId: "d1", wishId: "w1", donorId: "u1" },
  last_payment_error: null,
  cancellation_reason: null,
};
const transfer = {
  id: "tr_1",
  object: "transfer",
  amount: 9_500,
  amount_reversed: 0,
  currency: "czk",
  destination: "acct_1",
  created: 1_700_000_000,
  metadata: { wishId: "w1", seq: "2" },
  reversals: { data: [] },
};
const account = {
  id: "acct_1",
  object: "account",
  metadata: { uid: "u9" },
  capabilities: { transfers: "active" },
  payouts_enabled: true,
  details_submitted: true,
  requirements: { currently_due: [] },
};

describe("Stripe event normaliser: every type we map", () => {
  it("payment_intent.* become payment events with their status, our metadata and what Stripe received", () => {
    const statuses = {
      "payment_intent.processing": "processing",
      "payment_intent.succeeded": "succeeded",
      "payment_intent.payment_failed": "failed",
      "payment_intent.canceled": "canceled",
    } as const;
    for (const [type, status] of Object.entries(statuses)) {
      const normalised = normaliseStripeEvent(event(type, intent));
      assert.equal(normalised.kind, "payment", type);
      if (normalised.kind !== "payment") continue;
      assert.equal(normalised.status, status, type);
      assert.deepEqual(normalised.metadata, { donationId: "d1", wishId: "w1", donorId: "u1" });
      assert.equal(normalised.amountReceived, 10_000);
      assert.equal(normalised.currency, "CZK");
      assert.equal(normalised.chargeId, "ch_1");
      assert.equal(normalised.createdMs, 1_700_000_000_000);
      assert.equal(normalised.failureCode, status === "failed" ? "payment_failed" : null, type);
    }
  });

  it("a failed payment names the decline; a payment without our metadata carries none", () => {
    const declined = normaliseStripeEvent(event("payment_intent.payment_failed", { ...intent, last_payment_error: { code: "card_declined", decline_code: "insufficient_funds" } }));
    assert.equal(declined.kind === "payment" && declined.failureCode, "insufficient_funds");
    const foreign = normaliseStripeEvent(event("payment_intent.succeeded", { ...intent, metadata: { donationId: "d1" } }));
    assert.equal(foreign.kind === "payment" && foreign.metadata, null);
  });

  it("transfer.* become transfer events; account.updated an account event", () => {
    for (const type of ["transfer.created", "transfer.updated", "transfer.reversed"]) {
      const normalised = normaliseStripeEvent(event(type, transfer));
      assert.equal(normalised.kind, "transfer", type);
      assert.deepEqual(normalised.kind === "transfer" && { wishId: normalised.transfer.wishId, seq: normalised.transfer.seq, amount: normalised.transfer.amount }, {
        wishId: "w1",
        seq: 2,
        amount: 9_500,
      });
    }
    const updated = normaliseStripeEvent(event("account.updated", account));
    assert.deepEqual(updated.kind === "account" && updated.account, {
      accountId: "acct_1",
      uid: "u9",
      transfersActive: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      requirementsDue: [],
    });
    // Where it happened: a connected account's event carries it (the payments endpoint refuses those), the platform's not.
    assert.equal(normaliseStripeEvent({ ...event("account.updated", account), account: "acct_1" }).connectedAccount, "acct_1");
    assert.equal(updated.connectedAccount, null);
  });

  it("every dispute status Stripe documents maps to ours, and every dispute event carries it", () => {
    const expected = {
      warning_needs_response: "inquiry",
      warning_under_review: "inquiry",
      warning_closed: "inquiry_closed",
      prevented: "inquiry_closed",
      needs_response: "open",
      under_review: "open",
      won: "won",
      lost: "lost",
    } as const;
    for (const [stripeStatus, ours] of Object.entries(expected)) {
      assert.equal(disputeStatusOf(stripeStatus), ours, stripeStatus);
      const normalised = normaliseStripeEvent(event("charge.dispute.updated", { id: "du_1", amount: 500, currency: "czk", charge: "ch_1", payment_intent: "pi_1", status: stripeStatus }));
      assert.equal(normalised.kind === "dispute" && normalised.status, ours, stripeStatus);
    }
  });

  it("a type we do not subscribe to is ignored, keeping its id and type for the record", () => {
    const normalised = normaliseStripeEvent(event("customer.created", { id: "cus_1" }));
    assert.deepEqual(normalised, { provider: "stripe", eventId: "evt_1", type: "customer.created", createdMs: 1_700_000_000_000, connectedAccount: null, kind: "ignored" });
  });
});
