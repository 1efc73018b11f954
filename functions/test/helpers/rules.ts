import { readFileSync } from "node:fs";
import path from "node:path";
import { initializeTestEnvironment } from "@firebase/rules-unit-testing";
import type { RulesTestEnvironment } from "@firebase/rules-unit-testing";
import { PROJECT_ID, requireEnv } from "./emulators";

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
