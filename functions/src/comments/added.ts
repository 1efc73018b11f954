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
 * server's stamp (`authorName`, which no client may write) marks the comment handled, so a redelivered trigger changes
 * nothing. A comment posted again under the id of one its author deleted is a new comment: its event id carries its
 * creation time (the first one's outbox record already holds the plain id), so it is stamped and announced like any.
 */
export async function onCommentAdded(deps: { db: Firestore; clock: Clock }, wishId: string, commentId: string): Promise<void> {
  const { db } = deps;
  const wish = db.collection(WISHES).doc(wishId);
  const comment = wish.collection(COMMENTS).doc(commentId);
  const firstEventId = commentAddedEventId(wishId, commentId);
  const handled = await db.runTransaction(async (tx) => {
    const [commentSnap, marker] = await tx.getAll(comment, db.collection(OUTBOX).doc(encodeEventId(firstEventId)));
    if (!commentSnap?.exists || !commentSnap.createTime || commentSnap.get("authorName") !== undefined) return null;
    const authorId = commentSnap.get("authorId") as unknown;
    if (typeof authorId !== "string") return null;
    const eventId = marker?.exists ? `${firstEventId}@${commentSnap.createTime.toMillis()}` : firstEventId;
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
    return eventId;
  });
  if (handled) logger.info("comment added", { wishId, commentId, eventId: handled });
}
