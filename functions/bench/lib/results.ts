// The shape of bench/results.json, and how one scenario's repeats are folded into medians and spreads.
import type { LoadResult } from "./load";
import type { OpCounts } from "./counting";
import { summarize } from "./stats";
import type { Summary } from "./stats";

export type ScenarioGroup = "baseline" | "fan-out" | "hot-wish" | "spread" | "cost";
export type ScenarioStatus = "ok" | "not available" | "failed";

/** One repeat of a load scenario. */
export interface RepeatSample {
  attempted: number;
  succeeded: number;
  failed: number;
  errors: Record<string, number>;
  wallMs: number;
  throughputPerSec: number;
  p50Ms: number;
  p99Ms: number;
  stoppedBy: "count" | "time";
  /** Scenario-specific figures (e.g. writes done by a fan-out). */
  extra?: Record<string, number>;
}

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface CostFigure {
  /** What one unit is ("donation", "wish view", ...). */
  unit: string;
  reads: number;
  writes: number;
  /** Billable operations: reads + writes. */
  operations: number;
  rpcs: Record<string, number>;
  /** Rules get()/exists() calls per unit, when the path goes through rules (client reads). */
  rulesLookups?: number;
  method: string;
}

export interface ScenarioResult {
  id: string;
  group: ScenarioGroup;
  title: string;
  concurrency: number | null;
  status: ScenarioStatus;
  /** Why a scenario is not available or failed. */
  reason?: string;
  /** How it was driven (in-process handler, HTTP, ...). */
  method?: string;
  /** Operations (or documents) per repeat requested. */
  n: number;
  repeats: RepeatSample[];
  throughput?: Summary;
  p50Ms?: Summary;
  p99Ms?: Summary;
  wallMs?: Summary;
  errors?: Record<string, number>;
  /** Ratio of this scenario's median to the named baseline's median, measured in the same run. */
  ratio?: { metric: "throughput" | "wall time"; to: string; median: number; min: number; max: number };
  check?: CheckResult;
  cost?: CostFigure;
  extra?: Record<string, number>;
}

export interface BenchResults {
  meta: {
    startedAt: string;
    finishedAt: string;
    durationSec: number;
    quick: boolean;
    repeats: number;
    node: string;
    cpus: number;
    loadAverageAtStart: number[];
    /** Donations/s of each unmeasured warm-up round of the webhook path (empty when it did not run). */
    warmUpRates?: number[];
    gitCommit: string | null;
    database: string;
    options: Record<string, number | string | boolean>;
  };
  scenarios: ScenarioResult[];
}

/** One repeat that is a single call writing `stored` of `n` documents in `ms` (so p50 = p99 = the wall time). */
export function singleCallSample(n: number, stored: number, ms: number, extra: Record<string, number>): RepeatSample {
  return {
    attempted: n,
    succeeded: stored,
    failed: n - stored,
    errors: {},
    wallMs: ms,
    throughputPerSec: (stored / ms) * 1000,
    p50Ms: ms,
    p99Ms: ms,
    stoppedBy: "count",
    extra,
  };
}

/** CPU milliseconds per succeeded operation, this process's and the emulator's (when known). */
function cpuPerOp(load: LoadResult): Record<string, number> {
  const ops = Math.max(load.succeeded, 1);
  return { clientCpuMsPerOp: load.cpu.clientMs / ops, ...(load.cpu.emulatorMs === null ? {} : { emulatorCpuMsPerOp: load.cpu.emulatorMs / ops }) };
}

export function sampleOf(load: LoadResult, extra?: Record<string, number>): RepeatSample {
  return {
    attempted: load.attempted,
    succeeded: load.succeeded,
    failed: load.failed,
    errors: load.errors,
    wallMs: load.wallMs,
    throughputPerSec: load.throughputPerSec,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    stoppedBy: load.stoppedBy,
    extra: { ...cpuPerOp(load), ...extra },
  };
}

function sumErrors(repeats: readonly RepeatSample[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const sample of repeats) for (const [kind, count] of Object.entries(sample.errors)) total[kind] = (total[kind] ?? 0) + count;
  return total;
}

/** Folds repeats into a scenario result with medians and spreads. */
export function loadScenario(
  base: Pick<ScenarioResult, "id" | "group" | "title" | "concurrency" | "n"> & { method?: string },
  repeats: RepeatSample[],
  check?: CheckResult,
): ScenarioResult {
  return {
    ...base,
    status: "ok",
    repeats,
    throughput: summarize(repeats.map((r) => r.throughputPerSec)),
    p50Ms: summarize(repeats.map((r) => r.p50Ms)),
    p99Ms: summarize(repeats.map((r) => r.p99Ms)),
    wallMs: summarize(repeats.map((r) => r.wallMs)),
    errors: sumErrors(repeats),
    ...(check ? { check } : {}),
  };
}

export function notAvailable(
  base: Pick<ScenarioResult, "id" | "group" | "title" | "concurrency" | "n">,
  reason: string,
): ScenarioResult {
  return { ...base, status: "not available", reason, repeats: [] };
}

export function failed(base: Pick<ScenarioResult, "id" | "group" | "title" | "concurrency" | "n">, error: unknown): ScenarioResult {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { ...base, status: "failed", reason, repeats: [] };
}

export function costFigure(unit: string, ops: OpCounts, perUnits: number, method: string, rulesLookups?: number): CostFigure {
  const per = (value: number) => value / perUnits;
  const rpcs = Object.fromEntries(Object.entries(ops.rpcs).map(([name, count]) => [name, per(count)]));
  return {
    unit,
    reads: per(ops.reads),
    writes: per(ops.writes),
    operations: per(ops.reads + ops.writes),
    rpcs,
    ...(rulesLookups === undefined ? {} : { rulesLookups }),
    method,
  };
}
