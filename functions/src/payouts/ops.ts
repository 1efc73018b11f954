import { HttpsError } from "firebase-functions/v2/https";
import { z } from "zod";
import { parseInput } from "../lib/errors";
import { idSchema } from "../lib/ids";
import { audited, reasonSchema } from "../closing/ops";
import type { OpsDeps } from "../closing/ops";
import { enqueuePayout, payoutRef } from "./payouts";

export const retryPayoutInput = z.object({ wishId: idSchema, reason: reasonSchema }).strict();

/**
 * `retryPayout({wishId, reason})` (admins only, audited): a failed payout is queued again under a new round. The
 * round is part of the idempotency key (Stripe replays a stored error for the old key), and a new round first adopts
 * any transfer an earlier round made for the same transfer number, so a retry can never pay twice.
 */
export async function retryPayout(deps: OpsDeps, adminUid: string, data: unknown): Promise<{ result: "queued"; round: number }> {
  const input = parseInput(retryPayoutInput, data);
  return audited(deps, { action: "retryPayout", actorId: adminUid, target: `payouts/${input.wishId}`, reason: input.reason }, async () => {
    const ref = payoutRef(deps.db, input.wishId);
    const round = await deps.db.runTransaction(async (tx) => {
      const payout = (await tx.get(ref)).data();
      if (!payout) throw new HttpsError("not-found", "This wish has no payout.");
      if (payout.status !== "failed") {
        throw new HttpsError("failed-precondition", `The payout is ${payout.status}, not failed; only a failed payout can be retried.`);
      }
      const next = payout.round + 1;
      tx.update(ref, { status: "queued", reason: null, round: next, updatedAt: deps.clock.now() });
      return next;
    });
    await enqueuePayout(deps, input.wishId, round);
    return { result: "queued" as const, round };
  });
}
