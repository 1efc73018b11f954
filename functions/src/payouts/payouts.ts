import { createHash } from "node:crypto";
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { z } from "zod";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import { zodConverter } from "../lib/converter";
import type { TaskEnqueuer } from "../lib/tasks";
import { PROVIDER_EVENTS } from "../model/donation";
import type { ProviderName } from "../model/donation";
import type { ProviderEventRecord } from "../model/donation";
import { PAYOUTS, PAYOUT_ACCOUNTS, payoutAccountSchema, platformFee } from "../model/payout";
import type { Payout, PayoutAccount } from "../model/payout";
import type { Wish } from "../model/wish";
import { PaymentProviderError } from "../payments/provider";
import type { AccountEvent, PayoutEvent, ProviderTransfer, TransferEvent } from "../payments/provider";
import { wishRef } from "../store/wishes";
import { refs } from "../store/donations";
import type { Transfers } from "../payments/transfers";
import { appendLedgerEntry } from "../store/ledger";
import { payoutRef } from "../store/payouts";
import { currencySchema } from "../model/money";

/**
 * Payouts (F9: "when a wish gathers the needed amount, the money is transferred to the owner's bank account").
 * Donations are charged to the platform's Stripe account; a funded wish is paid out by Stripe Connect transfers to
 * its owner's Express account (separate charges and transfers), less the platform fee (0 today, see
 * PLATFORM_FEE_BASIS_POINTS). One `payouts/{wishId}` document per wish; one `payOutWish` task per round.
 *
 * Exactly once: each transfer is numbered (`seq`, never reused) and fixed in the payout document (`pendingTransfer`)
 * before the provider is called, with the idempotency key `payout-{wishId}-{seq}-k{keyAttempt}`
 * ({@link transferIdempotencyKey}); the round is not part of it. Every retry of that transfer, in its round or a
 * later one, first adopts a transfer Stripe already made (listed by the wish's transfer_group and number), and
 * otherwise repeats the same request under the same key, which Stripe answers from its idempotency store.
 * `keyAttempt` grows only after Stripe refused the request under the previous key, so no transfer exists under it
 * and a new key cannot pay twice ({@link runPayoutTask}). The transfer counts as paid only on the provider's verified
 * transfer event, which also writes the `payout` ledger entry.
 */
export const PAYOUT_QUEUE = "payOutWish";
/** Cloud Tasks attempts per payout task (the queue's retryConfig.maxAttempts, wired in index.ts). */
export const PAYOUT_MAX_ATTEMPTS = 10;

/** Provider errors that retrying cannot fix: the payout fails and waits for ops (`retryPayout`). */
const PERMANENT_CODES = new Set(["account_invalid", "resource_missing", "idempotency_error", "parameter_invalid_integer", "amount_too_large", "transfers_not_allowed"]);
/** Provider errors that mean the owner's account cannot receive transfers yet: held until Stripe says it can. */
const ONBOARDING_CODES = new Set(["insufficient_capabilities_for_transfer", "account_not_verified"]);

export const payoutTaskPayload = z.object({ wishId: idSchema, round: z.number().int().min(0) });
export type PayoutTaskPayload = z.infer<typeof payoutTaskPayload>;

export interface PayoutDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
}

const accountConverter = zodConverter(payoutAccountSchema);

export { payoutRef };
export const payoutAccountRef = (db: Firestore, uid: string) => db.collection(PAYOUT_ACCOUNTS).doc(uid).withConverter(accountConverter);

export function payoutTaskId(wishId: string, round: number): string {
  return `po-${createHash("sha256").update(`${wishId}|${round}`).digest("hex").slice(0, 40)}`;
}

/**
 * The key of one request for transfer `seq`: `keyAttempt` grows only after Stripe refused the previous request (so no
 * transfer exists under it); a retry whose outcome is unknown reuses the key.
 */
export function transferIdempotencyKey(wishId: string, seq: number, keyAttempt: number): string {
  return `payout-${wishId}-${seq}-k${keyAttempt}`;
}

/** Deterministic ledger ids: one provider money movement is one entry, whichever event or repair carried it. */
export const payoutLedgerId = {
  transfer: (transferId: string) => `payout_${transferId}`,
  reversal: (reversalId: string) => `payout_reversal_${reversalId}`,
};

