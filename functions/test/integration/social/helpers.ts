// Helpers for the social integration tests: users signed in the way the app signs them in, and error assertions.
import assert from "node:assert/strict";
import { FacebookAuthProvider, linkWithCredential } from "firebase/auth";
import { adminDb } from "../../helpers/admin";
import { signedInClient } from "../../helpers/clients";
import type { TestClient } from "../../helpers/clients";
import { fakeGraph } from "../../helpers/fakes";
import type { FakeFacebookUser } from "../../../devtools/fakes/graph";

export interface FacebookTestUser {
  client: TestClient;
  /** The user's Facebook access token, issued by the fake Graph API for our app. */
  token: string;
  facebookId: string;
}

/**
 * A Firebase user whose account is linked to Facebook through the Auth emulator (a fake Facebook credential, as the
 * Facebook SDK would hand the app), and who exists on the fake Graph API with a token for our app.
 */
export async function facebookUser(uid: string, facebook: FakeFacebookUser): Promise<FacebookTestUser> {
  fakeGraph().addUser(facebook);
  const token = fakeGraph().issueToken(facebook.id);
  const client = await signedInClient(uid, {}, undefined, { signedUp: false });
  const user = client.auth.currentUser;
  assert.ok(user, "signed in");
  const name = [facebook.first_name, facebook.last_name].filter(Boolean).join(" ");
  await linkWithCredential(user, FacebookAuthProvider.credential(JSON.stringify({ sub: facebook.id, name })));
  return { client, token, facebookId: facebook.id };
}

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
