import { FieldValue } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { WISHES } from "../model/wish";
import { refs } from "../store/donations";

/**
 * Flips an open wish to `funded` the first time its raised total reaches its amount. Donations only increment the
 * wish (no per-donation transaction on the hot document); this small transaction runs only when a donation may have
 * crossed the line, and the status check inside it makes the flip happen exactly once. A surprise wish is revealed
 * to its recipient in the same transaction (ownerId joins viewerIds). The outbox events have deterministic ids.
 */
export async function markFundedIfReached(deps: { db: Firestore; clock: Clock }, wishId: string): Promise<boolean> {
  const wishRef = refs.wish(deps.db, wishId);
  const first = (await wishRef.get()).data();
  if (!first || first.status !== "open" || first.raised < first.amount) return false;
  const flipped = await deps.db.runTransaction(async (tx) => {
    const wish = (await tx.get(wishRef)).data();
    if (!wish || wish.status !== "open" || wish.raised < wish.amount) return false;
    const now = deps.clock.now();
    tx.update(deps.db.collection(WISHES).doc(wishId), {
      status: "funded",
      fundedAt: now,
      updatedAt: now,
      ...(wish.isSurprise ? { revealedAt: now, viewerIds: FieldValue.arrayUnion(wish.ownerId) } : {}),
    });
    addToOutbox(deps.db, tx, { id: `wish.funded:${wishId}`, type: "wish.funded", wishId, ownerId: wish.ownerId }, now);
    if (wish.isSurprise) {
      addToOutbox(
        deps.db,
        tx,
        { id: `surprise.revealed:${wishId}`, type: "surprise.revealed", wishId, ownerId: wish.ownerId, organizerId: wish.organizerId },
        now,
      );
    }
    return true;
  });
  if (flipped) logger.info("wish funded", { wishId });
  return flipped;
}