/** Why a payout cannot be made now, if it cannot. */
export function holdOf(wish: Pick<Wish, "frozenAt">, account: PayoutAccount | undefined): { status: "on_hold" | "pending_onboarding"; reason: string } | null {
  if (wish.frozenAt) return { status: "on_hold", reason: "wish_frozen" };
  if (!account?.transfersActive) return { status: "pending_onboarding", reason: "owner_onboarding" };
  return null;
}

function allConfirmed(payout: Pick<Payout, "transfers">): boolean {
  return Object.values(payout.transfers).every((transfer) => transfer.confirmed);
}

/** The status of a payout with no transfer pending, from its transfers and what is still owed. */
function settledStatus(payout: Pick<Payout, "transfers">, owed: number): "queued" | "transferring" | "paid" {
  if (owed > 0) return "queued";
  return allConfirmed(payout) ? "paid" : "transferring";
}

/** A payout with nothing transferred yet, queued. */
export function newPayout(wish: Pick<Wish, "ownerId" | "currency">, wishId: string, now: Date): Payout {
  return {
    wishId,
    ownerId: wish.ownerId,
    currency: wish.currency,
    status: "queued",
    reason: null,
    destinationAccountId: null,
    grossAccounted: 0,
    feeAmount: 0,
    paidAmount: 0,
    shortfall: 0,
    pendingTransfer: null,
    transfers: {},
    nextSeq: 0,
    round: 0,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    paidAt: null,
  };
}

export type RequestPayoutOutcome = "not-funded" | "queued" | "held" | "nothing-owed" | "failed";

/**
 * Makes sure a funded wish's money is on its way: creates the payout (once), or queues a new round when more is
 * owed (a late donation) or a hold has ended. Called on the funded transition, on a funded wish's raised total
 * changing, when ops unfreeze a wish and when the owner's account becomes able to receive transfers. Idempotent: a
 * queued payout is only re-enqueued under its own deterministic task id; a failed one waits for ops.
 */
export async function requestPayout(deps: PayoutDeps, wishId: string): Promise<RequestPayoutOutcome> {
  const result = await deps.db.runTransaction(async (tx) => {
    const wish = (await tx.get(wishRef(deps.db, wishId))).data();
    if (!wish || wish.status !== "funded") return { outcome: "not-funded" as const };
    const [payoutSnap, accountSnap] = await Promise.all([tx.get(payoutRef(deps.db, wishId)), tx.get(payoutAccountRef(deps.db, wish.ownerId))]);
    const payout = payoutSnap.data();
    if (payout?.status === "failed") return { outcome: "failed" as const };
    if (payout?.status === "queued") return { outcome: "queued" as const, round: payout.round };
    const owed = wish.raised - (payout?.grossAccounted ?? 0);
    const now = deps.clock.now();
    if (payout && payout.pendingTransfer === null && owed <= 0) {
      // Nothing more to transfer. A refund or a lost dispute after the payout: the platform carries what the wish no
      // longer has (docs/operations.md). A payout that waited for more (a donation that was later refunded) is paid
      // once its transfers are confirmed.
      const status = payout.status === "transferring" ? settledStatus(payout, 0) : payout.status;
      if (payout.shortfall !== -owed || status !== payout.status) {
        tx.update(payoutRef(deps.db, wishId), { shortfall: -owed, status, updatedAt: now, ...(status === "paid" && !payout.paidAt ? { paidAt: now } : {}) });
        if (owed < 0) logger.warn("money paid out that the wish no longer has: a platform loss", { wishId, shortfall: -owed });
      }
      return { outcome: "nothing-owed" as const };
    }
    const hold = holdOf(wish, accountSnap.data());
    if (!payout) {
      tx.create(payoutRef(deps.db, wishId), { ...newPayout(wish, wishId, now), ...(hold ? { status: hold.status, reason: hold.reason } : {}) });
      return hold ? { outcome: "held" as const } : { outcome: "queued" as const, round: 0 };
    }
    if (hold) {
      if (payout.status !== hold.status || payout.reason !== hold.reason) tx.update(payoutRef(deps.db, wishId), { status: hold.status, reason: hold.reason, updatedAt: now });
      return { outcome: "held" as const };
    }
    const round = payout.round + 1;
    tx.update(payoutRef(deps.db, wishId), { status: "queued", reason: null, round, updatedAt: now });
    return { outcome: "queued" as const, round };
  });
  // Enqueue also for a payout that was already queued: a caller that crashed between its write and its enqueue is
  // repaired by the next call. The deterministic task id refuses a real duplicate.
  if (result.outcome === "queued" && result.round !== undefined) await enqueuePayout(deps, wishId, result.round);
  if (result.outcome === "held") logger.info("payout held", { wishId });
  return result.outcome;
}

