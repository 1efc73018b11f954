// The pure money rules of issue 12: the donation fold (refund statuses, what Stripe received, inquiries and
// chargebacks), the refund planner and the refund request's state machine, the audit's judgement, and the
// normalisation of Stripe's events and errors. No emulator.
import assert from "node:assert/strict";
import fc from "fast-check";
import type Stripe from "stripe";
import { heldBy, judge, ledgerFigures, waitingForTheBank } from "../../src/settlement/audit";
import { nextRequestChange, refundPlan } from "../../src/closing/refunds";
import type { RefundPlan } from "../../src/closing/refunds";
import { applyEvent, displayStatus, ledgerEntriesOf } from "../../src/donations/state";
import type { MoneyEvent, MoneyState } from "../../src/donations/state";
import type { RefundRequest } from "../../src/model/closing";
import type { Donation, RefundStatus } from "../../src/model/donation";
import { PaymentProviderError } from "../../src/payments/provider";
import { disputeStatusOf, normaliseStripeEvent, refundStatusOf } from "../../src/payments/stripe";

const now = new Date("2026-11-30T10:00:00Z");
const base: MoneyState = {
  amount: 10_000,
  amountReceived: null,
  paymentStatus: "pending",
  paymentStatusAt: null,
  failureCode: null,
  cancellationReason: null,
  paymentIntentId: "pi_1",
  chargeId: null,
  refunds: {},
  disputes: {},
  succeededAt: null,
};

let seq = 0;
const succeeded = (amountReceived = 10_000): MoneyEvent => ({
  provider: "stripe",
  kind: "payment",
  eventId: `evt_${++seq}`,
  type: "payment_intent.succeeded",
  createdMs: 1_000,
  status: "succeeded",
  paymentIntentId: "pi_1",
  metadata: { donationId: "d", wishId: "w", donorId: "u" },
  amountReceived,
  currency: "CZK",
  chargeId: "ch_1",
  failureCode: null,
  cancellationReason: null,
});
const refund = (id: string, amount: number, status: RefundStatus): MoneyEvent => ({
  provider: "stripe",
  kind: "refund",
  eventId: `evt_${++seq}`,
  type: "refund.updated",
  createdMs: 2_000,
  paymentIntentId: "pi_1",
  chargeId: "ch_1",
  currency: "CZK",
  refunds: [{ id, amount, status }],
});
const dispute = (status: "inquiry" | "inquiry_closed" | "open" | "won" | "lost", amount = 10_000): MoneyEvent => ({
  provider: "stripe",
  kind: "dispute",
  eventId: `evt_${++seq}`,
  type: "charge.dispute.updated",
  createdMs: 3_000,
  paymentIntentId: "pi_1",
  chargeId: "ch_1",
  disputeId: "du_1",
  amount,
  currency: "CZK",
  status,
});

const fold = (events: MoneyEvent[]) => events.reduce((state, event) => applyEvent(state, event, now), base);
const entries = (state: MoneyState) => ledgerEntriesOf(state).map((entry) => `${entry.kind}:${entry.amount}`);
const net = (state: MoneyState) => ledgerEntriesOf(state).reduce((sum, entry) => sum + entry.amount, 0);

