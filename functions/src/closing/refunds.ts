import { createHash } from "node:crypto";
import type { DocumentSnapshot, Firestore, Transaction } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { z } from "zod";
import { addToOutbox, encodeEventId } from "../events/outbox";
import { OUTBOX } from "../events/schema";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import { zodConverter } from "../lib/converter";
import type { TaskEnqueuer } from "../lib/tasks";
import { REFUND_FAILURES, REFUND_REQUESTS, queuedOverdue, refundFailureSchema, refundRequestSchema } from "../model/closing";
import type { RefundFailure, RefundRequest, RefundRequestStatus } from "../model/closing";
import { DONATIONS, disputeStateSchema, donationSchema, refundStateSchema } from "../model/donation";
import type { Donation, RefundState } from "../model/donation";
import type { Wish } from "../model/wish";
import { PaymentProviderError } from "../payments/provider";
import type { DisputeEvent, RefundEvent } from "../payments/provider";
import type { ClosingProvider, ClosingProviderOf, ProviderDispute, ProviderRefund } from "../payments/refunds";
import { wishRef } from "../store/wishes";
import { refs } from "../store/donations";

/**
 * Refunds (F9, F16): every cent a donor gave to a wish that closed or expired goes back to them, exactly once.
 *
 * One `refundRequests/{donationId}` per donation of a closed or expired wish, and one `refundDonation` task per
 * generation of it. What to refund is always computed from the donation's ledger state — what the wish still holds of
 * it (`netAmount`: charge − succeeded refunds − dispute withdrawals) less the refunds on their way — never a stale full
 * amount. The request is settled level-triggered by {@link settleDonation}: at close, after every change of the
 * donation's money (a late payment, a dashboard refund, a dispute that closed, a refund that failed) and by the money
 * audit, so the same state always leads to the same request state, whichever event arrives first.
 *
 * Before it calls the provider, a task first learns what the provider already did for the payment (refunds made in the
 * dashboard or by an attempt whose answer was lost, disputes) and folds it into the ledger through the webhook's own
 * handler. Each generation asks for one amount, fixed at its first attempt, under its own idempotency key, so a retried
 * or duplicated task replays the same request; and Stripe never refunds more than is left of the charge.
 */
export const REFUND_QUEUE = "refundDonation";

/** Cloud Tasks attempts per refund task (the queue's retryConfig.maxAttempts, wired in index.ts). */
export const REFUND_MAX_ATTEMPTS = 8;

/**
 * Automatic generations stop here: a donation that would need more waits for ops (`too_many_generations`). An ops
 * retry (`reopenRefund`) is a deliberate human action and is not capped: each one adds one generation past it.
 */
export const MAX_REFUND_GENERATIONS = 12;

/** Stripe said more was asked than is left to refund: learn what was refunded and ask for the rest (a new generation). */
const REMAINDER_CODES = new Set(["amount_too_large", "charge_already_refunded"]);

export const refundTaskPayload = z.object({
  donationId: idSchema,
  generation: z.number().int().min(0),
});
export type RefundTaskPayload = z.infer<typeof refundTaskPayload>;

export interface RefundDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
}

/** What the refund task needs besides: the providers, and the donations ledger's own event handler. */
export interface RefundTaskDeps extends RefundDeps {
  /** The closing port of the donation's provider (Stripe, BTCPay, Fio), chosen by `donation.provider`. */
  providerOf: ClosingProviderOf;
  /** Folds a provider event into the donation exactly as its webhook would (src/donations/ledger.ts, injected). */
  applyProviderEvent: (event: RefundEvent | DisputeEvent) => Promise<unknown>;
}

const requestConverter = zodConverter(refundRequestSchema);
const failureConverter = zodConverter(refundFailureSchema);

export const refundRequestRef = (db: Firestore, donationId: string) => db.collection(REFUND_REQUESTS).doc(donationId).withConverter(requestConverter);
export const refundFailureRef = (db: Firestore, donationId: string) => db.collection(REFUND_FAILURES).doc(donationId).withConverter(failureConverter);
const donationRef = (db: Firestore, donationId: string) => refs.donation(db, donationId);

export function refundTaskId(donationId: string, generation: number): string {
  return `rf-${createHash("sha256").update(`${donationId}|${generation}`).digest("hex").slice(0, 40)}`;
}

