import { DomainError, parseInput } from "../lib/errors";
import { logger } from "../lib/log";
import { z } from "zod";
import { idSchema } from "../lib/ids";
import { audited, reasonSchema } from "../store/audit-log";
import type { OpsDeps } from "./refunds";
import { PaymentProviderError } from "../payments/provider";
import { adoptPendingTransfer, enqueuePayout, payoutRef } from "../payouts/payouts";
import type { Transfers } from "../payments/transfers";
import { queuedOverdue } from "../model/closing";
import type { Payout } from "../model/payout";

/**
 * A failed payout, or one still `queued` long after its last write (QUEUED_OVERDUE_AFTER_MS: its task is gone, or backs
 * off for hours): a new round's task runs it now. Safe with the old round's task alive: it finds itself stale, and the
 * pending transfer keeps its number and key across rounds.
 */
function retryable(payout: Pick<Payout, "status" | "updatedAt">, now: Date): boolean {
  return payout.status === "failed" || queuedOverdue(payout, now);
}

export const retryPayoutInput = z.object({ wishId: idSchema, reason: reasonSchema }).strict();

export type RetryPayoutResult = { result: "queued"; round: number } | { result: "adopted"; transferId: string };

/**
 * `retryPayout({wishId, reason})` (admins only, audited): a failed payout is tried again, after first asking Stripe
 * what it already did. A transfer Stripe made for the pending transfer number (an attempt whose answer was lost, or
 * one still in flight when the payout was marked failed) is adopted and the payout moves on without a new request
 * (`adopted`). Otherwise the payout is queued under a new round, whose task lists the transfers again and sends the
 * very same request under the very same idempotency key — unless Stripe refused that key, in which case a new key is
 * used (nothing can exist under the refused one). A retry can never pay twice.
 */
export async function retryPayout(deps: OpsDeps & { provider: Pick<Transfers, "transfersOfWish"> }, adminUid: string, data: unknown): Promise<RetryPayoutResult> {
  const input = parseInput(retryPayoutInput, data);
  return audited(deps, { action: "retryPayout", actorId: adminUid, target: `payouts/${input.wishId}`, reason: input.reason }, async () => {
    const ref = payoutRef(deps.db, input.wishId);
    const payout = (await ref.get()).data();
    if (!payout) throw new DomainError("payout_not_found", { field: "wishId" });
    if (!retryable(payout, deps.clock.now())) throw new DomainError("payout_not_failed", { params: { status: payout.status } });
    let adopted: string | null;
    try {
      adopted = await adoptPendingTransfer(deps, input.wishId);
    } catch (error) {
      if (!(error instanceof PaymentProviderError)) throw error;
      logger.warn("retryPayout: Stripe could not be asked what it already did", { wishId: input.wishId, code: error.providerCode });
      throw new DomainError("provider_unavailable");
    }
    if (adopted) return { result: "adopted" as const, transferId: adopted };
    const round = await deps.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current || !retryable(current, deps.clock.now())) {
        throw new DomainError("payout_not_failed", { params: { status: current?.status ?? "gone" } });
      }
      const next = current.round + 1;
      tx.update(ref, { status: "queued", reason: null, round: next, updatedAt: deps.clock.now() });
      return next;
    });
    await enqueuePayout(deps, input.wishId, round);
    return { result: "queued" as const, round };
  });
}
