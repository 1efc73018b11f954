// The benchmark calls domain code that logs every event through firebase-functions/logger (structured JSON lines on
// stdout). Thousands of lines would bury the report and cost CPU in the measured process, so `npm run bench`
// replaces the console methods before that logger is loaded (it keeps references to them at load time) and only
// counts the lines, keeping the last few warnings and errors for the summary. `--verbose` leaves the console alone.

export interface LogTally {
  counts: Record<"debug" | "info" | "log" | "warn" | "error", number>;
  /** The last few warning/error lines, shortened. */
  problems: string[];
}

const LEVELS = ["debug", "info", "log", "warn", "error"] as const;

export function captureConsole(): LogTally {
  const tally: LogTally = { counts: { debug: 0, info: 0, log: 0, warn: 0, error: 0 }, problems: [] };
  for (const level of LEVELS) {
    console[level] = (...args: unknown[]) => {
      tally.counts[level]++;
      if (level === "warn" || level === "error") {
        tally.problems.push(args.map((arg) => (typeof arg === "string" ? arg : String(arg))).join(" ").slice(0, 400));
        if (tally.problems.length > 5) tally.problems.shift();
      }
    };
  }
  return tally;
}

/**
 * Installed by the first import of bench/run.ts, before anything loads firebase-functions/logger; null with
 * `--verbose`.
 */
export const consoleTally: LogTally | null = process.argv.includes("--verbose") ? null : captureConsole();