/** Stripe keeps an idempotency key for 24 h; the task's retries all happen well inside that. */
export function refundIdempotencyKey(donationId: string, generation: number): string {
  return generation === 0 ? `refund-${donationId}` : `refund-${donationId}-g${generation}`;
}

// ---- what a donation needs (pure) ----

/** The parts of a donation that decide what is left to refund. */
export type RefundView = Pick<Donation, "paymentStatus" | "netAmount" | "refunds" | "disputes">;

export type RefundPlan =
  | { kind: "none" }
  | { kind: "refund"; amount: number }
  | { kind: "wait_dispute" }
  | { kind: "wait_refunds" }
  | { kind: "done"; status: "succeeded" | "settled" };

const sumRefunds = (refunds: Record<string, RefundState>, status: RefundState["status"]) =>
  Object.values(refunds).reduce((sum, refund) => sum + (refund.status === status ? refund.amount : 0), 0);

/**
 * What a donation of a closed or expired wish still needs. `netAmount` is what the wish still holds of it; refunds on
 * their way are already spoken for; an open chargeback keeps the money away (Stripe refuses refunds meanwhile) until
 * the bank decides; when nothing is left, the donor has everything back: by our refunds (`succeeded`), or partly by
 * their bank through a lost chargeback (`settled`). `keep` is what the wish keeps of it: nothing for a closed or expired
 * wish; the amount asked for an over-paid bitcoin or bank-transfer donation to an open wish (the excess goes back).
 */
export function refundPlan(donation: RefundView, keep = 0): RefundPlan {
  if (donation.paymentStatus !== "succeeded") return { kind: "none" };
  if (Object.values(donation.disputes).some((dispute) => dispute.status === "open")) return { kind: "wait_dispute" };
  const pending = sumRefunds(donation.refunds, "pending");
  const need = donation.netAmount - keep - pending;
  if (need > 0) return { kind: "refund", amount: need };
  if (pending > 0) return { kind: "wait_refunds" };
  const lost = Object.values(donation.disputes).some((dispute) => dispute.status === "lost");
  return { kind: "done", status: lost ? "settled" : "succeeded" };
}

export type RequestChange =
  | { kind: "none" }
  | { kind: "create"; status: "queued" | "disputed" }
  | { kind: "status"; status: "requested" | "disputed" }
  | { kind: "finish"; status: "succeeded" | "settled" }
  | { kind: "fail"; code: string; detail: string }
  | { kind: "next"; reason: RefundRequest["reason"] };

/**
 * How the request follows the donation's money (pure; unit-tested for every state). Forward only: a succeeded request
 * never goes back to requested; more money to refund (a won dispute, a remainder) starts a new generation instead.
 * A failed request waits for ops unless the donor got everything back meanwhile.
 */
export function nextRequestChange(request: RefundRequest | undefined, plan: RefundPlan, lastRefund: RefundState | undefined): RequestChange {
  if (!request) {
    if (plan.kind === "refund") return { kind: "create", status: "queued" };
    if (plan.kind === "wait_dispute") return { kind: "create", status: "disputed" };
    return { kind: "none" };
  }
  const status = request.status;
  if (plan.kind === "none") return { kind: "none" };
  if (plan.kind === "done") return status === "succeeded" || status === "settled" ? { kind: "none" } : { kind: "finish", status: plan.status };
  if (status === "failed") return { kind: "none" };
  if (lastRefund && (lastRefund.status === "failed" || lastRefund.status === "canceled") && status !== "queued") {
    return { kind: "fail", code: `refund_${lastRefund.status}`, detail: `Stripe reports refund ${request.providerRefundId ?? ""} ${lastRefund.status}; the money is back in our balance.` };
  }
  if (plan.kind === "wait_dispute") return status === "disputed" || status === "requested" ? { kind: "none" } : { kind: "status", status: "disputed" };
  if (plan.kind === "wait_refunds") return status === "disputed" ? { kind: "status", status: "requested" } : { kind: "none" };
  // More is refundable than the refunds on their way cover.
  if (status === "queued") return { kind: "none" };
  if (status === "requested" && lastRefund?.status === "pending") return { kind: "none" };
  if (request.generation + 1 >= MAX_REFUND_GENERATIONS) {
    return { kind: "fail", code: "too_many_generations", detail: `Still ${plan.amount} to refund after ${request.generation + 1} refund requests.` };
  }
  return { kind: "next", reason: status === "disputed" ? "dispute_won" : "remainder" };
}

