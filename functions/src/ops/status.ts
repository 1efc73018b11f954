import type { Firestore, Query, Timestamp } from "firebase-admin/firestore";
import { FieldPath } from "firebase-admin/firestore";
import type { Clock } from "../lib/clock";
import { FINDINGS, MONEY_AUDIT_BREACHES, QUEUED_OVERDUE_AFTER_MS, REFUND_FAILURES, REFUND_REQUESTS } from "../model/closing";
import { DEAD_LETTERS } from "../events/consume";
import { FIO_STALE_AFTER_MS, FIO_STATE, FIO_TRANSACTIONS } from "../model/bank-transfer";

/**
 * `ops/status`: what needs a human, at a glance in the console (docs/operations.md, "The status page"). Refreshed every
 * few minutes by `refreshOpsStatus`: one count() and one "oldest" read per watch, whatever the platform's size. Every
 * watch is a query on documents the money and notification paths already keep, so the page cannot disagree with them.
 */
export const OPS_STATUS = "ops/status";

/** Work that should have happened by now: a refund task, a payout round or a deadline this late is a backlog. */
export const OVERDUE_AFTER_MS = QUEUED_OVERDUE_AFTER_MS;
/**
 * A refund the provider accepted but has not completed after this long needs a human: a card refund completes within
 * days, a bank-transfer order waits for a confirmation in internet banking, a bitcoin pull payment for its donor.
 */
export const STALLED_REFUND_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

interface Watch {
  /** What it means for ops, in words (shown on the page). */
  label: string;
  /** The runbook entry in docs/operations.md. */
  runbook: string;
  query: (db: Firestore, now: Date) => Query;
  /** The field that orders the items: the oldest is the one waiting longest. */
  since: string;
}

export const WATCHES = {
  failedRefunds: {
    label: "refunds that failed for good and wait for ops",
    runbook: "Runbook: failed refunds",
    query: (db) => db.collection(REFUND_FAILURES).where("resolvedAt", "==", null),
    since: "failedAt",
  },
  heldPayouts: {
    label: "payouts held (frozen wish) or failed after their retries",
    runbook: "Runbook: payouts",
    query: (db) => db.collection("payouts").where("status", "in", ["on_hold", "failed"]),
    since: "updatedAt",
  },
  reconciliationFindings: {
    label: "reconciliation findings nobody repaired or resolved",
    runbook: "Reconciliation with Stripe",
    // Every writer sets `resolvedAt` (null while open); ops set it by hand once a finding is handled, which clears it here.
    query: (db) => db.collection(FINDINGS).where("repaired", "==", false).where("resolvedAt", "==", null),
    since: "detectedAt",
  },
  moneyBreaches: {
    label: "open breaches of the money invariant",
    runbook: "The money audit",
    query: (db) => db.collection(MONEY_AUDIT_BREACHES).where("resolvedAt", "==", null),
    since: "detectedAt",
  },
  deadLetters: {
    label: "domain events the notification worker gave up on",
    runbook: "alert dead-letters",
    query: (db) => db.collection(DEAD_LETTERS),
    since: "receivedAt",
  },
  stuckPushes: {
    label: "pushes still sending after their worker's lease ran out",
    runbook: "The status page: stuck pushes",
    query: (db, now) => db.collectionGroup("notifications").where("push.state", "==", "sending").where("push.leaseUntil", "<", now),
    since: "push.leaseUntil",
  },
  overdueRefunds: {
    label: "refunds queued for more than an hour (task backlog)",
    runbook: "alert queue-backlog",
    query: (db, now) => db.collection(REFUND_REQUESTS).where("status", "==", "queued").where("updatedAt", "<", new Date(now.getTime() - OVERDUE_AFTER_MS)),
    since: "updatedAt",
  },
  stalledRefunds: {
    label: "refunds requested from the provider more than 7 days ago and not completed (unclaimed, unconfirmed)",
    runbook: "The status page: stalled refunds",
    // While a request is `requested` the money audit counts its wish as in flight and judges nothing there: only this
    // watch shows it. Same composite index (status, updatedAt) as overdueRefunds.
    query: (db, now) => db.collection(REFUND_REQUESTS).where("status", "==", "requested").where("updatedAt", "<", new Date(now.getTime() - STALLED_REFUND_AFTER_MS)),
    since: "updatedAt",
  },
  fioFeedFailing: {
    label: "the Fio bank feed failing for more than 30 minutes (bank transfers are not being read)",
    runbook: "alert fio-feed-stale",
    // The poller sets failingSince at its first failed call and clears it at the next good one (settlement/fio.ts).
    query: (db, now) => db.collection(FIO_STATE).where("failingSince", "<", new Date(now.getTime() - FIO_STALE_AFTER_MS)),
    since: "failingSince",
  },
  undecidedMovements: {
    label: "bank movements recorded over 30 minutes ago and still not decided (no bank-transfer reference expires meanwhile)",
    runbook: "Bank transfers (Fio)",
    // The poller decides each recorded movement in its next run; one it cannot decide (its apply keeps failing) also
    // holds back every reference's expiry (settlement/fio.ts), so it must not wait unseen. Index (decision, recordedAt).
    query: (db, now) => db.collection(FIO_TRANSACTIONS).where("decision", "==", null).where("recordedAt", "<", new Date(now.getTime() - FIO_STALE_AFTER_MS)),
    since: "recordedAt",
  },
  overduePayouts: {
    label: "payouts queued for more than an hour (task backlog)",
    runbook: "alert queue-backlog",
    query: (db, now) => db.collection("payouts").where("status", "==", "queued").where("updatedAt", "<", new Date(now.getTime() - OVERDUE_AFTER_MS)),
    since: "updatedAt",
  },
  overdueDeadlines: {
    label: "open wishes more than an hour past their deadline (deadline task backlog)",
    runbook: "Deadlines and Cloud Tasks",
    query: (db, now) => db.collection("wishes").where("status", "==", "open").where("deadline", "<", new Date(now.getTime() - OVERDUE_AFTER_MS)),
    since: "deadline",
  },
  openReports: {
    label: "moderation cases waiting for a decision (reported, or hidden by enough reporters)",
    runbook: "Runbook: reports",
    // A hidden case waits for review too (the content is off everybody's screen until ops keep or remove it); the
    // oldest item needs the composite index (status, lastReportedAt).
    query: (db) => db.collection("ops/moderation/cases").where("status", "in", ["open", "hidden"]),
    since: "lastReportedAt",
  },
} satisfies Record<string, Watch>;

