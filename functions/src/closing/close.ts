import type { Firestore } from "firebase-admin/firestore";
import { DomainError, parseInput } from "../lib/errors";
import { logger } from "../lib/log";
import { z } from "zod";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { admit } from "../lib/admission";
import { idSchema } from "../lib/ids";
import { wishNotVisible } from "../lib/visibility";
import type { Wish } from "../model/wish";
import { wishRef } from "../store/wishes";

export const closeWishInput = z.object({ wishId: idSchema }).strict();

/**
 * `closeWish` (F9). Only the organizer closes (for an ordinary wish that is its owner; for a surprise, the friend
 * who organised it: the recipient does not know it exists). Checks, in order: the caller may see the wish
 * (otherwise the same `permission-denied` as a missing wish, src/lib/visibility.ts), is the organizer (`permission-denied`),
 * and the wish is open (`failed-precondition`: already closed, expired or funded). The status change and the
 * `wish.closed` event commit together; refunds start from the status transition ({@link onWishWrittenForClosing}).
 */
export async function closeWish(deps: { db: Firestore; clock: Clock }, uid: string, data: unknown): Promise<{ status: "closed" }> {
  const { wishId } = parseInput(closeWishInput, data);
  await admit(deps, uid);
  const ref = wishRef(deps.db, wishId);
  await deps.db.runTransaction(async (tx) => {
    const wish = requireCloser((await tx.get(ref)).data(), uid);
    if (wish.status !== "open") {
      throw new DomainError("wish_not_open", { params: { status: wish.status } });
    }
    const now = deps.clock.now();
    tx.update(ref, { status: "closed", closedAt: now, updatedAt: now });
    addToOutbox(deps.db, tx, { id: `wish.closed:${wishId}`, type: "wish.closed", wishId, ownerId: wish.ownerId, closedBy: uid }, now);
  });
  logger.info("wish closed", { wishId });
  return { status: "closed" };
}

function requireCloser(wish: Wish | undefined, uid: string): Wish {
  if (!wish || (!wish.viewerIds.includes(uid) && wish.organizerId !== uid)) throw wishNotVisible();
  if (wish.organizerId !== uid) throw new DomainError("not_organizer");
  return wish;
}
