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
 * Health check: proves the function can reach Firestore (and holds working credentials) by reading one server-only
 * document (rules deny clients everything under `system/`; it need not exist). Read only: the endpoint is public and
 * unauthenticated, so it must not let anyone make us write (one document written per request was a write amplifier
 * and a hot document for whoever polls it).
 */
export async function checkStatus(deps: StatusDeps): Promise<StatusReport> {
  const started = deps.clock.now();
  const probe = deps.db.collection("system").doc("statusProbe");
  let firestore: StatusReport["firestore"];
  try {
    await probe.get();
    firestore = { ok: true, roundTripMs: deps.clock.now().getTime() - started.getTime() };
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
