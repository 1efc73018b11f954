import type { Firestore, QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { Clock } from "../lib/clock";
import { logger } from "../lib/log";
import { isFirestoreError } from "../lib/firestore-errors";
import { FIO_STALE_AFTER_MS, fioPaymentId } from "../model/bank-transfer";
import type { BankTransferReference, FioOrder, FioPollerState, FioTransactionRecord } from "../model/bank-transfer";
import { DONATIONS } from "../model/donation";
import { FIO_MIN_INTERVAL_MS, FioRateLimited } from "../payments/fio";
import type { FioBankApi, FioDomesticOrder, FioMovement } from "../payments/fio";
import { decideIncoming, decideOutgoing, normaliseVariableSymbol, orderComment, startOfBankDay } from "../payments/fio-match";
import type { IncomingDecision, MovementDecision, ReturnReason } from "../payments/fio-match";
import { PaymentProviderError } from "../payments/provider";
import type { PaymentEvent } from "../payments/provider";
import { bankRefs } from "../store/bank-transfer";
import { wishRef } from "../store/wishes";
import { recordFinding } from "./reconcile";
import type { FindingKind } from "./reconcile";

/**
 * The bank-transfer rail's settlement (docs/donations.md "Bank transfer", docs/operations.md "Bank transfers (Fio)"):
 * one run of the every-minute poller. Fio allows one request per token per 30 seconds, so a run makes at most one
 * call, claimed through a lease (`fioState/poller.lastCalledAt`, in a transaction: of two overlapping runs one calls,
 * the other only applies what is recorded). The call is, in this order of priority:
 * - `import`: queued payment orders (refunds, returns), all in one file, when the previous call was not an import;
 * - `period`: once a day, the last RECONCILE_DAYS days again (repairs anything a download lost);
 * - `download`: the movements since the bank's cursor.
 * Downloaded movements are recorded (`fioTransactions/{movementId}`, created, never overwritten) in the commit right
 * after the answer, before anything is applied: the bank's cursor has moved, so the record is what we hold. Then each
 * unapplied record is decided once (the decision stored on it, in the transaction that claims its variable symbol) and
 * applied through idempotent steps (provider events deduplicated by `fio_<movementId>`, orders and findings with
 * deterministic ids), then marked applied. A crash anywhere re-runs the remaining steps, never a step twice.
 * Unpaid references expire last, and only once the feed is known complete past the end of their expiry day
 * (`fioState/poller.feedCompleteAt`) and every recorded movement is decided: Fio being down never expires a reference
 * whose money the bank booked in time.
 */

export interface FioSettlementDeps {
  db: Firestore;
  clock: Clock;
  bank: FioBankApi;
  /** Our account: the `accountFrom` of every order. */
  account: { accountNumber: string };
  /** The donations ledger (processPaymentEvent) with its dependencies bound. */
  applyPaymentEvent: (event: PaymentEvent) => Promise<unknown>;
}

export type FioCall = "download" | "import" | "period";

export interface FioRunReport {
  call: FioCall | null;
  /** too_soon: another call was made within 30 s (the lease); rate_limited: the bank answered 409. */
  result: "ok" | "too_soon" | "rate_limited" | "unavailable";
  recorded: number;
  applied: number;
  expired: number;
}

export interface FioRunOptions {
  call?: FioCall;
  /** Page size of the stuck-order sweep (tests lower it). */
  stuckBatch?: number;
}

/** A day of movements is re-read this far back by the daily reconciliation. */
export const RECONCILE_DAYS = 7;
const RECONCILE_EVERY_MS = 24 * 60 * 60 * 1000;
/** Margin over the bank's 30 s: clocks of the bank and of our instances differ a little. */
const LEASE_MS = FIO_MIN_INTERVAL_MS + 2_000;
/** An order still `sending` after this had no answer we recorded: ops check internet banking. */
const SENDING_STUCK_MS = 60 * 60 * 1000;
/** A sent order not executed after this probably waits for a confirmation in internet banking. */
const UNCONFIRMED_MS = 3 * 24 * 60 * 60 * 1000;
const APPLY_BATCH = 200;
const STUCK_BATCH = 100;
export const FEED_STALE_MESSAGE = "Fio feed stale: no good read of the account for 30 minutes";
const IMPORT_BATCH = 100;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** One run of the poller (the scheduled function fioPoll). */
export async function runFioPoll(deps: FioSettlementDeps, options: FioRunOptions = {}): Promise<FioRunReport> {
  const claimed = await claimCall(deps, options.call);
  const call = claimed?.call ?? null;
  let result: FioRunReport["result"] = "too_soon";
  let recorded = 0;
  if (claimed) {
    try {
      recorded = await performCall(deps, claimed.call);
      result = "ok";
      // A download's movements (everything since the bank's cursor) are all recorded: the feed is complete up to the
      // moment the call was made. Not a period read: it covers RECONCILE_DAYS only, and may start after the last gap.
      const read = claimed.call === "download" ? { feedCompleteAt: claimed.at } : {};
      await bankRefs.pollerState(deps.db).set({ lastError: null, lastErrorAt: null, failingSince: null, ...read }, { merge: true });
    } catch (error) {
      result = error instanceof FioRateLimited ? "rate_limited" : "unavailable";
      if (!(error instanceof FioRateLimited) && !(error instanceof PaymentProviderError)) throw error;
      const code = error instanceof PaymentProviderError ? (error.providerCode ?? "fio_error") : "fio_409";
      const ref = bankRefs.pollerState(deps.db);
      const failingSince = (await ref.get()).data()?.failingSince ?? deps.clock.now();
      await ref.set({ lastError: code, lastErrorAt: deps.clock.now(), failingSince }, { merge: true });
      logger.warn("Fio call did not go through; the next run tries again", { call, code, failingSince: failingSince.toISOString() });
    }
  }
  const applied = await applyRecorded(deps);
  const state = (await bankRefs.pollerState(deps.db).get()).data();
  warnIfFeedStale(state, deps.clock.now());
  const expired = await expireUnpaidReferences(deps, state?.feedCompleteAt ?? null);
  await flagStuckOrders(deps, options.stuckBatch ?? STUCK_BATCH);
  await failRefusedRefunds(deps, options.stuckBatch ?? STUCK_BATCH);
  return { call, result, recorded, applied, expired };
}

/** Reconciliation on demand (ops, tests): re-read a period now (if the lease allows) and apply what was missing. */
export async function reconcileFioPeriod(deps: FioSettlementDeps): Promise<FioRunReport> {
  return runFioPoll(deps, { call: "period" });
}

// ---- the lease ----

const EMPTY_STATE: FioPollerState = {
  lastCalledAt: null,
  lastCall: null,
  lastDownloadAt: null,
  lastReconciledAt: null,
  lastError: null,
  lastErrorAt: null,
  feedCompleteAt: null,
  failingSince: null,
};

async function claimCall(deps: FioSettlementDeps, forced: FioCall | undefined): Promise<{ call: FioCall; at: Date } | null> {
  const queued = forced ? false : !(await bankRefs.orders(deps.db).where("queuedAt", "<=", deps.clock.now()).limit(1).get()).empty;
  const ref = bankRefs.pollerState(deps.db);
  return deps.db.runTransaction(async (tx) => {
    const state = { ...EMPTY_STATE, ...(await tx.get(ref)).data() };
    const now = deps.clock.now();
    if (state.lastCalledAt && now.getTime() - state.lastCalledAt.getTime() < LEASE_MS) return null;
    const reconcileDue = state.lastReconciledAt !== null && now.getTime() - state.lastReconciledAt.getTime() >= RECONCILE_EVERY_MS;
    const call: FioCall = forced ?? (queued && state.lastCall !== "import" ? "import" : reconcileDue ? "period" : "download");
    tx.set(
      ref,
      {
        ...state,
        lastCalledAt: now,
        lastCall: call,
        ...(call === "download" ? { lastDownloadAt: now, lastReconciledAt: state.lastReconciledAt ?? now } : {}),
        ...(call === "period" ? { lastReconciledAt: now } : {}),
      },
      { merge: true },
    );
    return { call, at: now };
  });
}

async function performCall(deps: FioSettlementDeps, call: FioCall): Promise<number> {
  if (call === "import") return importQueuedOrders(deps);
  const now = deps.clock.now();
  const statement =
    call === "download" ? await deps.bank.lastMovements() : await deps.bank.periodMovements(isoDay(new Date(now.getTime() - RECONCILE_DAYS * 86_400_000)), isoDay(now));
  return recordMovements(deps, statement.movements, call === "download" ? "last" : "period");
}

// ---- recording ----

/** Creates a record for every movement not yet recorded. Answers how many were new. */
export async function recordMovements(deps: Pick<FioSettlementDeps, "db" | "clock">, movements: FioMovement[], source: FioTransactionRecord["source"]): Promise<number> {
  let created = 0;
  for (let start = 0; start < movements.length; start += 400) {
    const chunk = movements.slice(start, start + 400);
    const refs = chunk.map((movement) => bankRefs.transaction(deps.db, movement.movementId));
    const snaps = refs.length > 0 ? await deps.db.getAll(...refs) : [];
    const fresh = chunk.filter((_, index) => !snaps[index]?.exists);
    const now = deps.clock.now();
    const record = (movement: FioMovement): FioTransactionRecord => ({ ...movement, source, recordedAt: now, decision: null, appliedAt: null });
    const batch = deps.db.batch();
    for (const movement of fresh) batch.create(bankRefs.transaction(deps.db, movement.movementId), record(movement));
    try {
      await batch.commit();
      created += fresh.length;
    } catch (error) {
      if (!isFirestoreError(error, "already-exists")) throw error;
      // Another run recorded some of them meanwhile: one by one, skipping those.
      for (const movement of fresh) {
        try {
          await bankRefs.transaction(deps.db, movement.movementId).create(record(movement));
          created++;
        } catch (inner) {
          if (!isFirestoreError(inner, "already-exists")) throw inner;
        }
      }
    }
  }
  if (created > 0) logger.info("Fio movements recorded", { source, created, downloaded: movements.length });
  return created;
}

// ---- deciding and applying ----

async function applyRecorded(deps: FioSettlementDeps): Promise<number> {
  const pending = await bankRefs.transactions(deps.db).where("appliedAt", "==", null).limit(APPLY_BATCH).get();
  // In the bank's order: a second payment to one symbol is decided after the first.
  const records = pending.docs.map((doc) => doc.data()).sort((a, b) => Number(a.movementId) - Number(b.movementId) || a.movementId.localeCompare(b.movementId));
  let applied = 0;
  for (const record of records) {
    try {
      const decision = (record.decision as MovementDecision | null) ?? (await decide(deps, record.movementId));
      if (!decision) continue;
      await perform(deps, record, decision);
      await bankRefs.transaction(deps.db, record.movementId).update({ appliedAt: deps.clock.now() });
      applied++;
    } catch (error) {
      // One bad movement must not hold up the others; it stays unapplied and is tried again next run.
      logger.error("Fio movement could not be applied; retried next run", { movementId: record.movementId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return applied;
}

/** Decides a movement once, in the transaction that claims its variable symbol (a booking) and stores the decision. */
async function decide(deps: FioSettlementDeps, movementId: string): Promise<MovementDecision | null> {
  return deps.db.runTransaction(async (tx) => {
    const recordRef = bankRefs.transaction(deps.db, movementId);
    const record = (await tx.get(recordRef)).data();
    if (!record) return null;
    if (record.decision) return record.decision as MovementDecision;
    let decision: MovementDecision;
    if (record.amount < 0) {
      decision = decideOutgoing(record);
    } else if (record.amount === 0) {
      decision = { kind: "not_ours" };
    } else {
      const symbol = normaliseVariableSymbol(record.variableSymbol);
      const referenceRef = symbol ? bankRefs.reference(deps.db, symbol) : null;
      const reference = referenceRef ? (await tx.get(referenceRef)).data() : undefined;
      const wish = reference ? (await tx.get(wishRef(deps.db, reference.wishId))).data() : undefined;
      decision = decideIncoming(record, reference ?? null, wish ?? null);
      if (decision.kind === "book" && referenceRef) {
        tx.update(referenceRef, {
          paidByMovementId: record.movementId,
          payer: { account: record.counterAccount, bankCode: record.bankCode, name: record.counterAccountName },
          expiresAt: null,
        });
      }
    }
    tx.update(recordRef, { decision: { ...decision } });
    return decision;
  });
}

async function perform(deps: FioSettlementDeps, record: FioTransactionRecord, decision: MovementDecision): Promise<void> {
  switch (decision.kind) {
    case "book":
      return book(deps, record, decision);
    case "return":
      return queueReturn(deps, record, decision.donationId, decision.amount, decision.reason);
    case "manual_return":
      return movementFinding(deps, "bank_transfer_manual_return", record, decision.donationId, decision.amount, `Return ${decision.amount} by hand (${decision.why}, ${decision.reason}).`);
    case "unknown_reference":
      return movementFinding(deps, "bank_transfer_unmatched", record, null, record.amount, "Incoming money with no ElateMe variable symbol: find its sender, then return it or book it by hand.");
    case "order_executed":
      return orderExecuted(deps, record, decision.orderId);
    case "not_ours":
      return;
  }
}

async function book(deps: FioSettlementDeps, record: FioTransactionRecord, decision: Extract<IncomingDecision, { kind: "book" }>): Promise<void> {
  const symbol = normaliseVariableSymbol(record.variableSymbol) ?? "";
  const reference = (await bankRefs.reference(deps.db, symbol).get()).data();
  if (!reference) throw new Error(`reference ${symbol} vanished`);
  await deps.applyPaymentEvent({
    provider: "fio",
    kind: "payment",
    eventId: `fio_${record.movementId}`,
    type: "fio.incoming",
    createdMs: Date.parse(record.date) || deps.clock.now().getTime(),
    status: "succeeded",
    paymentIntentId: fioPaymentId(symbol),
    metadata: { donationId: reference.donationId, wishId: reference.wishId, donorId: reference.donorId },
    amountReceived: decision.received,
    currency: record.currency,
    chargeId: record.movementId,
    failureCode: null,
    cancellationReason: null,
  });
}

const RETURN_MESSAGES: Record<ReturnReason, string> = {
  wish_closed: "ElateMe: prani uz neprijima dary / the wish no longer takes gifts",
  reference_closed: "ElateMe: platba po splatnosti / payment after the due date",
  already_paid: "ElateMe: dar uz byl zaplacen / already paid",
};

/** A return order (money never booked) with a deterministic id: once per movement whatever the number of runs. */
async function queueReturn(deps: FioSettlementDeps, record: FioTransactionRecord, donationId: string | null, amount: number, reason: ReturnReason): Promise<void> {
  const reference = donationId ? (await bankRefs.reference(deps.db, normaliseVariableSymbol(record.variableSymbol) ?? "-").get()).data() : undefined;
  await createOrder(deps, `x_${record.movementId}`, {
    kind: "return",
    donationId,
    wishId: reference?.wishId ?? null,
    paymentIntentId: null,
    sourceMovementId: record.movementId,
    reason,
    amount,
    accountTo: record.counterAccount ?? "",
    bankCode: record.bankCode ?? "",
    variableSymbol: normaliseVariableSymbol(record.variableSymbol),
    message: RETURN_MESSAGES[reason],
  });
}

/** Creates `fioOrders/{orderId}` queued for the next import, unless it exists. */
export async function createOrder(
  deps: Pick<FioSettlementDeps, "db" | "clock">,
  orderId: string,
  order: Omit<FioOrder, "status" | "queuedAt" | "awaitingSince" | "idInstruction" | "executedMovementId" | "lastError" | "createdAt" | "updatedAt" | "currency">,
): Promise<FioOrder> {
  const ref = bankRefs.order(deps.db, orderId);
  const now = deps.clock.now();
  const created: FioOrder = { ...order, currency: "CZK", status: "queued", queuedAt: now, awaitingSince: null, idInstruction: null, executedMovementId: null, lastError: null, createdAt: now, updatedAt: now };
  try {
    await ref.create(created);
    logger.info("Fio order queued", { orderId, kind: order.kind, reason: order.reason, amount: order.amount, donationId: order.donationId });
    return created;
  } catch (error) {
    if (!isFirestoreError(error, "already-exists")) throw error;
    const existing = (await ref.get()).data();
    if (!existing) throw error;
    return existing;
  }
}

/**
 * Refund orders the bank refused moved no money: their refunds fail, through the ledger like every refund event (once
 * per order), so the donation's refund request fails into the ops queue (refundFailures) and `retryRefund` makes a new
 * order. Without it the request stayed `requested` for good: never retried, and the money audit saw a refund under way.
 * A sweep at the end of every run, not a step of the import: an order is marked refused (`refundFailedAt: null`) in the
 * import's own write, and a run that dies before its refund is failed leaves it to the next run's sweep.
 */
async function failRefusedRefunds(deps: FioSettlementDeps, batch: number): Promise<void> {
  const left = await bankRefs.orders(deps.db).where("status", "==", "refused").where("kind", "==", "refund").where("refundFailedAt", "==", null).limit(batch).get();
  for (const doc of left.docs) {
    const order = doc.data();
    const id = doc.id;
    if (order.paymentIntentId) {
      await deps.applyPaymentEvent({
        provider: "fio",
        kind: "refund",
        eventId: `fio_refused_${id}`,
        type: "fio.import_refused",
        createdMs: deps.clock.now().getTime(),
        paymentIntentId: order.paymentIntentId,
        chargeId: order.sourceMovementId ?? "",
        currency: order.currency,
        refunds: [{ id, amount: order.amount, status: "failed" }],
      });
    }
    await doc.ref.update({ refundFailedAt: deps.clock.now() });
  }
}

async function orderExecuted(deps: FioSettlementDeps, record: FioTransactionRecord, orderId: string): Promise<void> {
  const ref = bankRefs.order(deps.db, orderId);
  const order = (await ref.get()).data();
  if (!order) {
    logger.warn("outgoing Fio movement with our comment but no such order", { movementId: record.movementId, orderId });
    return;
  }
  if (order.kind === "refund" && order.paymentIntentId) {
    // The refund's confirmation: the money left our account. Same event id on every re-run (dedup in the ledger).
    await deps.applyPaymentEvent({
      provider: "fio",
      kind: "refund",
      eventId: `fio_${record.movementId}`,
      type: "fio.outgoing",
      createdMs: Date.parse(record.date) || deps.clock.now().getTime(),
      paymentIntentId: order.paymentIntentId,
      chargeId: order.sourceMovementId ?? "",
      currency: order.currency,
      refunds: [{ id: orderId, amount: order.amount, status: "succeeded" }],
    });
  }
  const now = deps.clock.now();
  await ref.update({ status: "executed", executedMovementId: record.movementId, queuedAt: null, awaitingSince: null, updatedAt: now });
}

interface FindingSubject {
  paymentIntentId: string | null;
  donationId: string | null;
  wishId: string | null;
  amount: number;
  currency: string;
}

/**
 * `ops/reconciliation/findings/{kind}_{objectId}` (docs/operations.md), one per movement or order, recorded like every
 * reconciliation finding (settlement/reconcile.ts, recordFinding): seen again (a stuck order is flagged on every run),
 * it only moves `lastSeenAt`, and a finding ops resolved stays resolved unless what it reports happened again after
 * the resolution (`occurredAt`: an order ops re-queued that the bank refused again, or that got stuck again).
 */
async function writeFinding(deps: Pick<FioSettlementDeps, "db" | "clock">, kind: FindingKind, objectId: string, subject: FindingSubject, detail: string, occurredAt?: Date): Promise<void> {
  await recordFinding(deps, { kind, provider: "fio", objectId, ...subject, repaired: false, detail, ...(occurredAt ? { occurredAt } : {}) });
  logger.warn("Fio finding for ops", { kind, objectId, amount: subject.amount });
}

const movementFinding = (deps: FioSettlementDeps, kind: FindingKind, record: FioTransactionRecord, donationId: string | null, amount: number, detail: string) =>
  writeFinding(deps, kind, record.movementId, { paymentIntentId: null, donationId, wishId: null, amount, currency: record.currency }, detail);

/** `occurredAt`: when what the finding reports happened (an import attempt, the order's last change). */
const orderFinding = (deps: Pick<FioSettlementDeps, "db" | "clock">, kind: FindingKind, orderId: string, order: FioOrder, detail: string, occurredAt: Date) =>
  writeFinding(deps, kind, orderId, { paymentIntentId: order.paymentIntentId, donationId: order.donationId, wishId: order.wishId, amount: order.amount, currency: order.currency }, detail, occurredAt);

// ---- orders ----

/** Sends every queued order in one import file. Answers how many went. */
async function importQueuedOrders(deps: FioSettlementDeps): Promise<number> {
  const now = deps.clock.now();
  const queued = await bankRefs.orders(deps.db).where("queuedAt", "<=", now).orderBy("queuedAt").limit(IMPORT_BATCH).get();
  if (queued.empty) return 0;
  // Claimed as `sending` first (with a precondition: an order another run claimed is skipped), so a crash after the
  // call can never send it again: an order stuck in `sending` goes to ops, who look in internet banking.
  const claimed: { id: string; order: FioOrder }[] = [];
  for (const doc of queued.docs) {
    try {
      await doc.ref.update({ status: "sending", queuedAt: null, awaitingSince: now, updatedAt: now }, { lastUpdateTime: doc.updateTime });
      claimed.push({ id: doc.id, order: doc.data() });
    } catch (error) {
      if (!isFirestoreError(error, "failed-precondition")) throw error;
    }
  }
  if (claimed.length === 0) return 0;
  const orders: FioDomesticOrder[] = claimed.map(({ id, order }) => ({
    accountFrom: deps.account.accountNumber,
    currency: "CZK",
    amount: order.amount,
    accountTo: order.accountTo,
    bankCode: order.bankCode,
    variableSymbol: order.variableSymbol,
    messageForRecipient: order.message,
    comment: orderComment(id),
    date: isoDay(now),
  }));
  const setAll = async (change: Partial<FioOrder>) => {
    const batch = deps.db.batch();
    for (const { id } of claimed) batch.update(bankRefs.order(deps.db, id), { ...change, updatedAt: deps.clock.now() });
    await batch.commit();
  };
  try {
    const answer = await deps.bank.importOrders(orders);
    if (answer.errorCode === 0) {
      await setAll({ status: "sent", idInstruction: answer.idInstruction, lastError: null });
      logger.info("Fio orders imported", { orders: claimed.length, idInstruction: answer.idInstruction, status: answer.status });
    } else {
      await setAll({ status: "refused", awaitingSince: null, refundFailedAt: null, lastError: `${answer.errorCode}: ${answer.detail ?? answer.status}` });
      for (const { id, order } of claimed) await orderFinding(deps, "fio_order_refused", id, order, `Fio refused the import (${answer.errorCode}: ${answer.detail ?? answer.status}).`, now);
    }
  } catch (error) {
    if (error instanceof FioRateLimited) {
      // 409: the bank did nothing; the orders wait for the next import.
      await setAll({ status: "queued", queuedAt: now, awaitingSince: null });
      throw error;
    }
    const refused = error instanceof PaymentProviderError && error.refused;
    await setAll(refused ? { status: "refused", awaitingSince: null, refundFailedAt: null, lastError: error.providerCode } : { status: "unknown", awaitingSince: null, lastError: error instanceof PaymentProviderError ? error.providerCode : "error" });
    for (const { id, order } of claimed) {
      await orderFinding(deps, refused ? "fio_order_refused" : "fio_order_unknown", id, order, refused ? "Fio refused the import." : "No answer to the import: look in internet banking whether the order is there.", now);
    }
    throw error;
  }
  return claimed.length;
}

/**
 * Orders without an answer we recorded (`sending` for an hour) → unknown; sent but not executed for days →
 * unconfirmed (flagged again on every run until executed). Queried by status, so orders already handled (unknown,
 * refused, executed; an `unknown` order also drops `awaitingSince`) never take the places of those still to flag, and
 * paged, so any number of waiting orders are all seen.
 */
async function flagStuckOrders(deps: FioSettlementDeps, batch: number): Promise<void> {
  const now = deps.clock.now().getTime();
  const stuck = (status: "sending" | "sent", olderThanMs: number) => bankRefs.orders(deps.db).where("status", "==", status).where("awaitingSince", "<=", new Date(now - olderThanMs)).orderBy("awaitingSince");
  // `sending` orders leave the query as they are marked: each page is the query's head again.
  for (let page = await stuck("sending", SENDING_STUCK_MS).limit(batch).get(); !page.empty; page = await stuck("sending", SENDING_STUCK_MS).limit(batch).get()) {
    for (const doc of page.docs) {
      const order = doc.data();
      await doc.ref.update({ status: "unknown", awaitingSince: null, lastError: "no_answer_recorded", updatedAt: new Date(now) });
      await orderFinding(deps, "fio_order_unknown", doc.id, order, "The import was sent but no answer was recorded: look in internet banking whether the order is there.", new Date(now));
    }
  }
  let last: QueryDocumentSnapshot<FioOrder> | undefined;
  for (;;) {
    const query = stuck("sent", UNCONFIRMED_MS).limit(batch);
    const page = await (last ? query.startAfter(last) : query).get();
    for (const doc of page.docs) {
      // The same wait is flagged on every run: only a new send (the order changed since) reopens a resolved finding.
      const order = doc.data();
      await orderFinding(deps, "fio_order_unconfirmed", doc.id, order, "Sent days ago and not executed: confirm it in internet banking (the bank may require it).", order.updatedAt);
    }
    if (page.size < batch) break;
    last = page.docs[page.docs.length - 1];
  }
}

// ---- expiry ----

/** Every run while the last good download (or, before any, the first failure) is FIO_STALE_AFTER_MS old: ops' alert `fio-feed-stale`. */
function warnIfFeedStale(state: FioPollerState | undefined, now: Date): void {
  const knownUpTo = state?.feedCompleteAt ?? null;
  const staleSince = knownUpTo ?? state?.failingSince ?? null;
  if (!staleSince || now.getTime() - staleSince.getTime() < FIO_STALE_AFTER_MS) return;
  logger.warn(FEED_STALE_MESSAGE, {
    feedCompleteAt: knownUpTo?.toISOString() ?? null,
    failingSince: state?.failingSince?.toISOString() ?? null,
    lastError: state?.lastError ?? null,
    staleMinutes: Math.floor((now.getTime() - staleSince.getTime()) / 60_000),
  });
}

/**
 * References whose due date and grace passed without money: the donation is canceled (`expired`), the reference closed
 * (in a transaction with its claim by a payment, so money that arrived meanwhile is booked, never lost), and money
 * arriving later goes back. Closed first, then the cancel event, then `expiresAt` cleared: a crash re-runs the rest.
 *
 * Money booked by the bank on or before the expiry day is in time (docs/donations.md "Bank transfer"), so a reference
 * expires only once the feed is known complete past the end of that day (`feedCompleteAt` at or after the next bank
 * day's start, i.e. `expiresAt` before the start of `feedCompleteAt`'s bank day) and no recorded movement is still
 * undecided: while Fio is down nothing expires, and what it booked in time is booked when it comes back.
 */
async function expireUnpaidReferences(deps: FioSettlementDeps, knownUpTo: Date | null): Promise<number> {
  if (!knownUpTo) return 0;
  const undecided = await bankRefs.transactions(deps.db).where("decision", "==", null).limit(1).get();
  if (!undecided.empty) return 0;
  const cutoff = startOfBankDay(knownUpTo);
  const due = await bankRefs.references(deps.db).where("expiresAt", "<", cutoff).limit(100).get();
  let expired = 0;
  for (const doc of due.docs) {
    const closed = await deps.db.runTransaction(async (tx) => {
      const reference = (await tx.get(doc.ref)).data();
      if (!reference || reference.paidByMovementId !== null || reference.expiresAt === null) return null;
      if (!reference.closedAt) tx.update(doc.ref, { closedAt: deps.clock.now() });
      return reference;
    });
    if (!closed) continue;
    // A symbol whose donation carries another one (a requestId race's loser, never shown to anyone) only closes.
    const donation = await deps.db.collection(DONATIONS).doc(closed.donationId).get();
    if (donation.get("paymentIntentId") === fioPaymentId(closed.variableSymbol)) await cancelExpired(deps, closed);
    await doc.ref.update({ expiresAt: null });
    expired++;
  }
  if (expired > 0) logger.info("unpaid bank-transfer references expired", { expired, feedCompleteAt: knownUpTo.toISOString() });
  return expired;
}

function cancelExpired(deps: FioSettlementDeps, closed: BankTransferReference): Promise<unknown> {
  return deps.applyPaymentEvent({
    provider: "fio",
    kind: "payment",
    eventId: `fio_expired_${closed.variableSymbol}`,
    type: "fio.expired",
    createdMs: deps.clock.now().getTime(),
    status: "canceled",
    paymentIntentId: fioPaymentId(closed.variableSymbol),
    metadata: { donationId: closed.donationId, wishId: closed.wishId, donorId: closed.donorId },
    amountReceived: 0,
    currency: closed.currency,
    chargeId: null,
    failureCode: null,
    cancellationReason: "expired",
  });
}
