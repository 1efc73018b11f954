import { Timestamp } from "firebase-admin/firestore";
import type { DocumentSnapshot } from "firebase-admin/firestore";
import { wishStatusSchema } from "../model/wish";
import type { WishStatus } from "../model/wish";
import { deadlinePassed, sameDeadline } from "../lib/deadline";

/** The fields of a wish the closing and payout domains react to. */
export interface WishClosingView {
  status: WishStatus;
  deadline: Date;
  raised: number;
  frozen: boolean;
}

/** Reads status and deadline from a trigger snapshot; undefined for a missing or malformed document. */
export function closingView(snap: DocumentSnapshot | undefined): WishClosingView | undefined {
  if (!snap?.exists) return undefined;
  const status = wishStatusSchema.safeParse(snap.get("status"));
  const deadline: unknown = snap.get("deadline");
  const raised: unknown = snap.get("raised");
  if (!status.success || !(deadline instanceof Timestamp) || typeof raised !== "number") return undefined;
  return { status: status.data, deadline: deadline.toDate(), raised, frozen: snap.get("frozenAt") instanceof Timestamp };
}

export type ClosingAction =
  | { kind: "schedule-deadline"; deadline: Date }
  | { kind: "refund-all"; reason: "closed" | "expired" }
  | { kind: "pay-out" };

/**
 * What a write to `wishes/{wishId}` asks of the closing domain. Pure, so every transition is unit-tested:
 * - an open wish created, or its deadline moved while open → schedule the deadline chain (hop 0 of that deadline);
 *   a deadline that was already past when the document was written (`writtenAt`: only an admin or seed write can do
 *   that) is left to the sweep; a trigger that runs late still schedules (the task then expires the wish at once);
 * - open → closed | expired → refund every succeeded donation;
 * - a funded wish: just funded, its raised total changed (a donation in flight at the funding succeeded, or a refund
 *   or dispute), or ops unfroze it → pay out what is owed.
 * Redelivery of the same write yields the same actions, and every action is idempotent.
 */
export function closingActions(before: WishClosingView | undefined, after: WishClosingView | undefined, writtenAt: Date): ClosingAction[] {
  if (!after) return [];
  const actions: ClosingAction[] = [];
  const deadlineSet = !before || !sameDeadline(before.deadline, after.deadline);
  if (after.status === "open" && deadlineSet && !deadlinePassed(after.deadline, writtenAt)) {
    actions.push({ kind: "schedule-deadline", deadline: after.deadline });
  }
  if (before?.status !== after.status && (after.status === "closed" || after.status === "expired")) {
    actions.push({ kind: "refund-all", reason: after.status });
  }
  if (after.status === "funded" && (before?.status !== "funded" || before.raised !== after.raised || (before.frozen && !after.frozen))) {
    actions.push({ kind: "pay-out" });
  }
  return actions;
}

/** Carries out {@link closingActions}. */
export async function onWishWrittenForClosing(
  deps: {
    scheduleDeadline: (deadline: Date) => Promise<void>;
    refundAll: (reason: "closed" | "expired") => Promise<unknown>;
    payOut: () => Promise<unknown>;
  },
  before: WishClosingView | undefined,
  after: WishClosingView | undefined,
  writtenAt: Date,
): Promise<ClosingAction[]> {
  const actions = closingActions(before, after, writtenAt);
  for (const action of actions) {
    if (action.kind === "schedule-deadline") await deps.scheduleDeadline(action.deadline);
    if (action.kind === "refund-all") await deps.refundAll(action.reason);
    if (action.kind === "pay-out") await deps.payOut();
  }
  return actions;
}
