import type { Firestore } from "firebase-admin/firestore";
import type { Clock } from "../lib/clock";

export interface StatusReport {
  service: "elateme-backend";
  version: string;
  environment: "emulator" | "production";
  firestore: { ok: boolean; roundTripMs: number; error?: string };
  time: string;
}

export interface StatusDeps {
  db: Firestore;
  clock: Clock;
  version: string;
  emulator: boolean;
}

/**
 * Health check: proves the function can reach Firestore by writing and reading back one document.
 * The probe document is server-only (rules deny clients everything under `system/`).
 */
export async function checkStatus(deps: StatusDeps): Promise<StatusReport> {
  const started = deps.clock.now();
  const probe = deps.db.collection("system").doc("statusProbe");
  let firestore: StatusReport["firestore"];
  try {
    const nonce = `${started.getTime()}-${Math.random().toString(36).slice(2)}`;
    await probe.set({ nonce, checkedAt: started });
    const back = await probe.get();
    const ok = back.get("nonce") === nonce;
    firestore = { ok, roundTripMs: deps.clock.now().getTime() - started.getTime() };
    if (!ok) firestore.error = "read back a different value than written";
  } catch (error) {
    // Only the class of failure: the raw message may carry hostnames or credentials details.
    firestore = { ok: false, roundTripMs: deps.clock.now().getTime() - started.getTime(), error: errorName(error) };
  }
  return {
    service: "elateme-backend",
    version: deps.version,
    environment: deps.emulator ? "emulator" : "production",
    firestore,
    time: started.toISOString(),
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "UnknownError";
}