export type WatchName = keyof typeof WATCHES;

export interface WatchStatus {
  label: string;
  runbook: string;
  count: number;
  /** The item waiting longest (its document path) and since when; null when there is none. */
  oldestPath: string | null;
  oldestSince: Date | null;
}

export interface OpsStatus {
  updatedAt: Date;
  /** Watches with at least one item, by name: empty when nothing needs a human. */
  attention: WatchName[];
  watches: Record<WatchName, WatchStatus>;
}

const asDate = (value: unknown): Date | null => (value instanceof Date ? value : value && typeof (value as Timestamp).toDate === "function" ? (value as Timestamp).toDate() : null);

async function look(db: Firestore, now: Date, watch: Watch): Promise<WatchStatus> {
  const query = watch.query(db, now);
  const [count, oldest] = await Promise.all([query.count().get(), query.orderBy(watch.since).limit(1).select(watch.since).get()]);
  const first = oldest.docs[0];
  return {
    label: watch.label,
    runbook: watch.runbook,
    count: count.data().count,
    oldestPath: first?.ref.path ?? null,
    oldestSince: first ? asDate(first.get(new FieldPath(...watch.since.split(".")))) : null,
  };
}

/** Recomputes `ops/status` from the documents it watches (a full replace: a watch that cleared shows 0). */
export async function refreshOpsStatus(deps: { db: Firestore; clock: Clock }): Promise<OpsStatus> {
  const now = deps.clock.now();
  const names = Object.keys(WATCHES) as WatchName[];
  const looked = await Promise.all(names.map((name) => look(deps.db, now, WATCHES[name])));
  const watches = Object.fromEntries(names.map((name, i) => [name, looked[i]])) as Record<WatchName, WatchStatus>;
  const status: OpsStatus = { updatedAt: now, attention: names.filter((name) => watches[name].count > 0), watches };
  await deps.db.doc(OPS_STATUS).set(status);
  return status;
}
