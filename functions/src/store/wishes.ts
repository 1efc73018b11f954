import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import { WISHES, raisedShardSchema, raisedShardsCollection, wishSchema } from "../model/wish";

/** The one converter of `wishes/{wishId}` (the shared schema of src/model/wish.ts): every typed read of a wish uses it. */
export const wishConverter = zodConverter(wishSchema);

/** The typed `wishes` collection. */
export const wishesCollection = (db: Firestore) => db.collection(WISHES).withConverter(wishConverter);

/** A typed reference to `wishes/{wishId}`. */
export function wishRef(db: Firestore, wishId: string) {
  return wishesCollection(db).doc(wishId);
}

/** The one converter of `wishes/{wishId}/raisedShards/{shardId}` (src/model/wish.ts). */
export const raisedShardConverter = zodConverter(raisedShardSchema);

/** Every shard document of a wish (only the shards some donation has written exist). */
export function raisedShards(db: Firestore, wishId: string) {
  return db.collection(raisedShardsCollection(wishId)).withConverter(raisedShardConverter);
}

/** The shard a donation's counters go to (untyped: written with `FieldValue.increment`). */
export function raisedShardRef(db: Firestore, wishId: string, shardId: string) {
  return db.collection(raisedShardsCollection(wishId)).doc(shardId);
}
