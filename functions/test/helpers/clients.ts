// Client-SDK contexts: each test user acts through the same Firebase JS SDK the web app will use,
// so callables, rules and Auth are exercised the way a client exercises them.
import { deleteApp, initializeApp } from "firebase/app";
import type { FirebaseApp } from "firebase/app";
import { connectAuthEmulator, getAuth, signInWithCustomToken } from "firebase/auth";
import type { Auth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions, httpsCallable } from "firebase/functions";
import type { Functions } from "firebase/functions";
import { adminAuth } from "./admin";
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

async function connect(app: FirebaseApp): Promise<Pick<TestClient, "auth" | "db" | "functions">> {
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

/**
 * Creates (or reuses) an Auth-emulator user and returns a client signed in as that user.
 * `claims` become custom claims (e.g. `{ admin: true }`).
 */
export async function signedInClient(
  uid: string,
  profile: { displayName?: string; email?: string } = {},
  claims?: Record<string, unknown>,
): Promise<TestClient> {
  const auth = adminAuth();
  try {
    await auth.createUser({ uid, ...profile });
  } catch (error) {
    if ((error as { code?: string }).code !== "auth/uid-already-exists") throw error;
  }
  if (claims) await auth.setCustomUserClaims(uid, claims);
  const token = await auth.createCustomToken(uid, claims);
  const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key" }, `client-${uid}-${++counter}`);
  openApps.add(app);
  const parts = await connect(app);
  await signInWithCustomToken(parts.auth, token);
  return makeClient(uid, app, parts);
}

/** A client that is not signed in. */
export async function anonymousClient(): Promise<TestClient> {
  const app = initializeApp({ projectId: PROJECT_ID, apiKey: "fake-api-key" }, `client-anon-${++counter}`);
  openApps.add(app);
  return makeClient("", app, await connect(app));
}

/** Closes every client app a test opened (root hook, after each test). */
export async function closeAllClients(): Promise<void> {
  await Promise.all([...openApps].map((app) => deleteApp(app)));
  openApps.clear();
}
