// Where the emulators listen. `firebase emulators:exec` exports the *_EMULATOR_HOST variables and the hub's
// address; the Functions emulator's address comes from the hub's registry.
import { readFileSync } from "node:fs";
import path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
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

/**
 * Where `npm start`'s suite listens, for command-line tools run beside it (devtools/ops.ts, devtools/send-webhook.ts):
 * firebase.json's port for `name` shifted by ELATEME_PORT_OFFSET, as scripts/emulators.mjs shifts it.
 */
export function localSuiteHost(name: "auth" | "firestore" | "functions" | "tasks"): string {
  const offset = Number.parseInt(process.env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  const config = JSON.parse(readFileSync(path.join(REPO_ROOT, "firebase.json"), "utf8")) as { emulators: Record<string, { host?: string; port?: number }> };
  const emulator = config.emulators[name];
  if (!emulator?.port) throw new Error(`firebase.json has no port for the ${name} emulator`);
  return `${emulator.host ?? "127.0.0.1"}:${emulator.port + offset}`;
}

/** The local suite's project id (.firebaserc's default, a demo- project). */
export function localSuiteProject(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, ".firebaserc"), "utf8")) as { projects: { default: string } }).projects.default;
}
