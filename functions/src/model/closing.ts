import { z } from "zod";
import { currencySchema } from "./money";

/**
 * Closing a wish: refunds, payouts, ops queues and the audit log. See docs/operations.md and docs/data-model.md.
 * Every document here is written by the server only; ops read them in the console (or as admins through the rules).
 */

/**
 * Why a refund generation was queued: the wish closed or expired; a payment succeeded after its wish closed; ops
 * retried; a dispute open at close was won (the money came back); what an earlier refund left (`remainder`: Stripe
 * had refunded part of it already, e.g. from the dashboard); the money audit found the money still held; a bitcoin or
 * bank-transfer donation paid more than asked (`overpayment`: only the excess goes back, the wish may still be open).
 */
export const REFUND_REASONS = ["closed", "expired", "late_donation", "ops_retry", "dispute_won", "remainder", "audit_repair", "overpayment"] as const;

/**
 * `refundRequests/{donationId}`: our side of giving one donor their money back when the wish closed or expired, or
 * the excess of an over-payment (reason `overpayment`).
 * queued (a task will ask the provider) → requested (the provider accepted a refund; pending) → succeeded (nothing of
 * the donor's money is left with us) | settled (nothing is left because a lost dispute gave it back through the bank);
 * disputed (a chargeback is open: Stripe refuses refunds; resumes when the bank decides); failed (a permanent provider
 * error, retries exhausted, or a refund the provider failed: see `ops/refundFailures/items/{donationId}`).
 * Each generation is one provider refund under its own idempotency key; a new generation is queued when more money
 * became refundable (a won dispute, a remainder) or ops retry. The status only moves forward within a generation.
 */
export const REFUND_REQUEST_STATUSES = ["queued", "requested", "succeeded", "settled", "disputed", "failed"] as const;
export const refundRequestSchema = z.object({
  donationId: z.string(),
  wishId: z.string(),
  donorId: z.string(),
  /** What this generation asks the provider to refund: fixed at its first attempt (then every retry sends the same
   * request under the same idempotency key); null before. Always what is still refundable at that moment. */
  amount: z.number().int().nullable(),
  currency: currencySchema,
  paymentIntentId: z.string().nullable(),
  reason: z.enum(REFUND_REASONS),
  status: z.enum(REFUND_REQUEST_STATUSES),
  generation: z.number().int(),
  attempts: z.number().int(),
  /** The provider refund of the current generation, once known (from the task's answer or the provider's event). */
  providerRefundId: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  requestedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
});
export type RefundRequest = z.infer<typeof refundRequestSchema>;
export type RefundRequestStatus = RefundRequest["status"];

/** `ops/refundFailures/items/{donationId}`: a refund that needs a human. Cleared (`resolvedAt`) when it succeeds. */
export const refundFailureSchema = z.object({
  donationId: z.string(),
  wishId: z.string(),
  donorId: z.string(),
  /** What was being refunded (null when the failure came before an amount was fixed). */
  amount: z.number().int().nullable(),
  currency: currencySchema,
  /** Provider error code (e.g. `resource_missing`), `retries_exhausted`, `refund_failed`, `donation_missing`, ... */
  code: z.string(),
  /** For ops; never shown to clients. */
  detail: z.string(),
  attempts: z.number().int(),
  failedAt: z.date(),
  resolvedAt: z.date().nullable(),
});
export type RefundFailure = z.infer<typeof refundFailureSchema>;

/** `auditLog/{id}`: one ops action. */
export const auditEntrySchema = z.object({
  action: z.enum(["retryRefund", "freezeWish", "unfreezeWish", "retryPayout", "keepReportedContent", "removeReportedContent", "grantAdmin", "revokeAdmin", "reconcileWish", "redriveDeadLetter"]),
  actorId: z.string(),
  target: z.string(),
  reason: z.string(),
  result: z.string(),
  at: z.date(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/**
 * A refund request or payout still `queued` this long after its last write has no task working on it (a refund task's
 * attempts all fall within about 20 minutes and each stamps `updatedAt`), or one held back in a backlog: the status
 * page shows it, and ops may retry it (`retryRefund`, `retryPayout`), which queues it anew under a new generation or round.
 */
export const QUEUED_OVERDUE_AFTER_MS = 60 * 60 * 1000;

/** Whether a refund request or payout is `queued` and overdue by {@link QUEUED_OVERDUE_AFTER_MS} at `now`. */
export function queuedOverdue(item: { status: string; updatedAt: Date }, now: Date): boolean {
  return item.status === "queued" && now.getTime() - item.updatedAt.getTime() >= QUEUED_OVERDUE_AFTER_MS;
}

export const REFUND_REQUESTS = "refundRequests";
export const REFUND_FAILURES = "ops/refundFailures/items";
export const AUDIT_LOG = "auditLog";

/**
 * `ops/reconciliation/findings/{kind}_{providerObjectId}`: something about a provider object that ops should know
 * (see docs/operations.md, "Reconciliation with Stripe"). Deterministic id: the same object is one finding.
 */
export const FINDINGS = "ops/reconciliation/findings";
export const findingDocId = (kind: string, providerObjectId: string) => `${kind}_${providerObjectId}`;

/**
 * The money audit (src/settlement/audit.ts, docs/operations.md "The money audit"). `MoneyFigures` are one wish's totals
 * in minor units, each positive: charges received, refunds that succeeded, chargebacks withdrawn (open or lost),
 * transfers to the owner net of reversals, platform fee withheld.
 */
export const moneyFiguresSchema = z.object({
  charges: z.number().int(),
  refunds: z.number().int(),
  disputes: z.number().int(),
  transfers: z.number().int(),
  fee: z.number().int(),
});
export type MoneyFigures = z.infer<typeof moneyFiguresSchema>;

export const MONEY_BREACH_KINDS = ["stripe_disagrees", "ledger_totals_drift", "closed_wish_holds_money", "paid_out_wish_holds_money", "platform_loss"] as const;
export type MoneyBreachKind = (typeof MONEY_BREACH_KINDS)[number];

/** `ops/moneyAudit/breaches/{kind}_{wishId}`: one breach of the money invariant, for ops. */
export const moneyBreachSchema = z.object({
  kind: z.enum(MONEY_BREACH_KINDS),
  wishId: z.string(),
  ownerId: z.string(),
  wishStatus: z.string(),
  currency: currencySchema,
  /** What the wish holds by our ledger: charges − refunds − disputes − transfers − fee. */
  held: z.number().int(),
  ours: moneyFiguresSchema,
  stripe: moneyFiguresSchema.nullable(),
  raised: z.number().int(),
  paidAmount: z.number().int(),
  /** For ops, in words: which figure, which donation, why. */
  suspectedCause: z.string(),
  /** The donations still holding money (closed wishes; at most 20). */
  donations: z.array(z.object({ donationId: z.string(), held: z.number().int(), cause: z.string() })),
  /** The audit started the ordinary remedy (a refund, a payout); it resolves when a later audit finds the wish clean. */
  repaired: z.boolean(),
  detectedAt: z.date(),
  lastSeenAt: z.date(),
  /** Set by the audit when the breach is gone. */
  resolvedAt: z.date().nullable(),
});
export type MoneyBreach = z.infer<typeof moneyBreachSchema>;

export const MONEY_AUDIT = "ops/moneyAudit";
export const MONEY_AUDIT_BREACHES = "ops/moneyAudit/breaches";
