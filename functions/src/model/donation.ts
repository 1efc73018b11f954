import { z } from "zod";
import { currencySchema } from "./money";
import { bankTransferInstructionsSchema } from "./bank-transfer";

/**
 * Donations, the money ledger and the documents derived from it. See docs/donations.md and docs/data-model.md.
 * Amounts are integer minor units with an upper-case ISO currency; every money field here is written by the server
 * only (the rules deny client writes to all of these paths).
 */

/**
 * The payment processors behind the rails (docs/donations.md, "Payment rails"): Stripe (cards), BTCPay Server
 * (bitcoin), Fio banka (Czech bank transfers). Every provider event, ledger entry and event record names its provider.
 */
export const PROVIDER_NAMES = ["stripe", "btcpay", "fio"] as const;
export const providerNameSchema = z.enum(PROVIDER_NAMES);
export type ProviderName = z.infer<typeof providerNameSchema>;

/** How the donor pays: by card (Stripe), by bank transfer (Fio), in bitcoin (BTCPay). */
export const DONATION_METHODS = ["card", "bank_transfer", "bitcoin"] as const;
export const donationMethodSchema = z.enum(DONATION_METHODS);
export type DonationMethod = z.infer<typeof donationMethodSchema>;

/** The provider that carries each method's payments. */
export const PROVIDER_OF_METHOD: Record<DonationMethod, ProviderName> = { card: "stripe", bank_transfer: "fio", bitcoin: "btcpay" };

/** The payment's own progress, as reported by verified provider events. Ranked: it never moves backwards. */
export const PAYMENT_STATUSES = ["pending", "processing", "failed", "succeeded", "canceled"] as const;
export const paymentStatusSchema = z.enum(PAYMENT_STATUSES);
export type PaymentStatus = z.infer<typeof paymentStatusSchema>;

/**
 * What a donation shows: the payment status, or what happened to the money afterwards. Derived from the payment
 * status, refunds and disputes (see `displayStatus` in src/donations/state.ts).
 */
export const DONATION_STATUSES = ["pending", "processing", "failed", "succeeded", "canceled", "refunded", "disputed"] as const;
export const donationStatusSchema = z.enum(DONATION_STATUSES);
export type DonationStatus = z.infer<typeof donationStatusSchema>;

/**
 * Where a dispute is: an `inquiry` (Stripe `warning_*`: the bank asks, no money moves) that may close
 * (`inquiry_closed`); a chargeback `open` (the disputed amount is withdrawn from the platform) that ends `won` (given
 * back) or `lost` (kept by the cardholder).
 */
export const DISPUTE_STATES = ["inquiry", "inquiry_closed", "open", "won", "lost"] as const;
export type DisputeStatus = (typeof DISPUTE_STATES)[number];

/**
 * Where a refund is at the provider. Stripe: `pending` (and `requires_action`) → `succeeded`; a refund can still fail
 * after `succeeded` (the card was closed: the money comes back to the platform), or be `canceled` while pending.
 */
export const REFUND_STATUSES = ["pending", "succeeded", "failed", "canceled"] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** A dispute as the provider last reported it. */
export const disputeStateSchema = z.object({ status: z.enum(DISPUTE_STATES), amount: z.number().int() });
export type DisputeState = z.infer<typeof disputeStateSchema>;

/** A refund as the provider last reported it: pending → succeeded, or failed/canceled (money back with us). */
export const refundStateSchema = z.object({
  amount: z.number().int(),
  status: z.enum(REFUND_STATUSES),
  /**
   * Bitcoin refunds only: the BTCPay pull payment's claim page, where the donor gives a bitcoin address to receive the
   * refund. A bearer link (whoever has it can claim): on the donation, which only its donor may read.
   */
  claimLink: z.string().nullish(),
});
export type RefundState = z.infer<typeof refundStateSchema>;

