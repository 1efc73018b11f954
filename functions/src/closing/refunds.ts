import { createHash } from "node:crypto";
import type { DocumentSnapshot, Firestore } from "firebase-admin/firestore";
import * as logger from "firebase-functions/logger";
import { z } from "zod";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import { zodConverter } from "../lib/converter";
import type { TaskEnqueuer } from "../lib/tasks";
import { REFUND_FAILURES, REFUND_REQUESTS, refundFailureSchema, refundRequestSchema } from "../model/closing";
import type { RefundFailure, RefundRequest } from "../model/closing";
import { DONATIONS, donationSchema } from "../model/donation";
import type { Donation } from "../model/donation";
import { PaymentProviderError } from "../payments/provider";
import type { ClosingProvider, ProviderRefund } from "./provider";
import { wishRef } from "./wishes";

/**
 * Refund fan-out (F9, F16). A closed or expired wish gets one `refundRequests/{donationId}` document and one
 * `refundDonation` task per succeeded donation. The task calls the provider with an idempotency key derived from the
 * donation (and the ops-retry generation), so a retried or duplicated task, or a crash between the provider call and
 * our write, cannot refund twice; the provider also never refunds more than was charged. The refund becomes final
 * only when the provider's event marks the donation `refunded` (donations webhook), which
 * {@link onDonationWrittenForRefunds} turns into `succeeded` + the `refund.processed` event.
 */
export const REFUND_QUEUE = "refundDonation";

/** Cloud Tasks attempts per refund task (the queue's retryConfig.maxAttempts, wired in index.ts). */
export const REFUND_MAX_ATTEMPTS = 8;

/** Provider error codes that retrying cannot fix: the refund goes straight to the ops queue. */
const PERMANENT_CODES = new Set([
  "charge_disputed",
  "resource_missing",
  "amount_too_large",
  "idempotency_error",
  "parameter_invalid_integer",
  "refund_disputed_payment",
]);

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

const requestConverter = zodConverter(refundRequestSchema);
const failureConverter = zodConverter(refundFailureSchema);
const donationConverter = zodConverter(donationSchema);

export const refundRequestRef = (db: Firestore, donationId: string) => db.collection(REFUND_REQUESTS).doc(donationId).withConverter(requestConverter);
export const refundFailureRef = (db: Firestore, donationId: string) => db.collection(REFUND_FAILURES).doc(donationId).withConverter(failureConverter);
const donationRef = (db: Firestore, donationId: string) => db.collection(DONATIONS).doc(donationId).withConverter(donationConverter);

export function refundTaskId(donationId: string, generation: number): string {
  return `rf-${createHash("sha256").update(`${donationId}|${generation}`).digest("hex").slice(0, 40)}`;
}

/** Stripe keeps an idempotency key for 24 h; the task's retries all happen well inside that. */
export function refundIdempotencyKey(donationId: string, generation: number): string {
  return generation === 0 ? `refund-${donationId}` : `refund-${donationId}-g${generation}`;
}

/** How much of a donation is still ours to give back. */
function refundable(donation: Donation): number {
  return donation.amount - donation.refundedAmount;
}

function needsRefund(donation: Donation): boolean {
  return donation.paymentStatus === "succeeded" && donation.status !== "disputed" && refundable(donation) > 0;
}

/**
 * Creates the refund request for one donation (once) and enqueues its task. Safe to call any number of times: an
 * existing request is left as it is, and the task id is deterministic.
 */
export async function requestRefund(deps: RefundDeps, donationId: string, reason: RefundRequest["reason"]): Promise<"queued" | "exists" | "not-refundable"> {
  const ref = refundRequestRef(deps.db, donationId);
  const outcome = await deps.db.runTransaction(async (tx) => {
    const [existing, donation] = await Promise.all([tx.get(ref), tx.get(donationRef(deps.db, donationId))]);
    const current = existing.data();
    if (current) return { state: "exists" as const, request: current };
    const data = donation.data();
    if (!data || !needsRefund(data)) return { state: "not-refundable" as const, request: undefined };
    const now = deps.clock.now();
    const request: RefundRequest = {
      donationId,
      wishId: data.wishId,
      donorId: data.donorId,
      amount: refundable(data),
      currency: data.currency,
      paymentIntentId: data.paymentIntentId,
      reason,
      status: "queued",
      generation: 0,
      attempts: 0,
      providerRefundId: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      requestedAt: null,
      completedAt: null,
    };
    tx.create(ref, request);
    return { state: "queued" as const, request };
  });
  // Enqueue also for an existing request that is still queued: a fan-out that crashed after the write and before
  // the enqueue is repaired by its retry. The deterministic task id refuses a real duplicate.
  if (outcome.request?.status === "queued") await enqueueRefund(deps, donationId, outcome.request.generation);
  return outcome.state;
}

