import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { OUTBOX } from "../events/schema";
import { addToOutbox, encodeEventId } from "../events/outbox";
import type { Clock } from "../lib/clock";
import { COMMENTS, FOLLOWERS, WISHES } from "../model/wish";

export const commentAddedEventId = (wishId: string, commentId: string) => `comment.added:${wishId}/${commentId}`;

/**
 * Trigger on `wishes/{wishId}/comments/{commentId}` create. In one transaction: copies the author's public name and
 * photo onto the comment, makes the author a follower of the wish, and records `comment.added` in the outbox. The
 * outbox document doubles as the "already handled" marker, so a redelivered trigger changes nothing.
 */
export async function onCommentAdded(deps: { db: Firestore; clock: Clock }, wishId: string, commentId: string): Promise<void> {
  const { db } = deps;
  const wish = db.collection(WISHES).doc(wishId);
  const comment = wish.collection(COMMENTS).doc(commentId);
  const eventId = commentAddedEventId(wishId, commentId);
  const handled = await db.runTransaction(async (tx) => {
    const [commentSnap, marker] = await tx.getAll(comment, db.collection(OUTBOX).doc(encodeEventId(eventId)));
    if (!commentSnap?.exists || marker?.exists) return false;
    const authorId = commentSnap.get("authorId") as unknown;
    if (typeof authorId !== "string") return false;
    const follower = wish.collection(FOLLOWERS).doc(authorId);
    const [profile, followerSnap] = await tx.getAll(db.collection("users").doc(authorId), follower);
    const now = deps.clock.now();
    const name = profile?.get("displayName") as unknown;
    const photo = profile?.get("photoUrl") as unknown;
    tx.update(comment, {
      authorName: typeof name === "string" ? name : null,
      authorPhotoUrl: typeof photo === "string" ? photo : null,
    });
    if (!followerSnap?.exists) tx.create(follower, { reason: "commented", since: now });
    addToOutbox(db, tx, { id: eventId, type: "comment.added", wishId, commentId, authorId }, now);
    return true;
  });
  if (handled) logger.info("comment added", { wishId, commentId });
}
