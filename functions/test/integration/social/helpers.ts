// Helpers for the social integration tests: users signed in the way the app signs them in, and error assertions.
import { adminDb } from "../../../devtools/support/admin";
import { signedInClient } from "../../../devtools/support/clients";
import type { TestClient } from "../../../devtools/support/clients";
import type { FakeFacebookUser } from "../../../devtools/fakes/graph";
import { facebookUser } from "../../../devtools/support/facebook";
import type { FacebookTestUser } from "../../../devtools/support/facebook";
export { facebookUser };
export type { FacebookTestUser };

/** facebookUser + the app's first syncFacebookProfile call. */
export async function signUpWithFacebook(uid: string, facebook: FakeFacebookUser): Promise<FacebookTestUser> {
  const user = await facebookUser(uid, facebook);
  await user.client.call("syncFacebookProfile", { accessToken: user.token });
  return user;
}

/** A user with a public profile (as the profile sync leaves it), signed in through the client SDK. */
export async function appUser(uid: string, displayName = uid): Promise<TestClient> {
  const now = new Date();
  await adminDb().doc(`users/${uid}`).set({ displayName, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now });
  return signedInClient(uid, { displayName });
}

/** Seeds a mutual friendship the way the server writes it. */
export async function makeFriends(a: string, b: string): Promise<void> {
  const since = new Date();
  const batch = adminDb().batch();
  batch.set(adminDb().doc(`users/${a}/friends/${b}`), { friendId: b, source: "app", since });
  batch.set(adminDb().doc(`users/${b}/friends/${a}`), { friendId: a, source: "app", since });
  await batch.commit();
}

/** The callable failed with `code` (e.g. "invalid-argument") and a message matching `message`. */
export { expectCode as rejectsWith } from "../../helpers/errors";

export async function exists(path: string): Promise<boolean> {
  return (await adminDb().doc(path).get()).exists;
}

export async function ids(collectionPath: string): Promise<string[]> {
  return (await adminDb().collection(collectionPath).get()).docs.map((doc) => doc.id).sort();
}

/** Outbox events of one type (the relay may already have stamped them published; we only look at their payload). */
export async function outboxEvents(type: string): Promise<Record<string, unknown>[]> {
  const snap = await adminDb().collection("events").where("type", "==", type).get();
  return snap.docs.map((doc) => doc.data());
}
