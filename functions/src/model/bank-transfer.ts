import { z } from "zod";

/**
 * Bank transfers through Fio banka (docs/donations.md "Bank transfer", docs/operations.md "Bank transfers (Fio)").
 * Every collection here is server-owned: admins read them, no client writes them.
 */

/** Days a donor has to send the money (never past the wish's deadline). */
export const BANK_TRANSFER_DUE_DAYS = 7;
/**
 * After the due date the reference still waits this long before the donation expires: a transfer sent on the due day
 * may land a business day or two later (weekends, holidays). Money arriving after the expiry goes back in full.
 */
export const BANK_TRANSFER_GRACE_DAYS = 4;

/** What the app shows for a pending bank-transfer donation (also stored on the donation, for the donor to see again). */
export const bankTransferInstructionsSchema = z.object({
  iban: z.string(),
  /** Czech domestic form: account number and bank code ("2801234567" / "2010"). */
  accountNumber: z.string(),
  bankCode: z.string(),
  /** Minor units; always CZK. */
  amount: z.number().int(),
  currency: z.literal("CZK"),
  variableSymbol: z.string(),
  /** The message for the recipient the donor's bank app pre-fills. */
  message: z.string(),
  /** The SPD "QR Platba" string: the app renders it as a QR code. */
  spdQr: z.string(),
  /** Send by then; the donation expires a few days later if nothing arrived (BANK_TRANSFER_GRACE_DAYS). */
  dueAt: z.date(),
});
export type BankTransferInstructions = z.infer<typeof bankTransferInstructionsSchema>;

/** The account that paid a reference: where its refunds go (a domestic order needs account + bank code). */
export const payerSchema = z.object({ account: z.string().nullable(), bankCode: z.string().nullable(), name: z.string().nullable() });

/** `bankTransferReferences/{variableSymbol}`: one variable symbol, reserved with create() for one donation. */
export const bankTransferReferenceSchema = z.object({
  variableSymbol: z.string(),
  donationId: z.string(),
  wishId: z.string(),
  donorId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  createdAt: z.date(),
  dueAt: z.date(),
  /** dueAt + grace while the reference waits for money; null once paid or closed (the expiry sweep queries it). */
  expiresAt: z.date().nullable(),
  /** The Fio movement that paid it (its first matching incoming movement). */
  paidByMovementId: z.string().nullable(),
  payer: payerSchema.nullable(),
  /** Closed without money (expired): later money goes back in full. */
  closedAt: z.date().nullable(),
});
export type BankTransferReference = z.infer<typeof bankTransferReferenceSchema>;

/** One movement as downloaded, recorded before it is applied, with the decision taken for it (once). */
export const fioTransactionRecordSchema = z.object({
  movementId: z.string(),
  date: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  variableSymbol: z.string().nullable(),
  counterAccount: z.string().nullable(),
  bankCode: z.string().nullable(),
  counterAccountName: z.string().nullable(),
  messageForRecipient: z.string().nullable(),
  comment: z.string().nullable(),
  instructionId: z.string().nullable(),
  type: z.string().nullable(),
  bic: z.string().nullable(),
  /** `last` (the poller's download) or `period` (reconciliation found it). */
  source: z.enum(["last", "period"]),
  recordedAt: z.date(),
  /** What the movement means (src/payments/fio-match.ts), fixed when first decided; null until then. */
  decision: z.record(z.string(), z.unknown()).nullable(),
  /** Null until every effect of the decision is done (the poller's query for work left). */
  appliedAt: z.date().nullable(),
});
export type FioTransactionRecord = z.infer<typeof fioTransactionRecordSchema>;

export const FIO_ORDER_STATUSES = ["queued", "sending", "sent", "executed", "refused", "unknown"] as const;

/**
 * `fioOrders/{orderId}`: a payment order back to a sender. `refund` (a donation's refund through the closing path:
 * close, expiry, a late donation; its id comes from the refund's idempotency key) or `return` (money never booked:
 * an over-payment's excess, money after the wish or reference closed, a second payment; id `x_{movementId}`).
 * queued → sending (the import is under way) → sent (the bank accepted it; it may wait for a confirmation in internet
 * banking) → executed (its outgoing movement, carrying our comment, is in the feed). `refused` (the bank said no) and
 * `unknown` (no answer: it may or may not be at the bank) wait for ops, never re-sent automatically.
 */
export const fioOrderSchema = z.object({
  kind: z.enum(["refund", "return"]),
  donationId: z.string().nullable(),
  wishId: z.string().nullable(),
  /** Refunds: the donation's payment id (`fio_vs_<vs>`) the refund belongs to. */
  paymentIntentId: z.string().nullable(),
  /** The incoming movement whose money goes back (returns; refunds: the paying movement). */
  sourceMovementId: z.string().nullable(),
  reason: z.string(),
  amount: z.number().int(),
  currency: z.literal("CZK"),
  accountTo: z.string(),
  bankCode: z.string(),
  variableSymbol: z.string().nullable(),
  message: z.string(),
  status: z.enum(FIO_ORDER_STATUSES),
  /** Set while queued (the import's query), null after. */
  queuedAt: z.date().nullable(),
  /** Set while sending or sent and not yet executed (the stuck-order checks query it with the status), null after. */
  awaitingSince: z.date().nullable(),
  idInstruction: z.string().nullable(),
  executedMovementId: z.string().nullable(),
  lastError: z.string().nullable(),
  /**
   * A refused refund order: null until its refund has been failed through the ledger, then when (the poller's sweep
   * queries refused refund orders where this is null, so a run that died between the two finishes the next time).
   */
  refundFailedAt: z.date().nullable().optional(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type FioOrder = z.infer<typeof fioOrderSchema>;

/** `fioState/poller`: the lease that holds Fio's one-request-per-30-seconds limit across overlapping runs. */
export const fioPollerStateSchema = z.object({
  lastCalledAt: z.date().nullable(),
  lastCall: z.enum(["download", "import", "period"]).nullable(),
  lastDownloadAt: z.date().nullable(),
  lastReconciledAt: z.date().nullable(),
  /** The last failure (HTTP status or code), for ops; null after a good call. */
  lastError: z.string().nullable(),
  lastErrorAt: z.date().nullable(),
  /**
   * The feed is known complete up to here: the time a download (all since the bank's cursor) was made whose movements
   * are all recorded (every movement the bank booked before it is in fioTransactions). References expire only once this is
   * past the end of their expiry day. Null until the first good read (older documents: absent).
   */
  feedCompleteAt: z.date().nullable().default(null),
  /** The first failed call since the last good one (null while calls go through): how long Fio has been failing. */
  failingSince: z.date().nullable().default(null),
});
export type FioPollerState = z.infer<typeof fioPollerStateSchema>;

export const BANK_TRANSFER_REFERENCES = "bankTransferReferences";
/**
 * The Fio poller runs every minute: a feed it has not read, or a movement it has not decided, for this long is an
 * outage, not a blip (the `fio-feed-stale` alert and the status page's Fio watches).
 */
export const FIO_STALE_AFTER_MS = 30 * 60 * 1000;
export const FIO_TRANSACTIONS = "fioTransactions";
export const FIO_ORDERS = "fioOrders";
export const FIO_STATE = "fioState";
export const FIO_POLLER_DOC = "poller";

/** The donation's payment id for a bank transfer (seam-19: `fio_vs_<variableSymbol>`). */
export const fioPaymentId = (variableSymbol: string) => `fio_vs_${variableSymbol}`;
export const variableSymbolOfPaymentId = (paymentId: string) => (paymentId.startsWith("fio_vs_") ? paymentId.slice("fio_vs_".length) : null);
