import type { Firestore } from "firebase-admin/firestore";
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
  userDoc,
  userProfileSchema,
} from "../model/social";

// Typed references to the social collections (docs/social.md). Reads through these converters are schema-checked.
export const profileConverter = zodConverter(userProfileSchema);
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
