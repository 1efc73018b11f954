#!/usr/bin/env node
// `npm test`'s mocha run, in one emulator suite by default, or in N shards side by side (ELATEME_TEST_SHARDS=N): each
// shard is its own emulator suite (ports shifted by SHARD_PORT_STEP from ELATEME_PORT_OFFSET) running its share of
// functions/test by measured weight. Measured on our 2-core machines (fresh clone, .ci/run), one suite is faster:
// 419 s of mocha against 497 s for two shards, because each shard's emulators start and warm every function again and
// the suite is CPU-bound there. Shards pay off only with more cores. Output lines carry their shard's tag when there
// are several; the run fails when any shard fails.
//   node scripts/test-shards.mjs            (what npm test runs)
//   ELATEME_TEST_SHARDS=2 npm test          (two suites side by side, for machines with 4+ cores)
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FUNCTIONS = path.join(ROOT, "functions");
/** The second shard's ports are the first's plus this (500 keeps clear of the 1000-step offsets of other suites). */
export const SHARD_PORT_STEP = 500;

/**
 * Seconds each heavy file took in a fresh-clone CI run on 2 cores with both shards running (mocha's own timings, plus
 * the per-test reset for files of many tests). Files not listed weigh DEFAULT_WEIGHT by tier. Only the balance depends
 * on these numbers, never a result: refresh them when a file grows (the run prints each shard's time at the end).
 */
const WEIGHTS = {
  "test/integration/money-model.test.ts": 99,
  "test/integration/callables-boundary.test.ts": 85,
  "test/integration/app-walk.test.ts": 80,
  "test/integration/feed.test.ts": 46,
  "test/integration/donations.test.ts": 45,
  "test/integration/payouts.test.ts": 38,
  "test/integration/ops-commands.test.ts": 38,
  "test/integration/closing-refunds.test.ts": 35,
  "test/integration/social/friends.test.ts": 30,
  "test/integration/notifications.test.ts": 27,
  "test/integration/social/account.test.ts": 23,
  "test/integration/closing-deadline.test.ts": 21,
  "test/integration/wishes.test.ts": 20,
  "test/integration/rate-limits.test.ts": 19,
  "test/integration/reports.test.ts": 16,
  "test/integration/harness.test.ts": 10,
  "test/integration/closing-reconcile.test.ts": 9,
  "test/integration/money-faults.test.ts": 8,
  "test/integration/social/facebook.test.ts": 8,
  "test/integration/ads-conversions.test.ts": 7,
  "test/unit/emulator-setup.test.ts": 12,
  "test/rules/social.test.ts": 20,
  "test/rules/wishes.test.ts": 12,
  "test/rules/notifications.test.ts": 8,
};
const DEFAULT_WEIGHT = { unit: 1, integration: 3, rules: 6 };
const TIERS = ["unit", "integration", "rules"];

/** Every test file under functions/test/<tier>, relative to functions/, sorted. */
function testFiles(tier) {
  const walk = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? walk(full) : name.endsWith(".test.ts") ? [path.relative(FUNCTIONS, full).split(path.sep).join("/")] : [];
    });
  return walk(path.join(FUNCTIONS, "test", tier)).sort();
}

/**
 * The files of each shard, each shard in tier order (unit, integration, rules: the rules tests switch the emulated
 * triggers off once, at the end). Unit tests and all rules tests (one rules coverage report) stay in the first shard;
 * integration files go, heaviest first, to the lighter shard.
 */
export function planShards(count, files = Object.fromEntries(TIERS.map((tier) => [tier, testFiles(tier)]))) {
  const shards = Array.from({ length: count }, () => ({ weight: 0, files: { unit: [], integration: [], rules: [] } }));
  const weightOf = (tier, file) => WEIGHTS[file] ?? DEFAULT_WEIGHT[tier];
  for (const tier of ["unit", "rules"]) {
    for (const file of files[tier]) {
      shards[0].files[tier].push(file);
      shards[0].weight += weightOf(tier, file);
    }
  }
  const integration = [...files.integration].sort((a, b) => weightOf("integration", b) - weightOf("integration", a) || a.localeCompare(b));
  for (const file of integration) {
    const lightest = shards.reduce((best, shard) => (shard.weight < best.weight ? shard : best));
    lightest.files.integration.push(file);
    lightest.weight += weightOf("integration", file);
  }
  return shards.map((shard) => ({ weight: shard.weight, files: TIERS.flatMap((tier) => [...shard.files[tier]].sort()) }));
}

/** Runs one shard in its own emulator suite; resolves with its exit code and its mocha summary lines. */
function runShard(index, files, baseOffset, tagged) {
  const tag = tagged ? `[shard ${index + 1}] ` : "";
  const env = { ...process.env, ELATEME_PORT_OFFSET: String(baseOffset + index * SHARD_PORT_STEP) };
  // .mocharc.focus.json is .mocharc.all.json without its spec list: the files given run, in the order given.
  const mocha = `cd functions && npx mocha --config .mocharc.focus.json ${files.join(" ")}`;
  const child = spawn(process.execPath, [path.join(ROOT, "scripts", "emulators.mjs"), "exec", mocha], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const summary = [];
  const relay = (stream, out) => {
    let pending = "";
    stream.on("data", (chunk) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        out.write(`${tag}${line}\n`);
        if (/^\s+\d+ (passing|failing|pending)/.test(line.replace(/\x1b\[[0-9;]*m/g, ""))) summary.push(line.trim());
      }
    });
    stream.on("end", () => pending && out.write(`${tag}${pending}\n`));
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, summary })));
}

async function main() {
  const count = Number.parseInt(process.env.ELATEME_TEST_SHARDS ?? "1", 10) || 1;
  const baseOffset = Number.parseInt(process.env.ELATEME_PORT_OFFSET ?? "0", 10) || 0;
  const shards = planShards(count);
  for (const [index, shard] of shards.entries()) {
    console.log(`[shard ${index + 1}] ${shard.files.length} files, weight ${Math.round(shard.weight)}, ports +${baseOffset + index * SHARD_PORT_STEP}`);
  }
  const started = Date.now();
  const results = await Promise.all(shards.map((shard, index) => runShard(index, shard.files, baseOffset, count > 1)));
  console.log(`\n[test-shards] ${count} shard(s) in ${Math.round((Date.now() - started) / 1000)} s:`);
  for (const [index, result] of results.entries()) console.log(`  shard ${index + 1}: ${result.summary.join(", ") || "no mocha summary"} (exit code ${result.code})`);
  process.exit(results.some((result) => result.code !== 0) ? 1 : 0);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) await main();
