import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import { ADS_EVENTS, adsEventSchema, adsEventsCollection } from "../model/analytics";

/** The one converter of `users/{uid}/adsEvents/{id}` (docs/analytics.md). */
export const adsEventConverter = zodConverter(adsEventSchema);
export const adsEventRef = (db: Firestore, uid: string, docId: string) => db.collection(adsEventsCollection(uid)).doc(docId).withConverter(adsEventConverter);
/** Every user's queue: the sender claims due items across users (collection-group index in firestore.indexes.json). */
export const adsEventsGroup = (db: Firestore) => db.collectionGroup(ADS_EVENTS).withConverter(adsEventConverter);
