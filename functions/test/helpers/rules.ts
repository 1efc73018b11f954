import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { assertFails, assertSucceeds, initializeTestEnvironment } from "@firebase/rules-unit-testing";
import type { Firestore } from "firebase/firestore";
import type { RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { PROJECT_ID, requireEnv } from "../../devtools/support/emulators";

export const RULES_FILE = path.resolve(__dirname, "..", "..", "..", "firestore.rules");

let env: Promise<RulesTestEnvironment> | undefined;

/** One rules-unit-testing environment for the whole run, loaded with the repository's firestore.rules. */
export function rulesEnv(): Promise<RulesTestEnvironment> {
  env ??= (() => {
    const [host, port] = requireEnv("FIRESTORE_EMULATOR_HOST").split(":");
    return initializeTestEnvironment({
      projectId: PROJECT_ID,
      firestore: { rules: readFileSync(RULES_FILE, "utf8"), host: host ?? "127.0.0.1", port: Number(port) },
    });
  })();
  return env;
}

/** Seeds documents with rules disabled (as the server would write them). */
export async function seed(docs: Record<string, Record<string, unknown>>): Promise<void> {
  const testEnv = await rulesEnv();
  await testEnv.withSecurityRulesDisabled(async (context) => {
    const db = context.firestore();
    await Promise.all(Object.entries(docs).map(([docPath, data]) => db.doc(docPath).set(data)));
  });
}

const clients = new Map<string, Firestore>();

/** A client-SDK Firestore signed in as `uid` with `claims`, or signed out (`null`); one per identity for the run. */
export async function clientAs(uid: string | null, claims: Record<string, unknown> = {}): Promise<Firestore> {
  const key = `${uid ?? ""}|${JSON.stringify(claims)}`;
  let db = clients.get(key);
  if (!db) {
    const testEnv = await rulesEnv();
    const context = uid === null ? testEnv.unauthenticatedContext() : testEnv.authenticatedContext(uid, claims);
    db = context.firestore() as unknown as Firestore;
    clients.set(key, db);
  }
  return db;
}

/** Runs `op` as each of `roles`: it must succeed for exactly the `allowed` ones and be denied for all the others. */
export async function expectAllowedOnly<R extends string>(
  roles: readonly R[],
  allowed: readonly R[],
  as: (role: R) => Promise<Firestore>,
  op: (db: Firestore, role: R) => Promise<unknown>,
): Promise<void> {
  for (const role of roles) {
    const db = await as(role);
    if (allowed.includes(role)) await assertSucceeds(op(db, role)).catch((e: unknown) => assert.fail(`${role} should be allowed: ${String(e)}`));
    else await assertFails(op(db, role)).catch((e: unknown) => assert.fail(`${role} should be denied: ${String(e)}`));
  }
}
