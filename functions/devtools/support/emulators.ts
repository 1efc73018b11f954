// Where the emulators listen. `firebase emulators:exec` exports the *_EMULATOR_HOST variables and the hub's
// address; the Functions emulator's address comes from the hub's registry.
export const PROJECT_ID = process.env.GCLOUD_PROJECT ?? "demo-elateme";
export const REGION = "europe-west1";

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this test through \`npm test\` (firebase emulators:exec).`);
  return value;
}

export function emulatorsRunning(): boolean {
  return Boolean(process.env.FIRESTORE_EMULATOR_HOST && process.env.FIREBASE_EMULATOR_HUB);
}

interface HubEntry {
  name: string;
  host: string;
  port: number;
}

let hubCache: Record<string, HubEntry> | undefined;

export async function emulatorAddress(name: "functions" | "firestore" | "auth" | "tasks" | "pubsub"): Promise<string> {
  if (!hubCache) {
    const response = await fetch(`http://${requireEnv("FIREBASE_EMULATOR_HUB")}/emulators`);
    hubCache = (await response.json()) as Record<string, HubEntry>;
  }
  const entry = hubCache[name];
  if (!entry) throw new Error(`The ${name} emulator is not running`);
  return `${entry.host}:${entry.port}`;
}

/** URL of an HTTPS function in the Functions emulator. */
export async function functionUrl(name: string): Promise<string> {
  return `http://${await emulatorAddress("functions")}/${PROJECT_ID}/${REGION}/${name}`;
}
