// The benchmark suite: baselines first, then every scenario compared to them, all in one run against the emulator.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { throughputChart } from "./lib/chart";
import { openContext } from "./lib/context";
import type { BenchContext, BenchOptions } from "./lib/context";
import { attachRatios, markdownReport } from "./lib/report";
import { failed } from "./lib/results";
import type { BenchResults, ScenarioResult } from "./lib/results";
import {
  DONATION_SHAPED_ID,
  RAW_BATCHES_ID,
  RAW_INBOX_ITEMS_ID,
  RAW_WRITES_ID,
  batchedFanOut,
  batchedInboxItems,
  donationShapedWrites,
  hotIncrements,
  naiveHotTransactions,
  parallelWrites,
  warmUp,
} from "./scenarios/baseline";
import { costScenarios } from "./scenarios/cost";
import { fanOutScenarios } from "./scenarios/fan-out";
import { warmUpWebhooks, webhookScenarios } from "./scenarios/webhooks";

export type ScenarioFamily = "baseline" | "fan-out" | "webhooks" | "cost";
export const FAMILIES: ScenarioFamily[] = ["baseline", "fan-out", "webhooks", "cost"];

interface Step {
  family: ScenarioFamily;
  id: string;
  run: (ctx: BenchContext) => Promise<ScenarioResult[]>;
}

function steps(options: BenchOptions): Step[] {
  return [
    { family: "baseline", id: RAW_WRITES_ID, run: async (ctx) => [await parallelWrites(ctx)] },
    { family: "baseline", id: DONATION_SHAPED_ID, run: async (ctx) => [await donationShapedWrites(ctx)] },
    ...options.concurrencies.map(
      (c): Step => ({ family: "baseline", id: `baseline.naive-transaction.c${c}`, run: async (ctx) => [await naiveHotTransactions(ctx, c)] }),
    ),
    { family: "baseline", id: "baseline.hot-increment", run: async (ctx) => [await hotIncrements(ctx)] },
    { family: "baseline", id: RAW_BATCHES_ID, run: async (ctx) => [await batchedFanOut(ctx)] },
    { family: "baseline", id: RAW_INBOX_ITEMS_ID, run: async (ctx) => [await batchedInboxItems(ctx)] },
    { family: "fan-out", id: "fan-out", run: fanOutScenarios },
    { family: "webhooks", id: "webhooks", run: webhookScenarios },
    { family: "cost", id: "cost", run: costScenarios },
  ];
}

function printableValue(value: unknown): number | string | boolean {
  return typeof value === "number" || typeof value === "boolean" ? value : String(value);
}

function gitCommit(): string | null {
  const out = spawnSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : null;
}

/** Runs the suite (or only the given families) and returns the results; writes nothing. */
export async function runSuite(options: BenchOptions, families: ScenarioFamily[] = FAMILIES): Promise<BenchResults> {
  const started = new Date();
  const loadAverageAtStart = os.loadavg();
  const ctx = openContext(options);
  const scenarios: ScenarioResult[] = [];
  let warmUpRates: number[] = [];
  try {
    await ctx.clear();
    // Warm before anything is timed, so that a baseline and the scenarios divided by it are measured alike.
    if (families.includes("webhooks") || families.includes("baseline")) {
      options.log("[bench] warm-up of the webhook path (not measured) ...");
      warmUpRates = await warmUpWebhooks(ctx);
      options.log(`[bench]   rounds at ${warmUpRates.join(", ")} donations/s`);
    }
    if (families.includes("baseline")) {
      options.log("[bench] warm-up (not measured) ...");
      await warmUp(ctx);
    }
    for (const step of steps(options).filter((s) => families.includes(s.family))) {
      options.log(`[bench] ${step.id} ...`);
      const t0 = Date.now();
      try {
        const results = await step.run(ctx);
        scenarios.push(...results);
        for (const r of results) {
          const figure = r.throughput ? `${Math.round(r.throughput.median)} ops/s` : r.wallMs ? `${Math.round(r.wallMs.median)} ms` : r.status;
          options.log(`[bench]   ${r.id}: ${r.status === "ok" ? figure : `${r.status}: ${r.reason ?? ""}`}${r.check && !r.check.ok ? ` CHECK FAILED: ${r.check.detail}` : ""}`);
        }
      } catch (error) {
        scenarios.push(failed({ id: step.id, group: step.family === "webhooks" ? "hot-wish" : step.family, title: step.id, concurrency: null, n: 0 }, error));
        options.log(`[bench]   ${step.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      options.log(`[bench]   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      if (step.family !== "baseline") await ctx.clear();
    }
  } finally {
    await ctx.close();
  }
  attachRatios(scenarios, RAW_WRITES_ID, RAW_BATCHES_ID);
  const finished = new Date();
  const printable: Record<string, unknown> = { ...options };
  delete printable.log;
  return {
    meta: {
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationSec: Math.round((finished.getTime() - started.getTime()) / 1000),
      quick: options.quick,
      repeats: options.repeats,
      node: process.version,
      cpus: os.cpus().length,
      loadAverageAtStart,
      warmUpRates,
      gitCommit: gitCommit(),
      database: options.database,
      options: Object.fromEntries(
        Object.entries(printable).map(([key, value]) => [key, Array.isArray(value) ? value.join(",") : printableValue(value)]),
      ),
    },
    scenarios,
  };
}

/** Writes results.json, results.md and throughput.png into `outDir`; returns the Markdown. */
export function writeOutputs(results: BenchResults, outDir: string, concurrencies: number[]): string {
  mkdirSync(outDir, { recursive: true });
  const markdown = markdownReport(results);
  writeFileSync(path.join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(outDir, "results.md"), `# Benchmark results\n\n${markdown}`);
  writeFileSync(path.join(outDir, "throughput.png"), throughputChart(results.scenarios, concurrencies));
  return markdown;
}

/** Failures that should make `npm run bench` exit non-zero: a failed scenario or a failed exactness check. */
export function problems(results: BenchResults): string[] {
  return results.scenarios.flatMap((s) => [
    ...(s.status === "failed" ? [`${s.id} failed: ${s.reason ?? ""}`] : []),
    ...(s.check && !s.check.ok ? [`${s.id} check failed: ${s.check.detail}`] : []),
  ]);
}