describe("money state: the donation fold (refund statuses, amount received, disputes)", () => {
  it("a refund that succeeds books −amount; one that fails or is canceled afterwards books it back (net 0); pending books nothing", () => {
    assert.deepEqual(entries(fold([succeeded(), refund("re_1", 4_000, "pending")])), ["charge:10000"]);
    assert.deepEqual(entries(fold([succeeded(), refund("re_1", 4_000, "succeeded")])), ["charge:10000", "refund:-4000"]);
    assert.deepEqual(entries(fold([succeeded(), refund("re_1", 4_000, "succeeded"), refund("re_1", 4_000, "failed")])), ["charge:10000", "refund:-4000", "refund_failed:4000"]);
    assert.equal(net(fold([succeeded(), refund("re_1", 4_000, "pending"), refund("re_1", 4_000, "canceled")])), 10_000);
  });

  it("whatever the order and number of deliveries, a refund's lifecycle ends in the same state and ledger", () => {
    const lifecycles: RefundStatus[][] = [["pending", "succeeded"], ["pending", "succeeded", "failed"], ["pending", "canceled"], ["succeeded", "failed"]];
    fc.assert(
      fc.property(fc.constantFrom(...lifecycles), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (lifecycle, picks) => {
        const events = [succeeded(), ...lifecycle.map((status) => refund("re_1", 3_000, status))];
        const shuffled = picks.map((pick) => events[pick % events.length] as MoneyEvent);
        const inOrder = fold(events);
        const anyOrder = fold([...events, ...shuffled].reverse());
        assert.deepEqual(anyOrder.refunds, inOrder.refunds);
        assert.deepEqual(entries(anyOrder), entries(inOrder));
      }),
    );
  });

  it("books what Stripe received: the charge books the amount asked, an adjustment the difference, once", () => {
    const state = fold([succeeded(9_500), succeeded(9_500)]);
    assert.equal(state.amountReceived, 9_500);
    assert.deepEqual(entries(state), ["charge:10000", "charge_adjustment:-500"]);
    assert.equal(net(state), 9_500);
    // A refund that proves the charge first: the adjustment follows when the payment event comes.
    assert.deepEqual(entries(fold([refund("re_1", 1_000, "succeeded")])), ["charge:10000", "refund:-1000"]);
    assert.equal(net(fold([refund("re_1", 1_000, "succeeded"), succeeded(9_500)])), 8_500);
    assert.equal(displayStatus(fold([succeeded(9_500), refund("re_1", 9_500, "succeeded")])), "refunded");
  });

  it("an inquiry moves no money; a chargeback withdraws; won gives back; lost keeps out; never backwards", () => {
    assert.deepEqual(entries(fold([succeeded(), dispute("inquiry")])), ["charge:10000"]);
    assert.deepEqual(entries(fold([succeeded(), dispute("inquiry"), dispute("inquiry_closed")])), ["charge:10000"]);
    assert.equal(fold([dispute("inquiry")]).paymentStatus, "pending", "an inquiry does not prove the payment");
    assert.deepEqual(entries(fold([succeeded(), dispute("inquiry"), dispute("open")])), ["charge:10000", "dispute:-10000"]);
    assert.deepEqual(entries(fold([succeeded(), dispute("won"), dispute("open")])), ["charge:10000", "dispute:-10000", "dispute_reinstated:10000"]);
    assert.deepEqual(entries(fold([succeeded(), dispute("open", 4_000), dispute("lost", 4_000)])), ["charge:10000", "dispute:-4000"]);
    assert.equal(displayStatus(fold([succeeded(), dispute("open")])), "disputed");
    assert.equal(displayStatus(fold([succeeded(), dispute("open"), dispute("won")])), "succeeded");
    assert.equal(displayStatus(fold([succeeded(), dispute("inquiry")])), "succeeded");
  });
});

const view = (over: Partial<Donation> = {}) => ({ paymentStatus: "succeeded" as const, netAmount: 10_000, refunds: {}, disputes: {}, ...over });

function request(status: RefundRequest["status"], over: Partial<RefundRequest> = {}): RefundRequest {
  return {
    donationId: "d",
    wishId: "w",
    donorId: "u",
    amount: null,
    currency: "CZK",
    paymentIntentId: "pi_1",
    reason: "closed",
    status,
    generation: 0,
    attempts: 0,
    providerRefundId: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
    requestedAt: null,
    completedAt: null,
    ...over,
  };
}

