import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import { WISHES, wishSchema } from "../model/wish";

const wishConverter = zodConverter(wishSchema);

/** A typed reference to `wishes/{wishId}` (the shared schema of src/model/wish.ts). */
export function wishRef(db: Firestore, wishId: string) {
  return db.collection(WISHES).doc(wishId).withConverter(wishConverter);
}