/**
 * What the wish's over-paid donations hold above the amount asked and have not given back yet (docs/donations.md,
 * "Paid another amount"): booked (the ledger holds what arrived) but owed to their donors by an `overpayment` refund,
 * which may wait days (a bitcoin pull payment waits for its donor to claim it). Card payments are charged exactly.
 */
async function excessAwaitingRefund(tx: Transaction, db: Firestore, wishId: string): Promise<number> {
  const handPaid = await tx.get(refs.donations(db).where("wishId", "==", wishId).where("provider", "in", HAND_PAID_PROVIDERS));
  return handPaid.docs.reduce((sum, doc) => sum + Math.max(0, doc.data().netAmount - doc.data().amount), 0);
}

export async function enqueuePayout(deps: Pick<PayoutDeps, "tasks">, wishId: string, round: number): Promise<void> {
  const payload: PayoutTaskPayload = { wishId, round };
  await deps.tasks.enqueue(PAYOUT_QUEUE, payload, { id: payoutTaskId(wishId, round) });
}

/** The providers whose donors choose the amount they send (so a donation can arrive over-paid). */
const HAND_PAID_PROVIDERS: ProviderName[] = ["btcpay", "fio"];

/** A write of `payoutAccounts/{uid}`: only the edge to `transfersActive` releases the owner's held payouts. */
export async function onPayoutAccountChanged(deps: PayoutDeps, ownerId: string, transfersActive: { before: boolean; after: boolean }): Promise<number> {
  return transfersActive.after && !transfersActive.before ? releaseOnboardingHolds(deps, ownerId) : 0;
}

/** Every payout of `ownerId` held for onboarding is queued again (their account can now receive transfers). */
export async function releaseOnboardingHolds(deps: PayoutDeps, ownerId: string): Promise<number> {
  const held = await deps.db.collection(PAYOUTS).where("ownerId", "==", ownerId).where("status", "==", "pending_onboarding").get();
  let released = 0;
  for (const doc of held.docs) {
    if ((await requestPayout(deps, doc.id)) === "queued") released++;
  }
  if (released > 0) logger.info("payouts released after onboarding", { ownerId, released });
  return released;
}

export type PayoutTaskOutcome = "stale" | "already-handled" | "held" | "transferred" | "nothing-owed" | "failed";

type PendingTransfer = NonNullable<Payout["pendingTransfer"]>;
type Prepared =
  | { kind: "stop"; outcome: PayoutTaskOutcome; requeueRound?: number }
  | { kind: "transfer"; pending: PendingTransfer; retrying: boolean; payout: Payout };

/**
 * The `payOutWish` task. `retryCount` is Cloud Tasks' count of earlier attempts.
 *
 * Exactly once, whatever runs concurrently (a duplicate task, an ops retry, an attempt whose request is still in flight
 * at Stripe): a transfer is fixed in the payout (`pendingTransfer`: number, amount, destination and idempotency key)
 * before Stripe is called, and every later attempt for it — in this round or any later one — first lists the wish's
 * transfers (its transfer_group) and adopts one with the same number, and otherwise sends the very same request under
 * the very same key. The key changes only after Stripe answered that it did *not* transfer (a stored 4xx, which a
 * retry under the same key would only replay); an attempt whose outcome is unknown (no answer, a timeout, a 5xx, 409
 * `idempotency_key_in_use` while another attempt is executing) keeps the key, so Stripe either replays the transfer it
 * made or refuses while it is still making it. A new key is therefore only ever used when no transfer can exist under
 * an earlier one.
 */
