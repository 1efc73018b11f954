// A user signed in the way the app signs them in with Facebook: for the demo seed and the social tests.
import { FacebookAuthProvider, linkWithCredential } from "firebase/auth";
import type { FakeFacebookUser } from "../fakes/graph";
import { signedInClient } from "./clients";
import type { TestClient } from "./clients";
import { fakeGraph } from "./fakes";

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
  if (!user) throw new Error(`${uid}: not signed in`);
  const name = [facebook.first_name, facebook.last_name].filter(Boolean).join(" ");
  await linkWithCredential(user, FacebookAuthProvider.credential(JSON.stringify({ sub: facebook.id, name })));
  return { client, token, facebookId: facebook.id };
}
