// How the app writes a comment (docs/wishes.md, "Comments"): the comment and the author's comments window
// (users/{uid}/rateLimits/comments) in one client transaction, so the rules can check the rate limit.
import { collection, doc, runTransaction, serverTimestamp } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { RATE_LIMITS } from "../../src/config";

export class CommentRateLimited extends Error {
  constructor(readonly retryAt: Date) {
    super(`comments are rate-limited until ${retryAt.toISOString()}`);
  }
}

/**
 * Writes the comment document `data` (normally `{authorId, text, createdAt: serverTimestamp()}`) as `uid` through the
 * client SDK, counting it in `uid`'s comments window in the same transaction; returns the comment's id. The app always
 * lets the SDK pick a fresh id; tests may name one (`commentId`) to try ids the rules refuse.
 */
export async function writeComment(db: Firestore, uid: string, wishId: string, data: Record<string, unknown>, commentId?: string): Promise<string> {
  const comments = collection(db, "wishes", wishId, "comments");
  const commentRef = commentId === undefined ? doc(comments) : doc(comments, commentId);
  const windowRef = doc(db, "users", uid, "rateLimits", "comments");
  const { max, windowSeconds } = RATE_LIMITS.comments;
  await runTransaction(db, async (tx) => {
    const current = (await tx.get(windowRef)).data() as { windowStart: { toMillis(): number }; count: number } | undefined;
    const counted = { last: serverTimestamp(), lastKey: `${wishId}/${commentRef.id}` };
    if (current && current.count < max) {
      tx.update(windowRef, { count: current.count + 1, ...counted });
    } else {
      const windowEnd = current ? current.windowStart.toMillis() + windowSeconds * 1000 : 0;
      if (Date.now() < windowEnd) throw new CommentRateLimited(new Date(windowEnd));
      tx.set(windowRef, { windowStart: serverTimestamp(), count: 1, ...counted });
    }
    tx.set(commentRef, data);
  });
  return commentRef.id;
}

/** The app's "post a comment": `text` by `uid` on the wish. */
export function addComment(db: Firestore, uid: string, wishId: string, text: string): Promise<string> {
  return writeComment(db, uid, wishId, { authorId: uid, text, createdAt: serverTimestamp() });
}