// ---- settling a donation (level-triggered) ----

export type SettleOutcome = "missing" | "not-closing" | RequestChange["kind"];

function newRequest(donation: Donation, donationId: string, reason: RefundRequest["reason"], status: RefundRequestStatus, now: Date): RefundRequest {
  return {
    donationId,
    wishId: donation.wishId,
    donorId: donation.donorId,
    amount: null,
    currency: donation.currency,
    paymentIntentId: donation.paymentIntentId,
    reason,
    status,
    generation: 0,
    attempts: 0,
    providerRefundId: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
    requestedAt: null,
    completedAt: null,
  };
}

/**
 * What an open wish keeps of an over-paid donation: the amount asked. Only where the donor chose the amount sent (a
 * bitcoin invoice or bank transfer paid with more); a card payment is charged exactly. Null: nothing to give back.
 */
export function overpaymentKeep(donation: Pick<Donation, "provider" | "amount" | "amountReceived">): number | null {
  return donation.provider !== "stripe" && donation.amountReceived !== null && donation.amountReceived > donation.amount ? donation.amount : null;
}

/**
 * What a refund leaves with the wish, decided by the wish as it is now, never by the generation's reason: nothing once
 * it closed, expired or is gone; otherwise all but an over-payment's excess. A request's reason names why its latest
 * generation was made (an ops retry, a remainder, a won dispute), so an over-payment's request retried by ops or
 * requeued for a remainder, while its wish stays open, still gives back only the excess, never the donation itself.
 */
function keptFor(donation: Donation, wish: Pick<Wish, "status"> | undefined): number {
  if (!wish || wish.status === "closed" || wish.status === "expired") return 0;
  return overpaymentKeep(donation) ?? donation.netAmount;
}

/**
 * Brings `refundRequests/{donationId}` in line with the donation's money, in one transaction, and enqueues the task
 * when a generation is queued. Safe to call any number of times from anywhere (the close fan-out, the donation
 * trigger, the task, the audit, ops): the same state gives the same answer. `reason` names why a new request is made
 * (default: the wish's own status; a deleted wish counts as closed). A wish that is not closed or expired is left
 * alone, except for an over-payment (docs/donations.md, "Paid another amount"): the excess over the amount asked goes
 * back (reason `overpayment`).
 */
export async function settleDonation(
  deps: RefundDeps,
  donationId: string,
  options: { reason?: RefundRequest["reason"]; wishStatus?: string; wishId?: string; closedAt?: Date | null } = {},
): Promise<SettleOutcome> {
  const ref = donationRef(deps.db, donationId);
  let { wishStatus, closedAt } = options;
  if (wishStatus === undefined) {
    const wishId = options.wishId ?? (await ref.get()).data()?.wishId;
    if (!wishId) return "missing";
    const wish = (await wishRef(deps.db, wishId).get()).data();
    // A wish that no longer exists (deleteWish, or an admin) has nobody to pay out to: money that reaches it (a payment
    // that was still pending when it was deleted) goes back, as for a closed wish.
    wishStatus = wish ? wish.status : "closed";
    closedAt = wish?.closedAt;
    if (!wish) logger.warn("donation to a wish that no longer exists: settled as closed", { donationId, wishId });
  }
  const closing = wishStatus === "closed" || wishStatus === "expired";
  const closingReason: RefundRequest["reason"] = wishStatus === "closed" || wishStatus === "expired" ? (options.reason ?? wishStatus) : "overpayment";
  const requestDoc = refundRequestRef(deps.db, donationId);
  const result = await deps.db.runTransaction(async (tx) => {
    const [donationSnap, requestSnap] = await Promise.all([tx.get(ref), tx.get(requestDoc)]);
    const donation = donationSnap.data();
    if (!donation) return { change: { kind: "none" } as RequestChange, queued: undefined, missing: true, open: false, generation: undefined };
    const request = requestSnap.data();
    const keep = closing ? 0 : overpaymentKeep(donation);
    if (keep === null || (!closing && request && request.reason !== "overpayment")) return { change: { kind: "none" } as RequestChange, queued: undefined, missing: false, open: true, generation: undefined };
    const lastRefund = request?.providerRefundId ? donation.refunds[request.providerRefundId] : undefined;
    const change = nextRequestChange(request, refundPlan(donation, keep), lastRefund);
    // A payment that succeeded after its wish closed is a late donation, whichever trigger notices it first.
    const late = (closingReason === "closed" || closingReason === "expired") && closedAt && donation.succeededAt && donation.succeededAt > closedAt;
    const applied = await applyChange(deps, tx, donationId, donation, request, change, late ? "late_donation" : closingReason);
    // A request left `queued` by a call whose enqueue failed after its commit has no task: every later settle enqueues
    // its generation again (the deterministic task id refuses a duplicate of a task that exists).
    const queued = applied ?? (change.kind === "none" && request?.status === "queued" ? request.generation : undefined);
    return { change, queued, missing: false, open: false, generation: request?.generation };
  });
  if (result.missing) return "missing";
  if (result.open) return "not-closing";
  if (result.queued !== undefined) await enqueueRefund(deps, donationId, result.queued);
  if (result.change.kind !== "none") logger.info("refund request settled", { donationId, change: result.change.kind, ...("status" in result.change ? { status: result.change.status } : {}) });
  // The refund-failed alert's line, as the task logs it: a refund the provider failed after accepting it (a closed card,
  // an archived pull payment, a refused bank order) or too many generations lands in the ops queue here.
  if (result.change.kind === "fail") logger.error("refund failed; queued for ops", { donationId, generation: result.generation, code: result.change.code });
  return result.change.kind;
}

