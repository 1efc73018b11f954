// Concurrency-limited request loops, bounded both in count and in time, with per-operation latency.
import { performance } from "node:perf_hooks";
import { percentile } from "./stats";
import { startCpuMeasure } from "./cpu";
import type { CpuSpent } from "./cpu";

export interface LoadOptions {
  /** Operations to attempt at most. */
  total: number;
  /** Operations in flight at once. */
  concurrency: number;
  /** No new operation starts after this many milliseconds (in-flight ones are awaited, so totals stay exact). */
  timeLimitMs: number;
  /** One operation; `index` runs from 0 to total - 1 in start order. Throwing counts as an error. */
  op: (index: number) => Promise<void>;
  /** Names an error for the report (default: gRPC status name or the error's code). */
  classify?: (error: unknown) => string;
  /** An operation still pending after this long is counted as a "timeout" error and no longer awaited. */
  opTimeoutMs?: number;
}

export interface LoadResult {
  concurrency: number;
  attempted: number;
  succeeded: number;
  failed: number;
  /** Error counts by kind, e.g. { ABORTED: 13 }. */
  errors: Record<string, number>;
  /** The indexes that succeeded, for exact-total checks. */
  succeededIndexes: number[];
  wallMs: number;
  /** Latency of every operation (succeeded or failed), in start order. */
  latenciesMs: number[];
  stoppedBy: "count" | "time";
  throughputPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU this process and the emulator spent from the first operation to the last one's end (lib/cpu.ts). */
  cpu: CpuSpent;
}

const GRPC_CODES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
};

/** Default error naming: gRPC status (ABORTED, UNAVAILABLE...), else the error's `code`, else its class name. */
export function classifyError(error: unknown): string {
  if (error && typeof error === "object") {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number") return GRPC_CODES[code] ?? `grpc-${code}`;
    if (typeof code === "string" && code) return code;
    if (error instanceof Error) return error.name === "Error" ? "error" : error.name;
  }
  return "error";
}

class OpTimeout extends Error {
  override name = "timeout";
}

function withTimeout(promise: Promise<void>, ms: number | undefined): Promise<void> {
  if (!ms) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new OpTimeout(`operation still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `op` `total` times with at most `concurrency` in flight, stopping early when `timeLimitMs` is spent. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { total, concurrency, timeLimitMs, op, opTimeoutMs } = options;
  if (!Number.isInteger(total) || total < 0) throw new Error(`total must be a non-negative integer, got ${total}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be >= 1, got ${concurrency}`);
  const classify = options.classify ?? classifyError;
  const errors: Record<string, number> = {};
  const latenciesMs: number[] = new Array<number>(total);
  const succeededIndexes: number[] = [];
  let next = 0;
  let failed = 0;
  let stoppedBy: "count" | "time" = "count";
  const started = performance.now();
  const cpuSince = startCpuMeasure();
  const deadline = started + timeLimitMs;

  async function worker(): Promise<void> {
    for (;;) {
      if (next >= total) return;
      if (performance.now() >= deadline) {
        stoppedBy = "time";
        return;
      }
      const index = next++;
      const t0 = performance.now();
      try {
        await withTimeout(op(index), opTimeoutMs);
        succeededIndexes.push(index);
      } catch (error) {
        failed++;
        const kind = classify(error);
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
      latenciesMs[index] = performance.now() - t0;
    }
  }

  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(total, 1)) }, () => worker()));
  const wallMs = performance.now() - started;
  const cpu = cpuSince();
  const attempted = next;
  const measured = latenciesMs.slice(0, attempted);
  const succeeded = succeededIndexes.length;
  succeededIndexes.sort((a, b) => a - b);
  return {
    concurrency,
    attempted,
    succeeded,
    failed,
    errors,
    succeededIndexes,
    wallMs,
    latenciesMs: measured,
    stoppedBy,
    throughputPerSec: wallMs > 0 ? (succeeded / wallMs) * 1000 : Number.NaN,
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    cpu,
  };
}

/** Times one async block. */
export async function timed<T>(block: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await block();
  return { value, ms: performance.now() - t0 };
}
