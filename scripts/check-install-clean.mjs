#!/usr/bin/env node
// `npm test` step: `npm install` on a fresh clone must leave every tracked file as committed. npm rewrites a lock file
// that does not match what it resolves (an extraneous entry, a changed range in package.json), which then shows up as
// an unexplained diff in every developer's clone. This resolves the root and functions/ trees the way `npm install`
// does (`--package-lock-only`: no download, no scripts, a few seconds) in a scratch copy, with the same .npmrc files,
// and fails when a lock file would change. Fix: run `npm install` and commit the lock files it writes.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FILES = ["package.json", "package-lock.json", ".npmrc"];
const scratch = mkdtempSync(path.join(os.tmpdir(), "elateme-install-check-"));
const changed = [];
try {
  for (const dir of [".", "functions"]) {
    const target = path.join(scratch, dir);
    mkdirSync(target, { recursive: true });
    for (const file of FILES) if (existsSync(path.join(ROOT, dir, file))) copyFileSync(path.join(ROOT, dir, file), path.join(target, file));
    // --offline: a lock file that satisfies package.json resolves without the registry (works offline, no network in
    // npm test); one that does not makes npm ask for metadata and fail, which is the same finding.
    const out = spawnSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--offline"], { cwd: target, encoding: "utf8" });
    if (out.status !== 0) {
      process.stderr.write(
        `[install-check] npm install --package-lock-only --offline failed in ${dir}: its package-lock.json does not satisfy its package.json.\n` +
          `Run \`npm install\` and commit the lock files it writes.\n${out.stderr}\n`,
      );
      process.exit(1);
    }
    for (const file of ["package.json", "package-lock.json"]) {
      if (readFileSync(path.join(ROOT, dir, file), "utf8") !== readFileSync(path.join(target, file), "utf8")) changed.push(path.join(dir, file));
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (changed.length) {
  process.stderr.write(`[install-check] \`npm install\` would rewrite ${changed.join(", ")}: run \`npm install\` and commit the result.\n`);
  process.exit(1);
}
process.stdout.write("[install-check] npm install leaves package.json and package-lock.json files unchanged\n");