/** Writes one {@link RequestChange}; answers the generation to enqueue, if one was queued. */
async function applyChange(
  deps: Pick<RefundDeps, "db" | "clock">,
  tx: Transaction,
  donationId: string,
  donation: Donation,
  request: RefundRequest | undefined,
  change: RequestChange,
  reason: RefundRequest["reason"],
): Promise<number | undefined> {
  const now = deps.clock.now();
  const requestDoc = refundRequestRef(deps.db, donationId);
  switch (change.kind) {
    case "none":
      return undefined;
    case "create":
      tx.create(requestDoc, newRequest(donation, donationId, reason, change.status, now));
      return change.status === "queued" ? 0 : undefined;
    case "status":
      tx.update(requestDoc, { status: change.status, updatedAt: now });
      return undefined;
    case "next": {
      const generation = (request?.generation ?? 0) + 1;
      tx.update(requestDoc, { status: "queued", generation, reason: change.reason, amount: null, providerRefundId: null, lastError: null, requestedAt: null, updatedAt: now });
      return generation;
    }
    case "finish":
      await finish(deps, tx, donationId, donation, request, change.status, now);
      return undefined;
    case "fail":
      if (request) failWrites(deps.db, tx, request, change.code, change.detail, now);
      return undefined;
  }
}

/**
 * Nothing of the donor's money is left with us: the request is final, an open ops failure is resolved, and the donor
 * hears of their refund once (`refund.processed:{donationId}`, not for a donor whose bank settled it).
 */
async function finish(
  deps: Pick<RefundDeps, "db">,
  tx: Transaction,
  donationId: string,
  donation: Donation,
  request: RefundRequest | undefined,
  status: "succeeded" | "settled",
  now: Date,
): Promise<void> {
  const failureDoc = refundFailureRef(deps.db, donationId);
  const eventId = `refund.processed:${donationId}`;
  const [failure, published] = await Promise.all([tx.get(failureDoc), tx.get(deps.db.collection(OUTBOX).doc(encodeEventId(eventId)))]);
  if (!request) return;
  tx.update(refundRequestRef(deps.db, donationId), { status, completedAt: now, updatedAt: now, lastError: null });
  if (failure.exists && !failure.data()?.resolvedAt) tx.update(failureDoc, { resolvedAt: now });
  const refunded = sumRefunds(donation.refunds, "succeeded");
  if (status === "succeeded" && refunded > 0 && !published.exists) {
    addToOutbox(
      deps.db,
      tx,
      { id: eventId, type: "refund.processed", wishId: donation.wishId, donationId, donorId: donation.donorId, amount: refunded, currency: donation.currency },
      now,
    );
  }
}