/** `donations/{donationId}`: one payment attempt. Readable by its donor only. */
export const donationSchema = z.object({
  wishId: z.string(),
  donorId: z.string(),
  /** The donor's public name at donation time (shown on the supporter entry unless anonymous). */
  donorDisplayName: z.string().nullable(),
  amount: z.number().int(),
  currency: currencySchema,
  message: z.string().nullable(),
  anonymous: z.boolean(),
  /**
   * Set (true) when its wish was busy as the donation was made (`wishIsBusy`: folds adding several donors a second):
   * its payment is added to a shard without the webhook reading the wish (docs/donations.md "Operation count").
   */
  busyWish: z.boolean().optional(),
  status: donationStatusSchema,
  paymentStatus: paymentStatusSchema,
  /** Provider time (ms since epoch) of the event that set `paymentStatus`; breaks ties between failed/processing. */
  paymentStatusAt: z.number().int().nullable(),
  /** Why it failed: a provider decline code, or `provider_unavailable` when the PaymentIntent could not be created. */
  failureCode: z.string().nullable(),
  /** Why it was canceled, as the provider says (`abandoned`: our sweep; `requested_by_customer`: the donor). */
  cancellationReason: z.string().nullable(),
  /** What the provider says it received (`amount_received`); the ledger books this, not `amount`. Null until paid. */
  amountReceived: z.number().int().nullable(),
  /** How the donor pays. Documents from before the other rails existed read as `card`. */
  method: donationMethodSchema.default("card"),
  /** Who carries the payment (follows `method`). Documents from before the other rails read as `stripe`. */
  provider: providerNameSchema.default("stripe"),
  /** The Stripe customer (card donations); null for the other rails. */
  customerId: z.string().nullable(),
  /**
   * The provider's payment id (the name is historical): a Stripe PaymentIntent id (`pi_…`), a BTCPay invoice id, or
   * for a Fio bank transfer `fio_vs_<variableSymbol>`. Null until the provider made the payment object.
   */
  paymentIntentId: z.string().nullable(),
  /** Bank transfers only: the payment instructions `donate` answered (docs/donations.md "Bank transfer"), for the donor to see again. */
  bankTransfer: bankTransferInstructionsSchema.optional(),
  chargeId: z.string().nullable(),
  /**
   * Bitcoin donations only: the BTCPay invoice's checkout page and when it expires (what `donate` answered, so a retry
   * answers it without calling BTCPay), and the lease of the call creating the invoice (one invoice per donation).
   */
  bitcoin: z
    .object({ checkoutLink: z.string().nullable(), expiresAt: z.date().nullable(), invoiceLeaseUntil: z.date().nullable() })
    .optional(),
  /** Every refund of the payment by provider refund id, with its last known status. */
  refunds: z.record(z.string(), refundStateSchema),
  /** Sum of the succeeded refunds. */
  refundedAmount: z.number().int(),
  /** Disputes by provider dispute id. */
  disputes: z.record(z.string(), disputeStateSchema),
  /** Ledger entry ids already applied for this donation (the donation document serialises its own ledger). */
  ledgerEntryIds: z.array(z.string()),
  /**
   * The provider events that changed this donation, oldest first (the last 50): their dedup record and audit trail,
   * written in the same precondition-guarded update as their effects. Events that changed nothing are recorded in
   * `providerEvents`. Absent on donations no event changed.
   */
  providerEventIds: z.array(z.string()).optional(),
  /** Net money this donation contributes to the wish: the sum of its ledger entries. */
  netAmount: z.number().int(),
  createdAt: z.date(),
  updatedAt: z.date(),
  succeededAt: z.date().nullable(),
});
export type Donation = z.infer<typeof donationSchema>;

/**
 * The server-owned fields of a donation as the donate callable creates it: pending, no money moved yet. The payment
 * intent and customer are the caller's to fill in.
 */
export function newPendingDonationState(now: Date, method: DonationMethod) {
  return {
    status: "pending" as const,
    paymentStatus: "pending" as const,
    paymentStatusAt: null,
    failureCode: null,
    cancellationReason: null,
    amountReceived: null,
    method,
    provider: PROVIDER_OF_METHOD[method],
    chargeId: null,
    refunds: {},
    refundedAmount: 0,
    disputes: {},
    ledgerEntryIds: [],
    netAmount: 0,
    createdAt: now,
    updatedAt: now,
    succeededAt: null,
  };
}

/**
 * `charge` (+amount asked), `charge_adjustment` (+/− when the provider received another amount), `refund` (−),
 * `refund_failed` (+: the refund failed or was canceled, the money came back), `dispute` (− withdrawn),
 * `dispute_reinstated` (+ a won dispute).
 */
export const DONATION_LEDGER_KINDS = ["charge", "charge_adjustment", "refund", "refund_failed", "dispute", "dispute_reinstated"] as const;
/** Money leaving a wish for its owner (a transfer) or coming back (a transfer reversal); see src/payouts/. */
export const PAYOUT_LEDGER_KINDS = ["payout", "payout_reversal"] as const;
export const LEDGER_KINDS = [...DONATION_LEDGER_KINDS, ...PAYOUT_LEDGER_KINDS] as const;

