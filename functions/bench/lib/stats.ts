// Small, dependency-free statistics for the benchmark: percentiles and a summary over repeats.

/** Percentile `p` (0..100) of `values` by linear interpolation between closest ranks; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const lo = sorted[lower] ?? Number.NaN;
  const hi = sorted[upper] ?? Number.NaN;
  return lo + (hi - lo) * (rank - lower);
}

/** Median and spread of one figure over the repeats of a scenario. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Interquartile range ends (equal to min/max for fewer than 4 repeats, by interpolation). */
  q1: number;
  q3: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, q1: Number.NaN, q3: Number.NaN, n: 0 };
  return {
    median: percentile(finite, 50),
    min: Math.min(...finite),
    max: Math.max(...finite),
    q1: percentile(finite, 25),
    q3: percentile(finite, 75),
    n: finite.length,
  };
}

/** `a / b`, or NaN when either side is not a positive finite number (a ratio to nothing is not a figure). */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return Number.NaN;
  return a / b;
}

/** Rounds for reports: 3 significant digits below 100, integers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}