/** The request waits for ops: `failed`, and its item in `ops/refundFailures/items/{donationId}`. */
function failWrites(db: Firestore, tx: Transaction, request: RefundRequest, code: string, detail: string, now: Date): void {
  tx.update(refundRequestRef(db, request.donationId), { status: "failed", lastError: code, updatedAt: now });
  const failure: RefundFailure = {
    donationId: request.donationId,
    wishId: request.wishId,
    donorId: request.donorId,
    amount: request.amount,
    currency: request.currency,
    code,
    detail: detail.slice(0, 500),
    attempts: request.attempts,
    failedAt: now,
    resolvedAt: null,
  };
  tx.set(refundFailureRef(db, request.donationId), failure);
}

export async function enqueueRefund(deps: Pick<RefundDeps, "tasks">, donationId: string, generation: number): Promise<void> {
  const payload: RefundTaskPayload = { donationId, generation };
  await deps.tasks.enqueue(REFUND_QUEUE, payload, { id: refundTaskId(donationId, generation) });
}

/** Every succeeded donation of a wish that closed or expired is settled (refund requests and tasks). Paged by id. */
export async function fanOutRefunds(deps: RefundDeps, wishId: string, reason: "closed" | "expired"): Promise<{ queued: number }> {
  const closedAt = (await wishRef(deps.db, wishId).get()).data()?.closedAt ?? null;
  let queued = 0;
  let last: string | undefined;
  for (;;) {
    let query = deps.db.collection(DONATIONS).where("wishId", "==", wishId).where("paymentStatus", "==", "succeeded").orderBy("__name__").limit(300);
    if (last) query = query.startAfter(last);
    const page = await query.get();
    for (const doc of page.docs) {
      if ((await settleDonation(deps, doc.id, { reason, wishStatus: reason, closedAt })) === "create") queued++;
    }
    if (page.size < 300) break;
    last = page.docs[page.docs.length - 1]?.id;
  }
  logger.info("refunds fanned out", { wishId, reason, queued });
  return { queued };
}

export type ReopenOutcome =
  | { outcome: "queued"; generation: number }
  | { outcome: "waiting-dispute" }
  | { outcome: "missing" }
  | { outcome: "not-failed"; status: RefundRequestStatus }
  | { outcome: "nothing-to-refund" };

/**
 * Ops retry (`retryRefund`): a failed request gets a new generation (a new idempotency key: Stripe replays a stored
 * error for the old one); the task first learns what Stripe already did, so a retry can never refund twice. A
 * donation of a closed wish that never got a request (it should have) gets one. Not capped by
 * {@link MAX_REFUND_GENERATIONS}, which stops automatic generations only: a request that failed at the cap
 * (`too_many_generations`) must stay retryable by ops, one deliberate generation per retry.
 */
export async function reopenRefund(deps: RefundDeps, donationId: string): Promise<ReopenOutcome> {
  const requestDoc = refundRequestRef(deps.db, donationId);
  const donation = (await donationRef(deps.db, donationId).get()).data();
  if (!donation) return { outcome: "missing" };
  if (!(await requestDoc.get()).exists) {
    const settled = await settleDonation(deps, donationId, { reason: "ops_retry" });
    if (settled !== "create") return { outcome: "nothing-to-refund" };
    // Created to wait for an open chargeback (no refund is possible meanwhile), or queued with its task.
    return (await requestDoc.get()).data()?.status === "disputed" ? { outcome: "waiting-dispute" } : { outcome: "queued", generation: 0 };
  }
  const result = await deps.db.runTransaction(async (tx): Promise<ReopenOutcome> => {
    const request = (await tx.get(requestDoc)).data();
    if (!request) return { outcome: "missing" };
    // `queued` long after its last write: its task is gone (an enqueue that failed, a task dropped after its last
    // attempt). A new generation gets a task of its own, which first learns what the provider already did.
    if (request.status !== "failed" && !queuedOverdue(request, deps.clock.now())) return { outcome: "not-failed", status: request.status };
    const generation = request.generation + 1;
    const now = deps.clock.now();
    tx.update(requestDoc, { status: "queued", generation, reason: "ops_retry", amount: null, providerRefundId: null, lastError: null, requestedAt: null, updatedAt: now });
    return { outcome: "queued", generation };
  });
  if (result.outcome === "queued") await enqueueRefund(deps, donationId, result.generation);
  return result;
}

// ---- what the provider already did ----

