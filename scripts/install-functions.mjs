// Root `npm install` also installs the Cloud Functions codebase, so the README stays at two commands.
// `npm ci` when a lockfile exists (reproducible), `npm install` otherwise.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const functionsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "functions");
const verb = existsSync(path.join(functionsDir, "package-lock.json")) ? "ci" : "install";
const result = spawnSync("npm", [verb, "--no-audit", "--no-fund"], { cwd: functionsDir, stdio: "inherit" });
process.exit(result.status ?? 1);
