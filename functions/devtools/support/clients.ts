// Client-SDK contexts: each test user acts through the same Firebase JS SDK the web app will use,
// so callables, rules and Auth are exercised the way a client exercises them.
import { deleteApp, initializeApp } from "firebase/app";
import type { FirebaseApp } from "firebase/app";
import { CustomProvider, initializeAppCheck } from "firebase/app-check";
import { FacebookAuthProvider, connectAuthEmulator, getAuth, signInWithCredential, signInWithCustomToken } from "firebase/auth";
import type { Auth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import type { Functions } from "firebase/functions";
import { adminAuth, adminDb } from "./admin";
import { PROJECT_ID, REGION, emulatorAddress, requireEnv } from "./emulators";

export interface TestClient {
  uid: string;
  app: FirebaseApp;
  auth: Auth;
  db: Firestore;
  functions: Functions;
  /** Calls a callable function as this user; resolves with its `data`. */
  call<T = unknown>(name: string, data?: unknown): Promise<T>;
  close(): Promise<void>;
}

let counter = 0;
const openApps = new Set<FirebaseApp>();

function splitHost(address: string): [string, number] {
  const [host, port] = address.split(":");
  return [host ?? "127.0.0.1", Number(port)];
}

/** The test apps' App Check app id (an unregistered web app of the demo project). */
export const TEST_APP_ID = "1:000000000000:web:elateme-tests";

/**
 * An App Check token as the Functions emulator accepts it: a JWT whose signature nobody checks. The emulator runs
 * firebase-functions with skipTokenVerification, which only decodes the token (it cannot reach App Check's keys), so
 * it is refused when absent and accepted when present. Production verifies the signature with the Admin SDK, where
 * this token fails (docs/client-setup.md).
 */
export function emulatorAppCheckToken(appId = TEST_APP_ID): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none", typ: "JWT" })}.${part({ sub: appId, aud: [`projects/${PROJECT_ID}`], iat: now, exp: now + 3600 })}.`;
}

export interface ClientOptions {
  /** Send an App Check token with every callable call, as the apps do (default true). */
  appCheck?: boolean;
  /** Give the user a public profile first, as a completed sign-up leaves it (default true; kept if one exists). */
  signedUp?: boolean;
}

async function connect(app: FirebaseApp, options: ClientOptions = {}): Promise<Pick<TestClient, "auth" | "db" | "functions">> {
  if (options.appCheck !== false) {
    // Before getFunctions: the Functions SDK picks up App Check when it starts, and attaches its token to every call.
    const provider = new CustomProvider({ getToken: () => Promise.resolve({ token: emulatorAppCheckToken(), expireTimeMillis: Date.now() + 3_600_000 }) });
    initializeAppCheck(app, { provider, isTokenAutoRefreshEnabled: false });
  }
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${requireEnv("FIREBASE_AUTH_EMULATOR_HOST")}`, { disableWarnings: true });
  const db = getFirestore(app);
  connectFirestoreEmulator(db, ...splitHost(requireEnv("FIRESTORE_EMULATOR_HOST")));
  const functions = getFunctions(app, REGION);
  connectFunctionsEmulator(functions, ...splitHost(await emulatorAddress("functions")));
  return { auth, db, functions };
}

function makeClient(uid: string, app: FirebaseApp, parts: Pick<TestClient, "auth" | "db" | "functions">): TestClient {
  return {
    uid,
    app,
    ...parts,
    async call<T>(name: string, data?: unknown): Promise<T> {
      const result = await httpsCallable(parts.functions, name)(data);
      return result.data as T;
    },
    async close() {
      openApps.delete(app);
      await deleteApp(app);
    },
  };
}

/** `users/{uid}` as syncFacebookProfile leaves it, unless the user already has one. */
async function ensureProfile(uid: string, displayName: string): Promise<void> {
  const now = new Date();
  await adminDb()
    .doc(`users/${uid}`)
    .create({ displayName, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 6) throw error; // 6 = ALREADY_EXISTS: keep the existing profile
    });
}

/**
 * Creates (or reuses) an Auth-emulator user and returns a client signed in as that user, with App Check and a
 * completed sign-up unless `options` say otherwise. `claims` become custom claims (e.g. `{ admin: true }`).
 */
export async function signedInClient(
  uid: string,
  profile: { displayName?: string; email?: string } = {},
  claims?: Record<string, unknown>,
  options: ClientOptions = {},
): Promise<TestClient> {
  const auth = adminAuth();
  try {
    await auth.createUser({ uid, ...profile });
  } catch (error) {
    if ((error as { code?: string }).code !== "auth/uid-already-exists") throw error;
  }
  if (claims) await auth.setCustomUserClaims(uid, claims);
  if (options.signedUp !== false) await ensureProfile(uid, profile.displayName ?? uid);
  const token = await auth.createCustomToken(uid, claims);
  const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key", appId: TEST_APP_ID }, `client-${uid}-${++counter}`);
  openApps.add(app);
  const parts = await connect(app, options);
  await signInWithCustomToken(parts.auth, token);
  return makeClient(uid, app, parts);
}

/**
 * A brand-new person signing in the way the app does: the Facebook SDK's credential handed to Firebase Auth (the Auth
 * emulator takes a JSON credential whose `sub` is the Facebook id). Nothing is created through the Admin SDK; the app
 * then calls syncFacebookProfile with a Facebook token (locally `fake-fb:<id>:<name>`, docs/client-setup.md).
 */
export async function facebookSignInClient(facebookId: string, name: string): Promise<TestClient> {
  const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key", appId: TEST_APP_ID }, `client-fb-${facebookId}-${++counter}`);
  openApps.add(app);
  const parts = await connect(app);
  const { user } = await signInWithCredential(parts.auth, FacebookAuthProvider.credential(JSON.stringify({ sub: facebookId, name })));
  return makeClient(user.uid, app, parts);
}

/** A client that is not signed in. */
export async function anonymousClient(options: Pick<ClientOptions, "appCheck"> = {}): Promise<TestClient> {
  const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key", appId: TEST_APP_ID }, `client-anon-${++counter}`);
  openApps.add(app);
  return makeClient("", app, await connect(app, options));
}

/** Closes every client app a test opened (root hook, after each test). */
export async function closeAllClients(): Promise<void> {
  await Promise.all([...openApps].map((app) => deleteApp(app)));
  openApps.clear();
}