describe("refunds: what a donation of a closed wish needs, and how its request follows", () => {
  it("refunds what is still refundable: held money less refunds on their way; waits for an open chargeback; done when nothing is left", () => {
    assert.deepEqual(refundPlan(view()), { kind: "refund", amount: 10_000 });
    assert.deepEqual(refundPlan(view({ netAmount: 6_000, refunds: { re_d: { amount: 4_000, status: "succeeded" } } })), { kind: "refund", amount: 6_000 });
    assert.deepEqual(refundPlan(view({ refunds: { re_p: { amount: 4_000, status: "pending" } } })), { kind: "refund", amount: 6_000 });
    assert.deepEqual(refundPlan(view({ refunds: { re_p: { amount: 10_000, status: "pending" } } })), { kind: "wait_refunds" });
    assert.deepEqual(refundPlan(view({ netAmount: 0, disputes: { du: { status: "open", amount: 10_000 } } })), { kind: "wait_dispute" });
    assert.deepEqual(refundPlan(view({ netAmount: 0, refunds: { re: { amount: 10_000, status: "succeeded" } } })), { kind: "done", status: "succeeded" });
    assert.deepEqual(refundPlan(view({ netAmount: 0, disputes: { du: { status: "lost", amount: 10_000 } } })), { kind: "done", status: "settled" });
    assert.deepEqual(refundPlan(view({ paymentStatus: "processing", netAmount: 0 })), { kind: "none" });
  });

  it("the request moves forward only: Stripe's truth completes it whichever arrives first; more money starts a new generation", () => {
    const refund: RefundPlan = { kind: "refund", amount: 10_000 };
    const done: RefundPlan = { kind: "done", status: "succeeded" };
    assert.deepEqual(nextRequestChange(undefined, refund, undefined), { kind: "create", status: "queued" });
    assert.deepEqual(nextRequestChange(undefined, { kind: "wait_dispute" }, undefined), { kind: "create", status: "disputed" });
    assert.deepEqual(nextRequestChange(undefined, done, undefined), { kind: "none" }, "nothing was ours to refund");
    assert.deepEqual(nextRequestChange(request("queued"), done, undefined), { kind: "finish", status: "succeeded" }, "the webhook came before the task's answer");
    assert.deepEqual(nextRequestChange(request("succeeded"), done, undefined), { kind: "none" }, "never back");
    assert.deepEqual(nextRequestChange(request("queued"), refund, undefined), { kind: "none" }, "the task will ask");
    assert.deepEqual(nextRequestChange(request("requested", { providerRefundId: "re" }), refund, { amount: 5_000, status: "pending" }), { kind: "none" });
    assert.deepEqual(nextRequestChange(request("requested", { providerRefundId: "re" }), refund, { amount: 5_000, status: "succeeded" }), { kind: "next", reason: "remainder" });
    assert.deepEqual(nextRequestChange(request("disputed"), refund, undefined), { kind: "next", reason: "dispute_won" });
    assert.deepEqual(nextRequestChange(request("disputed"), { kind: "done", status: "settled" }, undefined), { kind: "finish", status: "settled" });
    assert.deepEqual(nextRequestChange(request("queued"), { kind: "wait_dispute" }, undefined), { kind: "status", status: "disputed" });
    assert.deepEqual(nextRequestChange(request("failed"), refund, undefined), { kind: "none" }, "a failed request waits for ops");
    assert.deepEqual(nextRequestChange(request("failed"), done, undefined), { kind: "finish", status: "succeeded" }, "…unless the donor got it all back meanwhile");
    const failedAtStripe = nextRequestChange(request("succeeded", { providerRefundId: "re" }), refund, { amount: 10_000, status: "failed" });
    assert.equal(failedAtStripe.kind, "fail");
    assert.equal(failedAtStripe.kind === "fail" && failedAtStripe.code, "refund_failed");
    const exhausted = nextRequestChange(request("succeeded", { generation: 11 }), refund, undefined);
    assert.equal(exhausted.kind === "fail" && exhausted.code, "too_many_generations");
  });
});

const figures = (over: Partial<ReturnType<typeof ledgerFigures>> = {}) => ({ charges: 30_000, refunds: 0, disputes: 0, transfers: 0, fee: 0, ...over });
const wish = (status: "open" | "funded" | "closed" | "expired", raised: number) => ({ status, raised, ownerId: "olga", currency: "CZK" as const });

