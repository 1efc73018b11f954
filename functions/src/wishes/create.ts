import type { Firestore } from "firebase-admin/firestore";
import { DomainError, parseInput } from "../lib/errors";
import { logger } from "../lib/log";
import { addToOutbox } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { admit } from "../lib/admission";
import { requestDocId } from "../lib/requests";
import { newWishState } from "../model/wish";
import { wishesCollection } from "../store/wishes";
import type { Wish } from "../model/wish";
import { isFriend, resolveViewerIds } from "./audience";
import { createWishInput } from "./input";
import { isFirestoreError } from "../lib/firestore-errors";

export interface WishDeps {
  db: Firestore;
  clock: Clock;
}


/** Deterministic wish id for a client's creation attempt: the same (uid, requestId) always names the same wish. */
export const requestWishId = requestDocId;

/**
 * `createWish` (F7, F11). Validates the input, checks that every chosen person is a friend (of the caller, or for a
 * surprise of the recipient, who must be the caller's friend), materialises `viewerIds`, and writes the wish together
 * with its `wish.created` event in one batch. Nothing is written when any check fails.
 */
export async function createWish(deps: WishDeps, uid: string, data: unknown): Promise<{ wishId: string }> {
  const now = deps.clock.now();
  const input = parseInput(createWishInput(now), data);
  await admit(deps, uid, "wishes");
  const isSurprise = input.recipientId !== undefined;
  const ownerId = input.recipientId ?? uid;
  if (isSurprise) {
    if (ownerId === uid) throw new DomainError("surprise_for_self", { field: "recipientId" });
    if (!(await isFriend(deps.db, uid, ownerId))) throw new DomainError("recipient_not_friend", { field: "recipientId" });
  }
  const subject = { ownerId, organizerId: uid, isSurprise, audience: input.audience, createdAt: now };
  const viewerIds = await resolveViewerIds(deps.db, subject, { strict: true });

  const wishes = wishesCollection(deps.db);
  const ref = input.requestId ? wishes.doc(requestWishId(uid, input.requestId)) : wishes.doc();
  const wish: Wish = {
    ownerId,
    organizerId: uid,
    isSurprise,
    audience: input.audience,
    title: input.title,
    description: input.description,
    imageUrl: input.imageUrl,
    amount: input.amount,
    currency: input.currency,
    deadline: input.deadline,
    viewerIds,
    ...newWishState(now),
  };
  const batch = deps.db.batch();
  batch.create(ref, wish);
  addToOutbox(deps.db, batch, { id: `wish.created:${ref.id}`, type: "wish.created", wishId: ref.id, ownerId, organizerId: uid }, now);
  try {
    await batch.commit();
  } catch (error) {
    // ALREADY_EXISTS: this requestId was used before. Same organizer → the earlier call succeeded; answer it again.
    if (!isFirestoreError(error, "already-exists") || !input.requestId) throw error;
    const existing = (await ref.get()).data();
    if (existing?.organizerId !== uid) throw error;
    logger.info("createWish retried; returning the existing wish", { wishId: ref.id });
    return { wishId: ref.id };
  }
  logger.info("wish created", { wishId: ref.id, isSurprise, audienceKind: input.audience.kind, viewers: viewerIds.length });
  return { wishId: ref.id };
}
