import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ID, requireEnv } from "../../devtools/support/emulators";

/** <repo>/coverage: where `npm test` leaves the Firestore rules coverage report. */
export const COVERAGE_DIR = path.resolve(__dirname, "..", "..", "..", "coverage");

/**
 * Saves the Firestore emulator's rules coverage report for the run (JSON and HTML) to coverage/firestore-rules.*.
 * The rules tests and the client-SDK tests both use project demo-elateme, so the report covers both.
 */
export async function saveRulesCoverage(): Promise<void> {
  const base = `http://${requireEnv("FIRESTORE_EMULATOR_HOST")}/emulator/v1/projects/${PROJECT_ID}:ruleCoverage`;
  const [json, html] = await Promise.all([fetch(base), fetch(`${base}.html`)]);
  if (!json.ok || !html.ok) throw new Error(`Rules coverage report unavailable: HTTP ${json.status}/${html.status}`);
  await mkdir(COVERAGE_DIR, { recursive: true });
  await Promise.all([
    writeFile(path.join(COVERAGE_DIR, "firestore-rules.json"), await json.text()),
    writeFile(path.join(COVERAGE_DIR, "firestore-rules.html"), await html.text()),
  ]);
}