export async function runPayoutTask(deps: PayoutDeps & { provider: Transfers }, payload: PayoutTaskPayload, retryCount: number): Promise<PayoutTaskOutcome> {
  const { wishId, round } = payload;
  const ref = payoutRef(deps.db, wishId);
  const prepared: Prepared = await deps.db.runTransaction(async (tx) => {
    const payout = (await tx.get(ref)).data();
    // A later round is queued: its task was enqueued after the commit that queued it, and if that enqueue failed, this
    // retry of an older round is what is left to notice. Enqueued again (the deterministic id refuses a duplicate).
    if (!payout || payout.round !== round) return { kind: "stop", outcome: "stale", ...(payout?.status === "queued" && payout.round > round ? { requeueRound: payout.round } : {}) };
    if (payout.status !== "queued") return { kind: "stop", outcome: "already-handled" };
    const [wishSnap, accountSnap] = await Promise.all([tx.get(wishRef(deps.db, wishId)), tx.get(payoutAccountRef(deps.db, payout.ownerId))]);
    const wish = wishSnap.data();
    const account = accountSnap.data();
    const now = deps.clock.now();
    if (!wish) {
      tx.update(ref, failedFields("wish_missing", now));
      return { kind: "stop", outcome: "failed" };
    }
    const hold = holdOf(wish, account);
    if (hold || !account) {
      tx.update(ref, { status: hold?.status ?? "pending_onboarding", reason: hold?.reason ?? "owner_onboarding", updatedAt: now });
      return { kind: "stop", outcome: "held" };
    }
    if (payout.pendingTransfer) {
      // An earlier attempt fixed this transfer: the same request, under the same key (adopted first if Stripe made it).
      tx.update(ref, { attempts: payout.attempts + 1, updatedAt: now });
      return { kind: "transfer", pending: payout.pendingTransfer, retrying: true, payout };
    }
    // An over-payment's excess (bitcoin, bank transfer) is booked but goes back to its donor: never paid out.
    const owed = wish.raised - payout.grossAccounted - (await excessAwaitingRefund(tx, deps.db, wishId));
    const fee = platformFee(payout.grossAccounted + owed) - payout.feeAmount;
    if (owed - fee <= 0) {
      tx.update(ref, { status: settledStatus(payout, 0), reason: null, shortfall: Math.max(0, -owed), updatedAt: now, ...(allConfirmed(payout) && !payout.paidAt ? { paidAt: now } : {}) });
      return { kind: "stop", outcome: "nothing-owed" };
    }
    const seq = payout.nextSeq;
    const pending: PendingTransfer = { seq, gross: owed, fee, amount: owed - fee, destination: account.accountId, keyAttempt: 0, idempotencyKey: transferIdempotencyKey(wishId, seq, 0) };
    tx.update(ref, { pendingTransfer: pending, nextSeq: seq + 1, attempts: payout.attempts + 1, updatedAt: now });
    return { kind: "transfer", pending, retrying: false, payout };
  });
  if (prepared.kind === "stop") {
    if (prepared.requeueRound !== undefined) await enqueuePayout(deps, wishId, prepared.requeueRound);
    return prepared.outcome;
  }

  const { pending, payout } = prepared;
  try {
    const adopted = prepared.retrying ? (await deps.provider.transfersOfWish(wishId)).find((transfer) => transfer.seq === pending.seq) : undefined;
    const transfer =
      adopted ??
      (await deps.provider.transfer({
        amount: pending.amount,
        currency: payout.currency,
        destination: pending.destination,
        wishId,
        ownerId: payout.ownerId,
        seq: pending.seq,
        idempotencyKey: pending.idempotencyKey,
      }));
    await recordTransfer(deps, wishId, pending, transfer);
    logger.info("payout transfer made", { wishId, transferId: transfer.transferId, seq: pending.seq, amount: pending.amount, adopted: adopted !== undefined });
    return "transferred";
  } catch (error) {
    if (!(error instanceof PaymentProviderError)) throw error;
    return afterTransferError(deps, wishId, pending, error, retryCount);
  }
}

