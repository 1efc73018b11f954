import { getApps, initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { PROJECT_ID } from "./emulators";

/** The Admin SDK as the tests use it: pointed at the emulators by the *_EMULATOR_HOST variables. */
export function adminApp() {
  return getApps()[0] ?? initializeApp({ projectId: PROJECT_ID });
}

export const adminDb = () => getFirestore(adminApp());
export const adminAuth = () => getAuth(adminApp());
