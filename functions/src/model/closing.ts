import { z } from "zod";
import { currencySchema } from "./money";

/**
 * Closing a wish: refunds, payouts, ops queues and the audit log. See docs/operations.md and docs/data-model.md.
 * Every document here is written by the server only; ops read them in the console (or as admins through the rules).
 */

export const REFUND_REASONS = ["closed", "expired", "late_donation", "ops_retry"] as const;

/**
 * `refundRequests/{donationId}`: our side of refunding one donation.
 * queued → requested (the provider accepted it) → succeeded (the provider's event made the donation `refunded`);
 * → failed (permanent provider error or retries exhausted: see `ops/refundFailures/items/{donationId}`).
 * `generation` grows when ops retry a failed refund; the idempotency key and the task id include it.
 */
export const refundRequestSchema = z.object({
  donationId: z.string(),
  wishId: z.string(),
  donorId: z.string(),
  /** Fixed at the first attempt, so every retry sends the same request under the same idempotency key. */
  amount: z.number().int(),
  currency: currencySchema,
  paymentIntentId: z.string().nullable(),
  reason: z.enum(REFUND_REASONS),
  status: z.enum(["queued", "requested", "succeeded", "failed"]),
  generation: z.number().int(),
  attempts: z.number().int(),
  providerRefundId: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  requestedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
});
export type RefundRequest = z.infer<typeof refundRequestSchema>;

/** `ops/refundFailures/items/{donationId}`: a refund that needs a human. Cleared (`resolvedAt`) when it succeeds. */
export const refundFailureSchema = z.object({
  donationId: z.string(),
  wishId: z.string(),
  donorId: z.string(),
  amount: z.number().int(),
  currency: currencySchema,
  /** Provider error code (e.g. `charge_disputed`), `retries_exhausted`, `donation_missing`, ... */
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
  action: z.enum(["retryRefund", "freezeWish", "unfreezeWish", "retryPayout", "keepReportedContent", "removeReportedContent"]),
  actorId: z.string(),
  target: z.string(),
  reason: z.string(),
  result: z.string(),
  at: z.date(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const REFUND_REQUESTS = "refundRequests";
export const REFUND_FAILURES = "ops/refundFailures/items";
export const AUDIT_LOG = "auditLog";