/**
 * What a failed transfer attempt leaves behind. Stripe refused (`refused`): nothing was transferred under this key, so
 * the next attempt gets a new one; then the owner's account cannot receive transfers yet (held), or the error is
 * permanent (failed, for ops), or it may pass later (Cloud Tasks retries, e.g. `balance_insufficient` while charges
 * settle). Outcome unknown: the key stays; Cloud Tasks retries; the last attempt fails the payout for ops, whose
 * retry sends the same request again. Every write checks that the transfer is still pending (a concurrent attempt may
 * have recorded it), so a late error never marks a paid payout failed.
 */
async function afterTransferError(deps: PayoutDeps, wishId: string, pending: PendingTransfer, error: PaymentProviderError, retryCount: number): Promise<PayoutTaskOutcome> {
  const code = error.providerCode ?? "provider_error";
  const lastAttempt = retryCount + 1 >= PAYOUT_MAX_ATTEMPTS;
  const outcome: PayoutTaskOutcome | "retry" = ONBOARDING_CODES.has(code)
    ? "held"
    : error.refused && PERMANENT_CODES.has(code)
      ? "failed"
      : lastAttempt
        ? "failed"
        : "retry";
  const ref = payoutRef(deps.db, wishId);
  const written = await deps.db.runTransaction(async (tx) => {
    const payout = (await tx.get(ref)).data();
    if (!payout || payout.pendingTransfer?.seq !== pending.seq || payout.pendingTransfer.keyAttempt !== pending.keyAttempt) return false;
    const now = deps.clock.now();
    const nextKey = error.refused
      ? { ...payout.pendingTransfer, keyAttempt: pending.keyAttempt + 1, idempotencyKey: transferIdempotencyKey(wishId, pending.seq, pending.keyAttempt + 1) }
      : payout.pendingTransfer;
    if (outcome === "held") tx.update(ref, { status: "pending_onboarding", reason: code, pendingTransfer: nextKey, updatedAt: now });
    else if (outcome === "failed") tx.update(ref, { ...failedFields(error.refused && PERMANENT_CODES.has(code) ? code : `retries_exhausted: ${code}`, now), pendingTransfer: nextKey });
    else tx.update(ref, { reason: code, pendingTransfer: nextKey, updatedAt: now });
    return true;
  });
  if (outcome === "held") logger.warn("payout held: the owner's account cannot receive transfers", { wishId, code });
  else if (outcome === "failed") logger.error("payout failed; waiting for ops", { wishId, code, retryCount, recorded: written });
  else logger.warn("payout attempt failed; Cloud Tasks retries", { wishId, code, retryCount, refused: error.refused });
  if (outcome === "retry") throw error;
  return written ? outcome : "already-handled";
}

/**
 * What Stripe already did for the payout's pending transfer: lists the wish's transfers (its transfer_group) and, if
 * one carries the pending transfer's number, records it as this payout's (exactly as the task would). Answers the
 * adopted transfer id, or null when Stripe holds none (or nothing is pending).
 */
export async function adoptPendingTransfer(deps: PayoutDeps & { provider: Pick<Transfers, "transfersOfWish"> }, wishId: string): Promise<string | null> {
  const pending = (await payoutRef(deps.db, wishId).get()).data()?.pendingTransfer;
  if (!pending) return null;
  const made = (await deps.provider.transfersOfWish(wishId)).find((transfer) => transfer.seq === pending.seq);
  if (!made) return null;
  await recordTransfer(deps, wishId, pending, made);
  logger.info("payout transfer adopted", { wishId, transferId: made.transferId, seq: pending.seq });
  return made.transferId;
}

/** A payout that waits for ops (`retryPayout`), with why. */
function failedFields(reason: string, now: Date) {
  return { status: "failed" as const, reason: reason.slice(0, 200), updatedAt: now };
}

