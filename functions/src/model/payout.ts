import { z } from "zod";
import { currencySchema } from "./money";

/**
 * Payouts: the money of a funded wish goes to its owner's Stripe Connect (Express) account by transfer. See
 * docs/operations.md ("Payouts") and docs/data-model.md. Every document here is written by the server only.
 */

/**
 * The platform's fee on a payout, in basis points of the money raised. Our policy today is 0: the owner receives
 * everything friends gave, and the platform bears Stripe's processing fees. Changing it changes only new transfers
 * (the fee withheld so far is stored on each payout).
 */
export const PLATFORM_FEE_BASIS_POINTS = 0;

/** The fee on `gross` minor units: rounded down, so the owner never receives less than the policy says. */
export function platformFee(gross: number, basisPoints = PLATFORM_FEE_BASIS_POINTS): number {
  return Math.floor((gross * basisPoints) / 10_000);
}

/**
 * `payoutAccounts/{uid}`: the user's Connect account and its state as Stripe last reported it (account.updated, or a
 * fresh read when the user asks for an onboarding link). Readable by the user; the app shows "finish setting up
 * payouts" until `transfersActive`.
 */
export const payoutAccountSchema = z.object({
  uid: z.string(),
  provider: z.literal("stripe"),
  accountId: z.string(),
  /** Stripe's `capabilities.transfers === "active"`: we can transfer to this account. Gates every payout. */
  transfersActive: z.boolean(),
  /** Stripe's `payouts_enabled`: the account can move money on to the owner's bank. */
  payoutsEnabled: z.boolean(),
  detailsSubmitted: z.boolean(),
  /** Stripe's `requirements.currently_due`: what the owner still has to provide. */
  requirementsDue: z.array(z.string()),
  /** Provider time (ms) of the state above; an older account.updated never overwrites a newer one. */
  stateAt: z.number().int(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type PayoutAccount = z.infer<typeof payoutAccountSchema>;

export const PAYOUT_STATUSES = ["pending_onboarding", "on_hold", "queued", "transferring", "paid", "failed"] as const;

/**
 * One transfer of a payout, by provider transfer id. `confirmed` once the provider's transfer event arrived;
 * `reversals` (provider reversal id → amount) as the provider reported them.
 */
export const payoutTransferSchema = z.object({
  seq: z.number().int(),
  amount: z.number().int(),
  confirmed: z.boolean(),
  reversals: z.record(z.string(), z.number().int()),
});

/**
 * `payouts/{wishId}`: paying a funded wish out to its owner. The money owed is `wish.raised − grossAccounted`, less
 * the excess of over-paid bitcoin or bank-transfer donations still awaiting their `overpayment` refund
 * (src/payouts/payouts.ts `excessAwaitingRefund`); each transfer is numbered (`seq`) and fixed (`pendingTransfer`)
 * before the provider is called, so a retry sends the same request under the same idempotency key. A donation that
 * succeeds after the first transfer (it was in flight when the wish was funded) is paid out by a further transfer.
 *
 * Status: queued (a task will transfer) → transferring (the provider accepted, its event not yet here) → paid;
 * pending_onboarding (the owner has no Connect account able to receive transfers yet; released when Stripe reports
 * it active); on_hold (ops froze the wish; released when unfrozen); failed (a permanent provider error or retries
 * exhausted; `retryPayout` re-queues).
 */
export const payoutSchema = z.object({
  wishId: z.string(),
  ownerId: z.string(),
  currency: currencySchema,
  status: z.enum(PAYOUT_STATUSES),
  /** Why it is held or failed, for ops: `owner_onboarding`, `wish_frozen`, a provider error code, `retries_exhausted`. */
  reason: z.string().nullable(),
  destinationAccountId: z.string().nullable(),
  /** Money raised covered by transfers made so far (their amounts plus the fee withheld on them). */
  grossAccounted: z.number().int(),
  /** Platform fee withheld so far (see PLATFORM_FEE_BASIS_POINTS). */
  feeAmount: z.number().int(),
  /** Sum of the transfers confirmed by the provider's event, less reversals: what the owner has received. */
  paidAmount: z.number().int(),
  /**
   * Money paid out that the wish no longer has (`grossAccounted − wish.raised` when positive): a refund or a lost
   * dispute after the payout. The platform carries it (a documented loss; see docs/operations.md), unless ops recover
   * it by a transfer reversal or a later donation covers it.
   */
  shortfall: z.number().int(),
  /**
   * The transfer being made: fixed before the provider is called (number, amounts, destination), cleared when its
   * result is stored. `keyAttempt` (part of `idempotencyKey`) grows only when the provider refused the previous
   * request, so every attempt whose outcome is unknown repeats the very same request.
   */
  pendingTransfer: z
    .object({
      seq: z.number().int(),
      gross: z.number().int(),
      fee: z.number().int(),
      amount: z.number().int(),
      destination: z.string(),
      keyAttempt: z.number().int(),
      idempotencyKey: z.string(),
    })
    .nullable(),
  transfers: z.record(z.string(), payoutTransferSchema),
  nextSeq: z.number().int(),
  /** Grows each time the payout is queued again (release from a hold, ops retry); part of the task id. */
  round: z.number().int(),
  attempts: z.number().int(),
  createdAt: z.date(),
  updatedAt: z.date(),
  paidAt: z.date().nullable(),
});
export type Payout = z.infer<typeof payoutSchema>;

export const PAYOUT_ACCOUNTS = "payoutAccounts";
export const PAYOUTS = "payouts";