/** A refund as the provider reports it, folded like its webhook (the event id is per refund and status: once). */
export function refundReportEvent(refund: ProviderRefund, source: "sync" | "answer"): RefundEvent {
  return {
    provider: refund.provider,
    kind: "refund",
    eventId: `${source}_${refund.refundId}_${refund.status}`,
    type: `${source}.refund`,
    createdMs: refund.createdMs,
    paymentIntentId: refund.paymentIntentId,
    chargeId: refund.chargeId ?? "",
    currency: refund.currency,
    refunds: [{ id: refund.refundId, amount: refund.amount, status: refund.status, ...(refund.claimLink ? { claimLink: refund.claimLink } : {}) }],
  };
}

export function disputeReportEvent(dispute: ProviderDispute): DisputeEvent {
  return {
    provider: dispute.provider,
    kind: "dispute",
    eventId: `sync_${dispute.disputeId}_${dispute.status}`,
    type: "sync.dispute",
    createdMs: dispute.createdMs,
    paymentIntentId: dispute.paymentIntentId,
    chargeId: dispute.chargeId ?? "",
    disputeId: dispute.disputeId,
    amount: dispute.amount,
    currency: dispute.currency,
    status: dispute.status,
  };
}

/**
 * Folds into the donation every refund and dispute the provider holds for its payment that our ledger has not seen in
 * that state (a dashboard refund whose webhook is late, a refund an earlier attempt made whose answer was lost, a
 * dispute event still on its way). Returns how many were new.
 */
export async function syncPaymentFromProvider(
  deps: { provider: Pick<ClosingProvider, "refundsOfPayment" | "disputesOfPayment">; applyProviderEvent: RefundTaskDeps["applyProviderEvent"] },
  paymentIntentId: string,
  donation: Pick<Donation, "refunds" | "disputes">,
): Promise<number> {
  const [refunds, disputes] = await Promise.all([deps.provider.refundsOfPayment(paymentIntentId), deps.provider.disputesOfPayment(paymentIntentId)]);
  let applied = 0;
  for (const refund of refunds) {
    if (donation.refunds[refund.refundId]?.status === refund.status) continue;
    await deps.applyProviderEvent(refundReportEvent(refund, "sync"));
    applied++;
  }
  for (const dispute of disputes) {
    if (donation.disputes[dispute.disputeId]?.status === dispute.status) continue;
    await deps.applyProviderEvent(disputeReportEvent(dispute));
    applied++;
  }
  return applied;
}

// ---- the task ----

export type RefundTaskOutcome = "stale" | "already-handled" | "settled" | "requested" | "requeued" | "failed";

type Prepared = { kind: "call"; amount: number; request: RefundRequest; paymentIntentId: string } | { kind: "stop"; outcome: RefundTaskOutcome };

/**
 * The `refundDonation` task for one generation. `retryCount` is Cloud Tasks' count of earlier attempts: an error
 * whose outcome is unknown (no answer, a 5xx, 409, 429) is rethrown so Cloud Tasks retries with the same idempotency
 * key, until the last attempt, which lands in the ops queue; an error Stripe answered is handled at once.
 */
