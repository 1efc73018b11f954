import { PROJECT_ID, requireEnv } from "./emulators";

async function expectOk(response: Response, what: string): Promise<void> {
  if (!response.ok) throw new Error(`${what} failed: HTTP ${response.status} ${await response.text()}`);
}

/** Deletes every document in the Firestore emulator (its REST reset endpoint; much faster than recursive deletes). */
export async function clearFirestore(): Promise<void> {
  const host = requireEnv("FIRESTORE_EMULATOR_HOST");
  await expectOk(
    await fetch(`http://${host}/emulator/v1/projects/${PROJECT_ID}/databases/(default)/documents`, { method: "DELETE" }),
    "Clearing Firestore",
  );
}

/** Deletes every account in the Auth emulator. */
export async function clearAuth(): Promise<void> {
  const host = requireEnv("FIREBASE_AUTH_EMULATOR_HOST");
  await expectOk(
    await fetch(`http://${host}/emulator/v1/projects/${PROJECT_ID}/accounts`, { method: "DELETE" }),
    "Clearing Auth",
  );
}

export async function clearAll(): Promise<void> {
  await Promise.all([clearFirestore(), clearAuth()]);
}