/** Stores the provider's answer for the pending transfer, and queues the next round if more became owed meanwhile. */
async function recordTransfer(deps: PayoutDeps, wishId: string, pending: PendingTransfer, transfer: ProviderTransfer): Promise<void> {
  const ref = payoutRef(deps.db, wishId);
  const nextRound = await deps.db.runTransaction(async (tx) => {
    const payout = (await tx.get(ref)).data();
    const wish = (await tx.get(wishRef(deps.db, wishId))).data();
    if (!payout || payout.pendingTransfer?.seq !== pending.seq) return undefined; // recorded by a concurrent attempt
    const transfers = {
      ...payout.transfers,
      [transfer.transferId]: payout.transfers[transfer.transferId] ?? { seq: pending.seq, amount: transfer.amount, confirmed: false, reversals: {} },
    };
    const grossAccounted = payout.grossAccounted + pending.gross;
    const owed = (wish?.raised ?? 0) - grossAccounted;
    const status = settledStatus({ transfers }, owed);
    const now = deps.clock.now();
    const round = status === "queued" ? payout.round + 1 : payout.round;
    tx.update(ref, {
      transfers,
      grossAccounted,
      feeAmount: payout.feeAmount + pending.fee,
      shortfall: Math.max(0, -owed),
      pendingTransfer: null,
      destinationAccountId: pending.destination,
      status,
      reason: null,
      round,
      updatedAt: now,
      ...(status === "paid" ? { paidAt: now } : {}),
    });
    return status === "queued" ? round : undefined;
  });
  if (nextRound !== undefined) await enqueuePayout(deps, wishId, nextRound);
}

type AppliedOutcome = "applied" | "no_change" | "unknown_object";
export type PayoutEventOutcome = AppliedOutcome | "duplicate";

function eventRecord(event: PayoutEvent, outcome: ProviderEventRecord["outcome"], now: Date): ProviderEventRecord {
  return { provider: "stripe", type: event.type, outcome, donationId: null, providerCreatedAt: event.createdMs, processedAt: now };
}

/**
 * Applies one verified payout event (transfer created/reversed, Connect account updated) exactly once: the event id
 * is recorded in `providerEvents` in the same transaction as its effects.
 */
export async function processPayoutEvent(deps: { db: Firestore; clock: Clock; tasks: TaskEnqueuer }, event: PayoutEvent): Promise<PayoutEventOutcome> {
  const eventRef = deps.db.collection(PROVIDER_EVENTS).doc(event.eventId);
  let nextRound: number | undefined;
  const outcome = await deps.db.runTransaction(async (tx): Promise<PayoutEventOutcome> => {
    nextRound = undefined;
    if ((await tx.get(eventRef)).exists) return "duplicate";
    const now = deps.clock.now();
    let result: AppliedOutcome;
    if (event.kind === "account") result = await applyAccountEvent(deps.db, tx, event, now);
    else ({ outcome: result, nextRound } = await applyTransferEvent(deps.db, tx, event, now));
    tx.create(eventRef, eventRecord(event, result, now));
    return result;
  });
  const wishId = event.kind === "transfer" ? ourWishId(event.transfer) : null;
  if (wishId) {
    // Also when this event queued nothing: a payout left queued by a delivery or task whose enqueue failed after its
    // commit (Stripe redelivers what answered 500) gets its round's task again; the deterministic id refuses a duplicate.
    const round = nextRound ?? (await queuedRound(deps.db, wishId));
    if (round !== undefined) await enqueuePayout(deps, wishId, round);
  }
  logger.info("payout event processed", { eventId: event.eventId, type: event.type, outcome });
  return outcome;
}

/**
 * The wish a transfer pays out, if it can be one of ours: they always name a valid wish id and the wish's (supported)
 * currency. Another product's transfer, or metadata we never write, is not ours: recorded, never a 500 Stripe retries.
 */
function ourWishId(transfer: Pick<TransferEvent["transfer"], "wishId" | "currency">): string | null {
  return idSchema.safeParse(transfer.wishId).success && currencySchema.safeParse(transfer.currency).success ? transfer.wishId : null;
}

async function queuedRound(db: Firestore, wishId: string): Promise<number | undefined> {
  const payout = (await payoutRef(db, wishId).get()).data();
  return payout?.status === "queued" ? payout.round : undefined;
}

