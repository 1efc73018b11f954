import { FieldValue } from "firebase-admin/firestore";
import type { Firestore, Transaction } from "firebase-admin/firestore";
import { addToOutbox } from "../events/outbox";
import type { Wish } from "../model/wish";

/**
 * Inside a transaction that has read `wish` (and is about to write its new `raised`): if this is the first time the
 * raised total reaches the amount of an open wish, flips it to `funded`. Called only by the counter fold
 * (counters.ts), whose transaction re-reads the status, so the flip happens exactly once however often the fold runs.
 * A surprise wish is revealed to its recipient in the same write (ownerId joins viewerIds). The outbox events have
 * deterministic ids. Answers the fields to merge into the fold's update of the wish (none when it is not funded now).
 */
export function fundIfReached(db: Firestore, tx: Transaction, wishId: string, wish: Wish, raised: number, now: Date): Record<string, unknown> {
  if (wish.status !== "open" || raised < wish.amount) return {};
  addToOutbox(db, tx, { id: `wish.funded:${wishId}`, type: "wish.funded", wishId, ownerId: wish.ownerId }, now);
  if (wish.isSurprise) {
    addToOutbox(db, tx, { id: `surprise.revealed:${wishId}`, type: "surprise.revealed", wishId, ownerId: wish.ownerId, organizerId: wish.organizerId }, now);
  }
  return {
    status: "funded",
    fundedAt: now,
    ...(wish.isSurprise ? { revealedAt: now, viewerIds: FieldValue.arrayUnion(wish.ownerId) } : {}),
  };
}