export async function runRefundTask(deps: RefundTaskDeps, payload: RefundTaskPayload, retryCount: number): Promise<RefundTaskOutcome> {
  const { donationId, generation } = payload;
  const requestDoc = refundRequestRef(deps.db, donationId);
  const request = (await requestDoc.get()).data();
  if (!request || request.generation !== generation) return "stale";
  if (request.status !== "queued") return "already-handled";
  const donation = (await donationRef(deps.db, donationId).get()).data();
  if (!donation?.paymentIntentId) {
    await failInTx(deps, donationId, generation, donation ? "no_payment" : "donation_missing", "There is no provider payment to refund.");
    return "failed";
  }

  const provider = deps.providerOf(donation.provider);
  const prepared = await withProviderErrors(deps, donationId, generation, retryCount, async (): Promise<Prepared> => {
    await syncPaymentFromProvider({ provider, applyProviderEvent: deps.applyProviderEvent }, donation.paymentIntentId ?? "", donation);
    return prepare(deps, donationId, generation);
  });
  if (typeof prepared === "string") return prepared;
  if (prepared.kind === "stop") return prepared.outcome;

  const { amount, paymentIntentId } = prepared;
  const refund = await withProviderErrors(deps, donationId, generation, retryCount, () =>
    provider.refund({
      paymentIntentId,
      amount,
      metadata: { donationId, wishId: prepared.request.wishId, donorId: prepared.request.donorId, generation: String(generation) },
      idempotencyKey: refundIdempotencyKey(donationId, generation),
    }),
  );
  if (typeof refund === "string") return refund;
  // Stripe's answer is as good as its webhook: fold it into the ledger (the webhook may have come first, or come later;
  // both are the same idempotent fold), then move the request forward, never back.
  await deps.applyProviderEvent(refundReportEvent(refund, "answer"));
  const claimableId = `refund.claimable:${refund.refundId}`;
  await deps.db.runTransaction(async (tx) => {
    const [current, claimable] = await Promise.all([tx.get(requestDoc), refund.claimLink ? tx.get(deps.db.collection(OUTBOX).doc(encodeEventId(claimableId))) : undefined]);
    const request = current.data();
    if (request?.generation !== generation || request.status !== "queued") return;
    const now = deps.clock.now();
    tx.update(requestDoc, { status: "requested", providerRefundId: refund.refundId, requestedAt: now, updatedAt: now, lastError: null });
    // A refund the donor must claim (bitcoin): tell them once; the link is on their donation, never in the event.
    if (claimable && !claimable.exists && refund.status === "pending") {
      addToOutbox(deps.db, tx, { id: claimableId, type: "refund.claimable", wishId: request.wishId, donationId, donorId: request.donorId, amount: refund.amount, currency: refund.currency }, now);
    }
  });
  await settleDonation(deps, donationId);
  logger.info("refund requested", { donationId, wishId: request.wishId, refundId: refund.refundId, amount, providerStatus: refund.status });
  return "requested";
}

/** In one transaction: what this generation asks for (fixed at its first attempt), or why it asks for nothing. */
async function prepare(deps: RefundTaskDeps, donationId: string, generation: number): Promise<Prepared> {
  const requestDoc = refundRequestRef(deps.db, donationId);
  let enqueue: number | undefined;
  const prepared = await deps.db.runTransaction(async (tx): Promise<Prepared> => {
    const [requestSnap, donationSnap] = await Promise.all([tx.get(requestDoc), tx.get(donationRef(deps.db, donationId))]);
    const request = requestSnap.data();
    const donation = donationSnap.data();
    if (!request || request.generation !== generation) return { kind: "stop", outcome: "stale" };
    if (request.status !== "queued" || !donation) return { kind: "stop", outcome: "already-handled" };
    const wish = (await tx.get(wishRef(deps.db, donation.wishId))).data();
    const plan = refundPlan(donation, keptFor(donation, wish));
    const now = deps.clock.now();
    if (plan.kind !== "refund") {
      // Nothing to ask for now: settled, waiting for the bank, or covered by refunds already on their way.
      const change: RequestChange =
        plan.kind === "done" ? { kind: "finish", status: plan.status } : plan.kind === "wait_dispute" ? { kind: "status", status: "disputed" } : { kind: "status", status: "requested" };
      await applyChange(deps, tx, donationId, donation, request, change, request.reason);
      return { kind: "stop", outcome: "settled" };
    }
    if (request.amount !== null && request.amount > plan.amount) {
      // The amount this generation fixed is more than is left now (someone refunded part meanwhile): the same key
      // cannot ask for less, so a new generation asks for what is left.
      enqueue = await applyChange(deps, tx, donationId, donation, request, { kind: "next", reason: "remainder" }, request.reason);
      return { kind: "stop", outcome: "requeued" };
    }
    const amount = request.amount ?? plan.amount;
    tx.update(requestDoc, { amount, attempts: request.attempts + 1, updatedAt: now });
    return { kind: "call", amount, request: { ...request, amount }, paymentIntentId: donation.paymentIntentId ?? "" };
  });
  if (enqueue !== undefined) await enqueueRefund(deps, donationId, enqueue);
  return prepared;
}

/**
 * Runs a provider step of the task. Stripe refused the amount as more than is left → a new generation for the rest;
 * `charge_disputed` → the request waits for the bank; any other refusal → ops; an unknown outcome → Cloud Tasks
 * retries (rethrown), except on the last attempt, which goes to ops.
 */
