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

let backgroundTriggersOn = true;

/**
 * Switches the Functions emulator's background (Firestore and Pub/Sub) triggers on or off through the hub. Switching
 * off waits for the triggers already running; switching on reloads them, which takes a moment, so callers switch only
 * when the state changes.
 */
export async function setBackgroundTriggers(on: boolean): Promise<void> {
  if (on === backgroundTriggersOn) return;
  const hub = requireEnv("FIREBASE_EMULATOR_HUB");
  const action = on ? "enableBackgroundTriggers" : "disableBackgroundTriggers";
  await expectOk(await fetch(`http://${hub}/functions/${action}`, { method: "PUT" }), `Switching triggers (${action})`);
  backgroundTriggersOn = on;
}