describe("the money audit: figures and the invariant", () => {
  it("our figures come from the ledger: charges − refunds − disputes − transfers − fee = held", () => {
    const ours = ledgerFigures(
      [
        { kind: "charge", amount: 30_000 },
        { kind: "charge_adjustment", amount: -500 },
        { kind: "refund", amount: -4_000 },
        { kind: "refund_failed", amount: 4_000 },
        { kind: "refund", amount: -2_000 },
        { kind: "dispute", amount: -5_000 },
        { kind: "dispute_reinstated", amount: 5_000 },
        { kind: "dispute", amount: -1_000 },
        { kind: "payout", amount: -20_000 },
        { kind: "payout_reversal", amount: 3_000 },
      ],
      500,
    );
    assert.deepEqual(ours, { charges: 29_500, refunds: 2_000, disputes: 1_000, transfers: 17_000, fee: 500 });
    assert.equal(heldBy(ours), 9_000);
  });

  it("judges each breach with a cause, and nothing when the books are right", () => {
    const donation = (id: string, over: Partial<Donation> = {}) => ({ id, ...view(over) }) as Donation & { id: string };
    assert.deepEqual(judge(wish("open", 30_000), "w", undefined, [], new Map(), figures(), figures()), []);
    assert.deepEqual(judge(wish("closed", 0), "w", undefined, [], new Map(), figures({ refunds: 30_000 }), figures({ refunds: 30_000 })), []);
    assert.deepEqual(judge(wish("funded", 30_000), "w", { status: "paid", paidAmount: 30_000, shortfall: 0 }, [], new Map(), figures({ transfers: 30_000 }), figures({ transfers: 30_000 })), []);

    const disagree = judge(wish("open", 30_000), "w", undefined, [], new Map(), figures(), figures({ refunds: 5_000 }));
    assert.deepEqual(disagree.map((breach) => breach.kind), ["stripe_disagrees"]);
    assert.match(disagree[0]?.suspectedCause ?? "", /refunds: ours 0, Stripe 5000 \(Stripe shows more: a refund\.\* webhook never arrived/);

    const drift = judge(wish("open", 7), "w", undefined, [], new Map(), figures(), figures());
    assert.deepEqual(drift.map((breach) => breach.kind), ["ledger_totals_drift"]);

    const holding = judge(wish("closed", 30_000), "w", undefined, [donation("d1", { netAmount: 30_000 })], new Map([["d1", { status: "failed", lastError: "refund_failed" }]]), figures(), figures());
    assert.deepEqual(holding.map((breach) => breach.kind), ["closed_wish_holds_money"]);
    assert.match(holding[0]?.suspectedCause ?? "", /d1: its refund failed \(refund_failed\)/);
    assert.deepEqual(holding[0]?.donations, [{ donationId: "d1", held: 30_000, cause: "its refund failed (refund_failed): see ops/refundFailures" }]);

    const chargeback = [donation("d1", { netAmount: 30_000, disputes: { du: { status: "open", amount: 1 } } })];
    assert.equal(waitingForTheBank(chargeback), 30_000);
    assert.deepEqual(judge(wish("closed", 30_000), "w", undefined, chargeback, new Map(), figures(), figures()), [], "money an open chargeback blocks is waiting for the bank");

    const late = judge(wish("funded", 35_000), "w", { status: "paid", paidAmount: 30_000, shortfall: 0 }, [], new Map(), figures({ charges: 35_000, transfers: 30_000 }), figures({ charges: 35_000, transfers: 30_000 }));
    assert.deepEqual(late.map((breach) => breach.kind), ["paid_out_wish_holds_money"]);

    const loss = judge(wish("funded", 20_000), "w", { status: "paid", paidAmount: 30_000, shortfall: 10_000 }, [], new Map(), figures({ disputes: 10_000, transfers: 30_000 }), figures({ disputes: 10_000, transfers: 30_000 }));
    assert.deepEqual(loss.map((breach) => breach.kind), ["platform_loss"]);
    assert.equal(loss[0]?.held, -10_000);
  });
});

describe("Stripe in our terms: events and errors", () => {
  const event = (type: string, object: Record<string, unknown>) => ({ id: "evt_1", type, created: 1_700_000_000, data: { object } }) as unknown as Stripe.Event;
  const refundObject = { id: "re_1", object: "refund", amount: 2_500, currency: "czk", charge: "ch_1", payment_intent: "pi_1", status: "requires_action" };

  it("refund.* and charge.refund.updated carry one refund; charge.refunded only when it still lists its refunds", () => {
    for (const type of ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"]) {
      const normalised = normaliseStripeEvent(event(type, refundObject));
      assert.equal(normalised.kind, "refund");
      assert.deepEqual(normalised.kind === "refund" && normalised.refunds, [{ id: "re_1", amount: 2_500, status: "pending" }]);
    }
    assert.equal(normaliseStripeEvent(event("charge.refunded", { id: "ch_1", object: "charge", amount_refunded: 2_500, currency: "czk", payment_intent: "pi_1" })).kind, "ignored");
    const listed = normaliseStripeEvent(
      event("charge.refunded", { id: "ch_1", object: "charge", currency: "czk", payment_intent: "pi_1", refunds: { data: [{ ...refundObject, status: "succeeded" }, { ...refundObject, id: "re_2", status: "failed" }] } }),
    );
    assert.deepEqual(listed.kind === "refund" && listed.refunds.map((item) => `${item.id}:${item.status}`), ["re_1:succeeded", "re_2:failed"]);
    assert.deepEqual(["pending", "requires_action", "succeeded", "failed", "canceled", null].map(refundStatusOf), ["pending", "pending", "succeeded", "failed", "canceled", "pending"]);
  });

  it("dispute statuses: inquiries move no money, chargebacks do", () => {
    assert.deepEqual(
      ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost", "prevented"].map(disputeStatusOf),
      ["inquiry", "inquiry", "inquiry_closed", "open", "open", "won", "lost", "inquiry_closed"],
    );
    for (const type of ["charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"]) {
      assert.equal(normaliseStripeEvent(event(type, { id: "du_1", amount: 1, currency: "czk", charge: "ch_1", payment_intent: "pi_1", status: "needs_response" })).kind, "dispute");
    }
  });

  it("a canceled payment says why", () => {
    const canceled = normaliseStripeEvent(event("payment_intent.canceled", { id: "pi_1", amount: 1, amount_received: 0, currency: "czk", metadata: {}, cancellation_reason: "abandoned" }));
    assert.equal(canceled.kind === "payment" && canceled.cancellationReason, "abandoned");
  });

  it("only an answered 4xx (not 409, not 429) means Stripe did not do it; anything else leaves the outcome unknown", () => {
    const refused = (status: number | null) => new PaymentProviderError("x", "code", status).refused;
    assert.deepEqual([400, 402, 404, 409, 429, 500, 503, null].map(refused), [true, true, true, false, false, false, false, false]);
  });
});