async function withProviderErrors<T>(
  deps: RefundTaskDeps,
  donationId: string,
  generation: number,
  retryCount: number,
  step: () => Promise<T>,
): Promise<T | RefundTaskOutcome> {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof PaymentProviderError)) throw error;
    const code = error.providerCode ?? "provider_error";
    if (error.refused && REMAINDER_CODES.has(code)) return moveOn(deps, donationId, generation, { kind: "next", reason: "remainder" }, "requeued");
    if (error.refused && code === "charge_disputed") return moveOn(deps, donationId, generation, { kind: "status", status: "disputed" }, "settled");
    if (error.refused) {
      await failInTx(deps, donationId, generation, code, error.message);
      return "failed";
    }
    if (retryCount + 1 >= REFUND_MAX_ATTEMPTS) {
      await failInTx(deps, donationId, generation, "retries_exhausted", `${code}: ${error.message}`);
      return "failed";
    }
    await refundRequestRef(deps.db, donationId).update({ lastError: code, updatedAt: deps.clock.now() });
    logger.warn("refund attempt failed; Cloud Tasks retries", { donationId, code, retryCount });
    throw error;
  }
}

/** Applies `change` if the request is still this generation's queued one. */
async function moveOn(deps: RefundDeps, donationId: string, generation: number, change: RequestChange, outcome: RefundTaskOutcome): Promise<RefundTaskOutcome> {
  const requestDoc = refundRequestRef(deps.db, donationId);
  const enqueue = await deps.db.runTransaction(async (tx) => {
    const [requestSnap, donationSnap] = await Promise.all([tx.get(requestDoc), tx.get(donationRef(deps.db, donationId))]);
    const request = requestSnap.data();
    const donation = donationSnap.data();
    if (!request || !donation || request.generation !== generation || request.status !== "queued") return undefined;
    return applyChange(deps, tx, donationId, donation, request, change, request.reason);
  });
  if (enqueue !== undefined) await enqueueRefund(deps, donationId, enqueue);
  return outcome;
}

/** Marks this generation failed (ops queue), unless it moved on meanwhile. */
async function failInTx(deps: Pick<RefundDeps, "db" | "clock">, donationId: string, generation: number, code: string, detail: string): Promise<void> {
  const requestDoc = refundRequestRef(deps.db, donationId);
  const failed = await deps.db.runTransaction(async (tx) => {
    const request = (await tx.get(requestDoc)).data();
    if (!request || request.generation !== generation || request.status !== "queued") return false;
    failWrites(deps.db, tx, request, code, detail, deps.clock.now());
    return true;
  });
  if (failed) logger.error("refund failed; queued for ops", { donationId, generation, code });
}

// ---- the donation trigger ----

/** The parts of a donation write the refund side reacts to. */
export interface DonationRefundView extends RefundView {
  wishId: string;
}

/**
 * After every write to `donations/{donationId}` that changed its money (a payment succeeding after its wish closed, a
 * refund or dispute that moved): settle its refund request if its wish closed or expired.
 */
export async function onDonationWrittenForRefunds(
  deps: RefundDeps,
  donationId: string,
  before: DonationRefundView | undefined,
  after: DonationRefundView | undefined,
): Promise<SettleOutcome | "unchanged"> {
  if (!after || after.paymentStatus !== "succeeded") return "unchanged";
  if (before && moneyKey(before) === moneyKey(after)) return "unchanged";
  // settleDonation names the reason from the times (late_donation only when the payment succeeded after the close):
  // this trigger may run after the close for a payment that succeeded before it.
  const outcome = await settleDonation(deps, donationId, { wishId: after.wishId });
  // A refund requested as the payment succeeded: a late donation to a closed wish, or an over-paid bitcoin/bank one.
  if (before?.paymentStatus !== "succeeded" && outcome === "create") logger.warn("donation succeeded and is refunded (late donation or over-payment)", { donationId, wishId: after.wishId });
  return outcome;
}

function moneyKey(view: RefundView): string {
  return JSON.stringify([view.paymentStatus, view.netAmount, view.refunds, view.disputes]);
}

const donationViewSchema = z.object({
  wishId: z.string(),
  paymentStatus: donationSchema.shape.paymentStatus,
  netAmount: z.number(),
  refunds: z.record(z.string(), refundStateSchema),
  disputes: z.record(z.string(), disputeStateSchema),
});

/** The refund-relevant fields of a trigger snapshot; undefined when missing or malformed. */
export function donationRefundView(snap: DocumentSnapshot | undefined): DonationRefundView | undefined {
  if (!snap?.exists) return undefined;
  const parsed = donationViewSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : undefined;
}
