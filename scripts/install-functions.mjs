// Root `npm install` also installs the Cloud Functions codebase, so the README stays at two commands.
// `npm ci` when a lockfile exists (reproducible), `npm install` otherwise.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const functionsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "functions");
const verb = existsSync(path.join(functionsDir, "package-lock.json")) ? "ci" : "install";
// The root's own install settings (e.g. omit=optional in the root .npmrc) must not leak into functions/, whose
// optional dependencies (esbuild's platform binary, google-auth-library) are needed.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_config_(omit|include|optional)$/i.test(key)),
);
const result = spawnSync("npm", [verb, "--no-audit", "--no-fund"], { cwd: functionsDir, stdio: "inherit", env });
process.exit(result.status ?? 1);