async function applyAccountEvent(db: Firestore, tx: Transaction, event: AccountEvent, now: Date): Promise<AppliedOutcome> {
  const { account } = event;
  if (!account.uid) return "unknown_object";
  const ref = payoutAccountRef(db, account.uid);
  const current = (await tx.get(ref)).data();
  if (!current || current.accountId !== account.accountId) return "unknown_object";
  // Stripe does not order deliveries: an account.updated older than the state we hold changes nothing.
  if (event.createdMs < current.stateAt) return "no_change";
  const { transfersActive, payoutsEnabled, detailsSubmitted, requirementsDue } = account;
  tx.update(ref, { transfersActive, payoutsEnabled, detailsSubmitted, requirementsDue, stateAt: event.createdMs, updatedAt: now });
  return "applied";
}

/**
 * A transfer event confirms the transfer (ledger entry `payout_{transferId}`, `payout.sent` to the outbox) and
 * books any reversal it carries (`payout_reversal_{id}`). Works whether or not the task has stored the transfer yet.
 * The payout is `paid` when its last transfer is confirmed and nothing more is owed; if more became owed meanwhile
 * (a late donation), it is queued under a new round at once (`nextRound`: the caller enqueues the task), so a payout
 * never waits in `transferring` for another write of the wish to nudge it.
 */
export async function applyTransferEvent(
  db: Firestore,
  tx: Transaction,
  event: Pick<TransferEvent, "transfer" | "eventId">,
  now: Date,
): Promise<{ outcome: AppliedOutcome; nextRound?: number }> {
  const { transfer } = event;
  const wishId = ourWishId(transfer);
  if (!wishId) return { outcome: "unknown_object" };
  const ref = payoutRef(db, wishId);
  const payout = (await tx.get(ref)).data();
  if (!payout) return { outcome: "unknown_object" };
  const known = payout.transfers[transfer.transferId] ?? { seq: transfer.seq ?? -1, amount: transfer.amount, confirmed: false, reversals: {} };
  const newReversals = Object.entries(transfer.reversals).filter(([id]) => known.reversals[id] === undefined);
  if (known.confirmed && newReversals.length === 0) return { outcome: "no_change" };
  const wish = (await tx.get(wishRef(db, wishId))).data();

  const currency = currencySchema.parse(transfer.currency);
  const entry = (kind: "payout" | "payout_reversal", id: string, amount: number, providerObjectId: string) =>
    appendLedgerEntry(db, tx, id, {
      kind,
      wishId,
      donationId: null,
      donorId: null,
      amount,
      currency,
      provider: "stripe",
      providerObjectId,
      eventId: event.eventId,
      createdAt: now,
    });
  let paidAmount = payout.paidAmount;
  if (!known.confirmed) {
    entry("payout", payoutLedgerId.transfer(transfer.transferId), -transfer.amount, transfer.transferId);
    paidAmount += transfer.amount;
    addToOutbox(db, tx, { id: `payout.sent:${transfer.transferId}`, type: "payout.sent", wishId, ownerId: payout.ownerId, amount: transfer.amount, currency: transfer.currency }, now);
  }
  for (const [reversalId, amount] of newReversals) {
    entry("payout_reversal", payoutLedgerId.reversal(reversalId), amount, reversalId);
    paidAmount -= amount;
  }
  const transfers = { ...payout.transfers, [transfer.transferId]: { ...known, confirmed: true, reversals: { ...known.reversals, ...Object.fromEntries(newReversals) } } };
  const owed = (wish?.raised ?? 0) - payout.grossAccounted;
  const settled = payout.status === "transferring" && payout.pendingTransfer === null ? settledStatus({ transfers }, owed) : payout.status;
  const nextRound = settled === "queued" && payout.status !== "queued" ? payout.round + 1 : undefined;
  tx.update(ref, {
    transfers,
    paidAmount,
    updatedAt: now,
    ...(settled === "paid" && payout.status !== "paid" ? { status: "paid", paidAt: now } : {}),
    ...(nextRound !== undefined ? { status: "queued", round: nextRound, reason: null } : {}),
    ...(newReversals.length > 0 ? { reason: "transfer_reversed" } : {}),
  });
  if (newReversals.length > 0) logger.warn("payout transfer reversed", { wishId, transferId: transfer.transferId, reversals: newReversals.length });
  return { outcome: "applied", ...(nextRound !== undefined ? { nextRound } : {}) };
}