/**
 * `ledger/{entryId}`: append-only, one entry per provider money movement, deterministic id (see ledgerEntryId and
 * src/payouts/payouts.ts). Donation entries make up what a wish raised; payout entries what left it for its owner.
 */
export const ledgerEntrySchema = z.object({
  kind: z.enum(LEDGER_KINDS),
  wishId: z.string(),
  /** Null for payout entries. */
  donationId: z.string().nullable(),
  donorId: z.string().nullable(),
  /** Signed: a charge, a failed refund, a reinstated dispute or a payout reversal is positive; a refund, a dispute
   * withdrawal or a payout negative; a charge adjustment either. */
  amount: z.number().int(),
  currency: currencySchema,
  provider: providerNameSchema,
  /** The provider object that moved the money (pi_…, re_…, du_…, tr_…, trr_…; a BTCPay invoice or pull payment id; a Fio …). */
  providerObjectId: z.string(),
  /** The provider event that first carried it. */
  eventId: z.string(),
  createdAt: z.date(),
});
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;

/** `providerEvents/{eventId}`: a processed provider event (dedupe record). */
export const providerEventSchema = z.object({
  provider: providerNameSchema,
  type: z.string(),
  /** applied | no_change | unknown_donation | unknown_object (a transfer or account that is not ours) */
  outcome: z.enum(["applied", "no_change", "unknown_donation", "unknown_object"]),
  donationId: z.string().nullable(),
  providerCreatedAt: z.number().int(),
  processedAt: z.date(),
});
export type ProviderEventRecord = z.infer<typeof providerEventSchema>;

/** `paymentCustomers/{uid}`: the one provider customer of a user. */
export const paymentCustomerSchema = z.object({
  provider: z.literal("stripe"),
  stripeCustomerId: z.string(),
  createdAt: z.date(),
});

/** `wishes/{wishId}/supporters/{donationId}`: the public face of a succeeded donation, for the wish's viewers. */
export const supporterSchema = z.object({
  donorId: z.string().nullable(),
  displayName: z.string().nullable(),
  amount: z.number().int().nullable(),
  currency: currencySchema,
  message: z.string().nullable(),
  anonymous: z.boolean(),
  createdAt: z.date(),
});

/** `users/{uid}/contributions/{wishId}` (F12): what the user gave to one wish, maintained from the ledger. */
export const contributionSchema = z.object({
  wishId: z.string(),
  donorId: z.string(),
  currency: currencySchema,
  /** Net amount given (charges minus refunds and dispute withdrawals). */
  amount: z.number().int(),
  /** Succeeded donations to this wish (charges). */
  donationCount: z.number().int(),
  firstGivenAt: z.date(),
  updatedAt: z.date(),
});
export type Contribution = z.infer<typeof contributionSchema>;

/** `ops/ledger/drift/{wishId}`: the last re-derivation of a wish's totals from the ledger. */
export const driftReportSchema = z.object({
  wishId: z.string(),
  checkedAt: z.date(),
  drift: z.boolean(),
  repaired: z.boolean(),
  ledgerEntries: z.number().int(),
  expected: z.object({ raised: z.number().int(), donorCount: z.number().int(), hasSucceededDonation: z.boolean() }),
  actual: z.object({ raised: z.number().int(), donorCount: z.number().int(), hasSucceededDonation: z.boolean() }),
  contributionDrift: z.array(z.object({ donorId: z.string(), expected: z.number().int(), actual: z.number().int().nullable() })),
  /** The payout's `paidAmount` against the ledger's transfers less reversals; null when the wish has no payout. */
  paidAmount: z.object({ expected: z.number().int(), actual: z.number().int() }).nullable().default(null),
});
export type DriftReport = z.infer<typeof driftReportSchema>;

export const DONATIONS = "donations";
export const LEDGER = "ledger";
export const PROVIDER_EVENTS = "providerEvents";
export const PAYMENT_CUSTOMERS = "paymentCustomers";
export const supportersCollection = (wishId: string) => `wishes/${wishId}/supporters`;
export const contributionsCollection = (uid: string) => `users/${uid}/contributions`;
export const driftCollection = "ops/ledger/drift";
