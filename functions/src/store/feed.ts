import type { Firestore, Query } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import { BATCH_LIMIT, chunk, inParallel } from "../lib/pool";
import { FEED, feedCollection, feedItemSchema } from "../model/wish";
import type { FeedItem } from "../model/wish";

export const feedItems = (db: Firestore, uid: string) => db.collection(feedCollection(uid)).withConverter(zodConverter(feedItemSchema));

/**
 * Writes the same item into every recipient's feed under `itemId`, in batches of 500 committed in parallel (5,000
 * recipients = 10 batches, a fraction of a second; BulkWriter's default 500 ops/s ramp would take ~10 s). `set` with a
 * deterministic id makes a redelivered event overwrite its own items instead of adding new ones.
 */
export async function writeFeedItems(db: Firestore, recipients: readonly string[], itemId: string, item: FeedItem): Promise<void> {
  await Promise.all(
    chunk(recipients, BATCH_LIMIT).map((group) => {
      const batch = db.batch();
      for (const uid of group) batch.set(feedItems(db, uid).doc(itemId), item);
      return batch.commit();
    }),
  );
}

async function deleteMatching(db: Firestore, query: Query): Promise<number> {
  let deleted = 0;
  for (;;) {
    const snap = await query.select().limit(BATCH_LIMIT * 10).get();
    if (snap.empty) return deleted;
    await Promise.all(
      chunk(snap.docs, BATCH_LIMIT).map((docs) => {
        const batch = db.batch();
        docs.forEach((doc) => batch.delete(doc.ref));
        return batch.commit();
      }),
    );
    deleted += snap.size;
  }
}

/** Removes every feed item about `wishId` from the feeds of `uids` (people who just lost access to the wish). */
export async function withdrawFeedItems(db: Firestore, wishId: string, uids: readonly string[]): Promise<number> {
  let total = 0;
  await inParallel(uids, 16, async (uid) => {
    total += await deleteMatching(db, db.collection(feedCollection(uid)).where("wishId", "==", wishId));
  });
  return total;
}

/**
 * Removes every feed item about `wishId` from every feed: a collection-group query (Admin SDK only; clients have no
 * collection-group access). Needs the `feed.wishId` collection-group field override in firestore.indexes.json.
 */
export function withdrawAllFeedItems(db: Firestore, wishId: string): Promise<number> {
  return deleteMatching(db, db.collectionGroup(FEED).where("wishId", "==", wishId));
}
