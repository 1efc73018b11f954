import { FieldValue } from "firebase-admin/firestore";
import type { Firestore, Transaction, WriteBatch } from "firebase-admin/firestore";
import { addToOutbox } from "../events/outbox";
import type { Wish } from "../model/wish";

/**
 * In the write that folds a new `raised` into `wish` (a batch whose update carries the `lastUpdateTime` of the wish
 * as read): if this is the first time the raised total reaches the amount of an open wish, flips it to `funded`.
 * Called only by the counter fold (counters.ts), whose precondition makes the status it read the status it changes,
 * so the flip happens exactly once however often the fold runs.
 * A surprise wish is revealed to its recipient in the same write (ownerId joins viewerIds). The outbox events have
 * deterministic ids. Answers the fields to merge into the fold's update of the wish (none when it is not funded now).
 */
export function fundIfReached(db: Firestore, writer: WriteBatch | Transaction, wishId: string, wish: Wish, raised: number, now: Date): Record<string, unknown> {
  if (wish.status !== "open" || raised < wish.amount) return {};
  addToOutbox(db, writer, { id: `wish.funded:${wishId}`, type: "wish.funded", wishId, ownerId: wish.ownerId }, now);
  if (wish.isSurprise) {
    addToOutbox(db, writer, { id: `surprise.revealed:${wishId}`, type: "surprise.revealed", wishId, ownerId: wish.ownerId, organizerId: wish.organizerId }, now);
  }
  return {
    status: "funded",
    fundedAt: now,
    ...(wish.isSurprise ? { revealedAt: now, viewerIds: FieldValue.arrayUnion(wish.ownerId) } : {}),
  };
}
