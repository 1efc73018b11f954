import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import { WISHES, wishSchema } from "../model/wish";

/** The one converter of `wishes/{wishId}` (the shared schema of src/model/wish.ts): every typed read of a wish uses it. */
export const wishConverter = zodConverter(wishSchema);

/** The typed `wishes` collection. */
export const wishesCollection = (db: Firestore) => db.collection(WISHES).withConverter(wishConverter);

/** A typed reference to `wishes/{wishId}`. */
export function wishRef(db: Firestore, wishId: string) {
  return wishesCollection(db).doc(wishId);
}
