import { FieldValue } from "firebase-admin/firestore";
import type { DocumentData, DocumentReference, Firestore, SetOptions } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import {
  FRIEND_REQUESTS,
  deviceSchema,
  devicesCollection,
  friendGroupSchema,
  friendRequestId,
  friendRequestSchema,
  friendSchema,
  friendsCollection,
  groupsCollection,
  privateAccountDoc,
  pushTargetsDoc,
  userDoc,
} from "../model/social";

// Typed references to the social collections (docs/social.md). Reads through these converters are schema-checked.
export const friendConverter = zodConverter(friendSchema);
export const groupConverter = zodConverter(friendGroupSchema);
export const requestConverter = zodConverter(friendRequestSchema);
export const deviceConverter = zodConverter(deviceSchema);

export const profileRef = (db: Firestore, uid: string) => db.doc(userDoc(uid));
export const accountRef = (db: Firestore, uid: string) => db.doc(privateAccountDoc(uid));
export const friendsRef = (db: Firestore, uid: string) => db.collection(friendsCollection(uid)).withConverter(friendConverter);
export const friendRef = (db: Firestore, uid: string, friendUid: string) => friendsRef(db, uid).doc(friendUid);
export const groupsRef = (db: Firestore, uid: string) => db.collection(groupsCollection(uid)).withConverter(groupConverter);
export const requestsRef = (db: Firestore) => db.collection(FRIEND_REQUESTS).withConverter(requestConverter);
export const requestRef = (db: Firestore, from: string, to: string) => requestsRef(db).doc(friendRequestId(from, to));
export const devicesRef = (db: Firestore, uid: string) => db.collection(devicesCollection(uid)).withConverter(deviceConverter);

/** What removeDevice needs of a write batch or a transaction. */
interface Writes {
  delete(ref: DocumentReference): unknown;
  set(ref: DocumentReference, data: DocumentData, options: SetOptions): unknown;
}

export function removeDevice(db: Firestore, writes: Writes, uid: string, deviceId: string): void {
  const targets = db.doc(pushTargetsDoc(uid));
  const entryGone = { devices: { [deviceId]: FieldValue.delete() } };
  writes.delete(devicesRef(db, uid).doc(deviceId));
  writes.set(targets, entryGone, { merge: true });
}

/**
 * The notification worker's clean-up of a token FCM called dead: the device goes, unless it was re-registered with
 * another token meanwhile. Returns whether it was removed.
 */
export async function removeStaleDevice(db: Firestore, uid: string, deviceId: string, staleToken: string): Promise<boolean> {
  return db.runTransaction(async (tx) => {
    const device = await tx.get(devicesRef(db, uid).doc(deviceId));
    if (device.exists && device.get("token") !== staleToken) return false;
    removeDevice(db, tx, uid, deviceId);
    return device.exists;
  });
}
