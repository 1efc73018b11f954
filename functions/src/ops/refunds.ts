import { FieldValue } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { TaskEnqueuer } from "../lib/tasks";
import { audited, reasonSchema } from "../store/audit-log";
import { reopenRefund } from "../closing/refunds";
import { wishRef } from "../store/wishes";

/**
 * Admin-only ops actions (callables guarded by the `admin: true` custom claim; see docs/operations.md). Every action,
 * including a refused one, is written to `auditLog/{id}` with who did it, to what, why and what happened.
 */
export interface OpsDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
}

export const retryRefundInput = z.object({ donationId: idSchema, reason: reasonSchema }).strict();
export const freezeWishInput = z.object({ wishId: idSchema, frozen: z.boolean(), reason: reasonSchema }).strict();

/**
 * `retryRefund({donationId, reason})`: a refund that failed (see `ops/refundFailures/items`) is tried again under a
 * new generation: a new idempotency key (Stripe replays a stored error for the old one), a new task id, and the task
 * first folds in every refund Stripe already holds for the payment, so a retry can never refund twice. A donation of
 * a closed wish that holds money but never got a refund request gets one.
 */
export type RetryRefundResult = { result: "queued"; generation: number } | { result: "waiting_dispute" };

export async function retryRefund(deps: OpsDeps, adminUid: string, data: unknown): Promise<RetryRefundResult> {
  const input = parseInput(retryRefundInput, data);
  return audited(deps, { action: "retryRefund", actorId: adminUid, target: `donations/${input.donationId}`, reason: input.reason }, async () => {
    const reopened = await reopenRefund(deps, input.donationId);
    switch (reopened.outcome) {
      case "missing":
        throw new DomainError("donation_not_found", { field: "donationId" });
      case "not-failed":
        throw new DomainError("refund_not_failed", { params: { status: reopened.status } });
      case "nothing-to-refund":
        throw new DomainError("nothing_to_refund");
      case "queued":
        return { result: "queued" as const, generation: reopened.generation };
      case "waiting-dispute":
        // A request made now for a donation under an open chargeback: it refunds once the bank decides.
        return { result: "waiting_dispute" as const };
    }
  });
}

/**
 * `freezeWish({wishId, frozen, reason})`: ops hold a wish (suspected fraud, a report): a frozen wish accepts no
 * donations (the donate callable refuses a wish with `frozenAt` set) and cannot be paid out; closing and refunds still
 * work. `frozen: false` lifts the hold.
 */
export async function freezeWish(deps: OpsDeps, adminUid: string, data: unknown): Promise<{ result: "frozen" | "unfrozen" | "unchanged" }> {
  const input = parseInput(freezeWishInput, data);
  const action = input.frozen ? "freezeWish" : "unfreezeWish";
  return audited(deps, { action, actorId: adminUid, target: `wishes/${input.wishId}`, reason: input.reason }, async () => {
    const ref = wishRef(deps.db, input.wishId);
    return deps.db.runTransaction(async (tx) => {
      const wish = (await tx.get(ref)).data();
      if (!wish) throw new DomainError("wish_not_found", { field: "wishId" });
      const isFrozen = wish.frozenAt != null;
      if (isFrozen === input.frozen) return { result: "unchanged" as const };
      const now = deps.clock.now();
      // The reason stays in the audit log: every viewer of the wish (its organizer too) reads the whole document.
      // `frozenReason` is removed where an earlier version wrote it.
      tx.update(ref, { frozenAt: input.frozen ? now : null, frozenReason: FieldValue.delete(), updatedAt: now });
      return { result: input.frozen ? ("frozen" as const) : ("unfrozen" as const) };
    });
  });
}