export async function enqueueRefund(deps: Pick<RefundDeps, "tasks">, donationId: string, generation: number): Promise<void> {
  const payload: RefundTaskPayload = { donationId, generation };
  await deps.tasks.enqueue(REFUND_QUEUE, payload, { id: refundTaskId(donationId, generation) });
}

/** Every succeeded, not yet refunded donation of a wish gets a refund request and a task. Paged by document id. */
export async function fanOutRefunds(deps: RefundDeps, wishId: string, reason: "closed" | "expired"): Promise<{ queued: number }> {
  let queued = 0;
  let last: string | undefined;
  for (;;) {
    let query = deps.db
      .collection(DONATIONS)
      .withConverter(donationConverter)
      .where("wishId", "==", wishId)
      .where("paymentStatus", "==", "succeeded")
      .orderBy("__name__")
      .limit(300);
    if (last) query = query.startAfter(last);
    const page = await query.get();
    for (const doc of page.docs) {
      if (needsRefund(doc.data()) && (await requestRefund(deps, doc.id, reason)) === "queued") queued++;
    }
    if (page.size < 300) break;
    last = page.docs[page.docs.length - 1]?.id;
  }
  logger.info("refunds fanned out", { wishId, reason, queued });
  return { queued };
}

export type RefundTaskOutcome = "stale" | "already-handled" | "completed" | "requested" | "failed";

/**
 * The `refundDonation` task. `retryCount` is Cloud Tasks' count of earlier attempts. A transient provider error is
 * rethrown (Cloud Tasks retries with backoff) until the last attempt, which lands in the ops queue instead.
 */
export async function runRefundTask(
  deps: RefundDeps & { provider: ClosingProvider },
  payload: RefundTaskPayload,
  retryCount: number,
): Promise<RefundTaskOutcome> {
  const { donationId, generation } = payload;
  const requestDoc = refundRequestRef(deps.db, donationId);
  const request = (await requestDoc.get()).data();
  if (!request || request.generation !== generation) return "stale";
  if (request.status !== "queued") return "already-handled";

  const donation = (await donationRef(deps.db, donationId).get()).data();
  if (!donation) return fail(deps, request, "donation_missing", "The donation document does not exist.");
  if (donation.paymentStatus === "succeeded" && refundable(donation) <= 0) {
    await completeRefund(deps, donationId);
    return "completed";
  }
  if (donation.status === "disputed") return fail(deps, request, "charge_disputed", "The payment is disputed; the bank decides.");
  if (!request.paymentIntentId) return fail(deps, request, "no_payment", "The donation has no provider payment to refund.");

  const now = deps.clock.now();
  await requestDoc.update({ attempts: request.attempts + 1, updatedAt: now });
  const metadata = { donationId, wishId: request.wishId, donorId: request.donorId };
  try {
    // An ops retry uses a new idempotency key; first adopt any refund an earlier generation already made.
    const adopted = generation > 0 ? await adoptExisting(deps.provider, request.paymentIntentId, donationId) : undefined;
    const refund =
      adopted ??
      (await deps.provider.refund({
        paymentIntentId: request.paymentIntentId,
        amount: request.amount,
        metadata,
        idempotencyKey: refundIdempotencyKey(donationId, generation),
      }));
    if (refund.status === "failed" || refund.status === "canceled") {
      return fail(deps, request, `refund_${refund.status}`, refund.failureReason ?? "The provider reported the refund as failed.");
    }
    await requestDoc.update({ status: "requested", providerRefundId: refund.refundId, requestedAt: now, updatedAt: now, lastError: null });
    logger.info("refund requested", { donationId, wishId: request.wishId, refundId: refund.refundId, providerStatus: refund.status });
    return "requested";
  } catch (error) {
    if (!(error instanceof PaymentProviderError)) throw error;
    const code = error.providerCode ?? "provider_error";
    if (code === "charge_already_refunded") {
      const existing = await adoptExisting(deps.provider, request.paymentIntentId, donationId);
      await requestDoc.update({ status: "requested", providerRefundId: existing?.refundId ?? null, requestedAt: now, updatedAt: now });
      return "requested";
    }
    if (PERMANENT_CODES.has(code)) return fail(deps, request, code, error.message);
    if (retryCount + 1 >= REFUND_MAX_ATTEMPTS) return fail(deps, request, "retries_exhausted", `${code}: ${error.message}`);
    await requestDoc.update({ lastError: code, updatedAt: now });
    logger.warn("refund attempt failed; Cloud Tasks retries", { donationId, code, retryCount });
    throw error;
  }
}

async function adoptExisting(provider: ClosingProvider, paymentIntentId: string, donationId: string): Promise<ProviderRefund | undefined> {
  const refunds = await provider.refundsOfPayment(paymentIntentId);
  return refunds.find((refund) => refund.donationId === donationId && refund.status !== "failed" && refund.status !== "canceled");
}

/** Marks the request failed and puts it in the ops queue (`ops/refundFailures/items/{donationId}`). */
async function fail(deps: Pick<RefundDeps, "db" | "clock">, request: RefundRequest, code: string, detail: string): Promise<"failed"> {
  const now = deps.clock.now();
  const batch = deps.db.batch();
  batch.update(refundRequestRef(deps.db, request.donationId), { status: "failed", lastError: code, updatedAt: now });
  const failure: RefundFailure = {
    donationId: request.donationId,
    wishId: request.wishId,
    donorId: request.donorId,
    amount: request.amount,
    currency: request.currency,
    code,
    detail: detail.slice(0, 500),
    attempts: request.attempts + 1,
    failedAt: now,
    resolvedAt: null,
  };
  batch.set(refundFailureRef(deps.db, request.donationId), failure);
  await batch.commit();
  logger.error("refund failed; queued for ops", { donationId: request.donationId, wishId: request.wishId, code });
  return "failed";
}

/**
 * Reconciliation found that the provider failed (or canceled) the refund we were waiting for: the request becomes
 * `failed` and lands in the ops queue, so `retryRefund` can try again. False when we were not waiting for it.
 */
export async function markRefundFailed(deps: Pick<RefundDeps, "db" | "clock">, donationId: string, refundId: string, code: string): Promise<boolean> {
  const request = (await refundRequestRef(deps.db, donationId).get()).data();
  if (!request || request.status !== "requested" || request.providerRefundId !== refundId) return false;
  await fail(deps, request, code, "The provider reported the refund as failed after accepting it.");
  return true;
}

/**
 * The provider's event made the donation fully refunded: the request is `succeeded`, an open ops failure is
 * resolved, and `refund.processed` is published, all at once and at most once.
 */
export async function completeRefund(deps: Pick<RefundDeps, "db" | "clock">, donationId: string): Promise<boolean> {
  const ref = refundRequestRef(deps.db, donationId);
  const failureRef = refundFailureRef(deps.db, donationId);
  const done = await deps.db.runTransaction(async (tx) => {
    const [snap, failure] = await Promise.all([tx.get(ref), tx.get(failureRef)]);
    const request = snap.data();
    if (!request || request.status === "succeeded") return false;
    const now = deps.clock.now();
    tx.update(ref, { status: "succeeded", completedAt: now, updatedAt: now, lastError: null });
    if (failure.exists && !failure.data()?.resolvedAt) tx.update(failureRef, { resolvedAt: now });
    addToOutbox(
      deps.db,
      tx,
      {
        id: `refund.processed:${donationId}`,
        type: "refund.processed",
        wishId: request.wishId,
        donationId,
        donorId: request.donorId,
        amount: request.amount,
        currency: request.currency,
      },
      now,
    );
    return true;
  });
  if (done) logger.info("refund completed", { donationId });
  return done;
}

/** The parts of a donation write the refund side reacts to. */
export interface DonationRefundView {
  wishId: string;
  paymentStatus: Donation["paymentStatus"];
  status: Donation["status"];
}

/**
 * After every write to `donations/{donationId}`:
 * - fully refunded → complete our refund request (if we asked for one);
 * - became succeeded while its wish is already closed or expired (a payment in flight at close time) → refund it.
 */
export async function onDonationWrittenForRefunds(
  deps: RefundDeps,
  donationId: string,
  before: DonationRefundView | undefined,
  after: DonationRefundView | undefined,
): Promise<void> {
  if (!after) return;
  if (after.status === "refunded" && before?.status !== "refunded") await completeRefund(deps, donationId);
  if (after.paymentStatus === "succeeded" && before?.paymentStatus !== "succeeded") {
    const wish = (await wishRef(deps.db, after.wishId).get()).data();
    if (wish && (wish.status === "closed" || wish.status === "expired")) {
      logger.warn("donation succeeded after its wish closed; refunding", { donationId, wishId: after.wishId });
      await requestRefund(deps, donationId, "late_donation");
    }
  }
}

const donationViewSchema = z.object({ wishId: z.string(), paymentStatus: donationSchema.shape.paymentStatus, status: donationSchema.shape.status });

/** The refund-relevant fields of a trigger snapshot; undefined when missing or malformed. */
export function donationRefundView(snap: DocumentSnapshot | undefined): DonationRefundView | undefined {
  if (!snap?.exists) return undefined;
  const parsed = donationViewSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : undefined;
}
