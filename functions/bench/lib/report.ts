// The Markdown report (stdout and bench/results.md) and the ratios to this run's baselines.
import type { BenchResults, ScenarioResult } from "./results";
import { ratio, round, summarize } from "./stats";
import type { Summary } from "./stats";

/** Adds `ratio` to every scenario that has a same-run baseline: throughput to the raw write rate, fan-out wall time to the raw batches. */
export function attachRatios(scenarios: ScenarioResult[], rawWritesId: string, rawBatchesId: string): void {
  const rawWrites = scenarios.find((s) => s.id === rawWritesId && s.status === "ok");
  const rawBatches = scenarios.find((s) => s.id === rawBatchesId && s.status === "ok");
  for (const scenario of scenarios) {
    if (scenario.status !== "ok") continue;
    if (scenario.group === "fan-out" && rawBatches?.wallMs && scenario.wallMs) {
      const base = rawBatches.wallMs.median;
      scenario.ratio = {
        metric: "wall time",
        to: rawBatchesId,
        median: ratio(scenario.wallMs.median, base),
        min: ratio(scenario.wallMs.min, base),
        max: ratio(scenario.wallMs.max, base),
      };
    } else if (scenario.group !== "fan-out" && scenario.group !== "cost" && rawWrites?.throughput && scenario.throughput) {
      const base = rawWrites.throughput.median;
      scenario.ratio = {
        metric: "throughput",
        to: rawWritesId,
        median: ratio(scenario.throughput.median, base),
        min: ratio(scenario.throughput.min, base),
        max: ratio(scenario.throughput.max, base),
      };
    }
  }
}

const fmt = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? "–" : String(round(value)));

function spread(summary: Summary | undefined): string {
  if (!summary || summary.n === 0) return "–";
  if (summary.n === 1) return fmt(summary.median);
  return `${fmt(summary.median)} (${fmt(summary.min)}–${fmt(summary.max)})`;
}

function ratioCell(scenario: ScenarioResult): string {
  const r = scenario.ratio;
  if (!r) return "–";
  return scenario.repeats.length > 1 ? `${fmt(r.median)}× (${fmt(r.min)}–${fmt(r.max)})` : `${fmt(r.median)}×`;
}

function errorsCell(scenario: ScenarioResult): string {
  const entries = Object.entries(scenario.errors ?? {});
  return entries.length ? entries.map(([kind, count]) => `${count} ${kind}`).join(", ") : "0";
}

function checkCell(scenario: ScenarioResult): string {
  if (!scenario.check) return "–";
  return `${scenario.check.ok ? "ok" : "**FAILED**"}: ${scenario.check.detail}`;
}

function doneCell(scenario: ScenarioResult): string {
  const attempted = scenario.repeats.map((r) => r.attempted);
  const timeBound = scenario.repeats.some((r) => r.stoppedBy === "time");
  const shown = attempted.length && attempted.every((a) => a === attempted[0]) ? String(attempted[0]) : attempted.join("/");
  return `${shown}${timeBound ? " (time-bound)" : ""}`;
}

function unavailableRow(scenario: ScenarioResult, columns: number, second: string): string {
  const label = scenario.status === "failed" ? "**failed**" : "not available";
  const cells = [scenario.title, second, `${label}: ${scenario.reason ?? ""}`];
  while (cells.length < columns) cells.push("");
  return `| ${cells.join(" | ")} |`;
}

interface Target {
  label: string;
  measured: string;
  met: boolean | null;
}

/** The targets of issue 8, evaluated on this run's figures (null: the scenario did not produce the figure). */
export function targets(scenarios: ScenarioResult[]): Target[] {
  const ok = (id: string) => scenarios.find((s) => s.id === id && s.status === "ok");
  const hot = ok("hot-wish.c64");
  const feed = ok("fan-out.feed");
  const notifications = ok("fan-out.notifications");
  const donation = ok("cost.donation")?.cost;
  const busyDonation = ok("cost.donation-busy")?.cost;
  const hotRatio = hot?.ratio?.median;
  const p99 = hot?.p99Ms?.median;
  const exact = hot?.check?.ok;
  const spreadRun = ok("spread.c64");
  const spreadRatio = spreadRun?.ratio?.median;
  const hotWrites = worstExtra(hot, "maxDocWritesPerSec");
  // The same shape of work with no logic (baseline.donation-shaped): how far the handler is from this machine's ceiling.
  const shaped = ok("baseline.donation-shaped")?.throughput?.median;
  const ofShaped = (s: ScenarioResult | undefined) => (shaped && s?.throughput ? `; ${fmt(s.throughput.median / shaped)}× the donation-shaped baseline` : "");
  const lagP99 = worstExtra(hot, "lagP99Ms");
  // The notification fan-out's own documents written raw (baseline.batched-inbox-items): what its reads and counters add.
  const items = ok("baseline.batched-inbox-items")?.wallMs?.median;
  const ofItems = (s: ScenarioResult) => (items && s.wallMs ? `; ${fmt(s.wallMs.median / items)}× the raw batched write of the same inbox items (${fmt(items)} ms)` : "");
  return [
    {
      label: "Hot wish at c=64: no document above 1.0 write/s in any 10 s window",
      measured: hotWrites !== undefined ? `${fmt(hotWrites)} writes/s` : "not measured",
      met: hotWrites !== undefined ? hotWrites <= 1.0 : null,
    },
    {
      label: "Hot wish: `raised` lag p99 ≤ 2 s, exact totals at the end",
      measured: lagP99 !== undefined ? `p50 ${extraCell(hot as ScenarioResult, "lagP50Ms")} ms, p99 ${extraCell(hot as ScenarioResult, "lagP99Ms")} ms` : "not measured",
      met: lagP99 !== undefined ? lagP99 <= 2000 && hot?.check?.ok === true : null,
    },
    {
      label: "Spread over 200 wishes at c=64: ≥ 0.5× the raw parallel write rate, p99 < 250 ms, exact totals",
      measured: spreadRun ? `${fmt(spreadRatio)}× raw, p99 ${fmt(spreadRun.p99Ms?.median)} ms, totals ${spreadRun.check?.ok ? "exact" : "NOT exact"}${ofShaped(spreadRun)}` : "not measured",
      met: spreadRun && spreadRatio !== undefined ? spreadRatio >= 0.5 && (spreadRun.p99Ms?.median ?? Infinity) < 250 && spreadRun.check?.ok === true : null,
    },
    {
      label: "Hot wish at c=64: ≥ 0.5× the raw parallel write rate, exact totals",
      measured: hot ? `${fmt(hotRatio)}× raw (${fmt(hot.throughput?.median)} donations/s), totals ${exact ? "exact" : "NOT exact"}${ofShaped(hot)}` : "not measured",
      met: hot && hotRatio !== undefined ? hotRatio >= 0.5 && exact === true : null,
    },
    {
      label: "Handler p99 < 250 ms at c=64 (hot wish)",
      measured: p99 !== undefined ? `${fmt(p99)} ms` : "not measured",
      met: p99 !== undefined && Number.isFinite(p99) ? p99 < 250 : null,
    },
    {
      label: "Feed fan-out to 5,000 friends within 2× the raw batched write",
      measured: feed?.ratio ? `${fmt(feed.ratio.median)}× (${fmt(feed.wallMs?.median)} ms, ${feed.n} friends)` : "not measured",
      met: feed?.ratio ? feed.ratio.median <= 2 && feed.check?.ok === true : null,
    },
    {
      label: "Notification fan-out to 5,000 friends within 2× the raw batched write",
      measured: notifications?.ratio
        ? `${fmt(notifications.ratio.median)}× (${fmt(notifications.wallMs?.median)} ms, ${notifications.n} friends)${ofItems(notifications)}`
        : "not measured",
      met: notifications?.ratio ? notifications.ratio.median <= 2 && notifications.check?.ok === true : null,
    },
    {
      label: "≤ 6 Firestore operations per donation: to a busy wish (viral)",
      measured: busyDonation ? costLine(busyDonation) : "not measured",
      met: busyDonation ? busyDonation.operations <= 6 : null,
    },
    {
      label: "≤ 6 Firestore operations per donation: to a quiet wish (the wish read picks its route)",
      measured: donation ? costLine(donation) : "not measured",
      met: donation ? donation.operations <= 6 : null,
    },
  ];
}

function costLine(cost: { operations: number; reads: number; writes: number; rpcs: Record<string, number> }): string {
  return `${fmt(cost.operations)} (${fmt(cost.reads)} reads + ${fmt(cost.writes)} writes; ${Object.values(cost.rpcs).reduce((a, b) => a + b, 0)} round trips)`;
}

/** The largest figure `key` of a scenario's repeats (the worst repeat), undefined when no repeat has it. */
function worstExtra(s: ScenarioResult | undefined, key: string): number | undefined {
  const values = (s?.repeats ?? []).map((r) => r.extra?.[key]).filter((v): v is number => v !== undefined);
  return values.length > 0 ? Math.max(...values) : undefined;
}

/** Median over repeats of this process's / the emulator's CPU per operation ("–" where not measured). */
function cpuCell(s: ScenarioResult): string {
  // summarize (as loadScenario's medians) drops the repeats without the figure; fmt shows "–" for none.
  const median = (key: string) => fmt(summarize(s.repeats.map((r) => r.extra?.[key] ?? Number.NaN)).median);
  return `${median("clientCpuMsPerOp")} / ${median("emulatorCpuMsPerOp")}`;
}

function extraCell(s: ScenarioResult, key: string): string {
  const value = worstExtra(s, key);
  return value === undefined ? "–" : Number.isFinite(value) ? fmt(value) : "never";
}

export function markdownReport(results: BenchResults): string {
  const { meta, scenarios } = results;
  const raw = scenarios.find((s) => s.id === "baseline.parallel-writes" && s.status === "ok");
  const rawBatches = scenarios.find((s) => s.id === "baseline.batched-fan-out" && s.status === "ok");
  const lines: string[] = [];
  lines.push(
    `Run ${meta.startedAt} (${meta.quick ? "quick" : "full"}; ${meta.repeats} repeats of the baselines; ${meta.durationSec} s; ` +
      `node ${meta.node}, ${meta.cpus} CPUs, load ${meta.loadAverageAtStart.map((l) => l.toFixed(2)).join("/")}` +
      `${meta.gitCommit ? `; commit ${meta.gitCommit.slice(0, 7)}` : ""}).`,
    "",
    ...(meta.warmUpRates?.length
      ? [`Warm-up, not measured: rounds of the hot-wish webhook path until its rate settled (${meta.warmUpRates.join(", ")} donations/s).`, ""]
      : []),
    `Medians over repeats, (min–max) across repeats. "× raw" is the throughput divided by this run's raw parallel-write rate` +
      ` (${raw?.throughput ? `${fmt(raw.throughput.median)} writes/s` : "not measured"}).`,
    "",
    `"max w/doc/s": the most writes any single document took in any 10-second window, per second (counted by the` +
      ` instrumented client; Firestore sustains about 1). "raised lag": from a donation's confirmation to the commit of` +
      ` the first fold that read its shard (p50/p99). "CPU ms/op": CPU time per operation of this process (the` +
      ` handler, the SDK, the folds' thread) / of the Firestore emulator; they share the machine's cores.`,
    "",
    "| Scenario | c | ops/run | ops/s | × raw | p50 ms | p99 ms | max w/doc/s | raised lag p50/p99 ms | CPU ms/op | errors | check |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
  );
  for (const s of scenarios.filter((x) => x.group !== "fan-out" && x.group !== "cost")) {
    if (s.status !== "ok") {
      lines.push(unavailableRow(s, 12, s.concurrency === null ? "–" : String(s.concurrency)));
      continue;
    }
    lines.push(
      `| ${s.title} | ${s.concurrency ?? "–"} | ${doneCell(s)} | ${spread(s.throughput)} | ${ratioCell(s)} | ${spread(s.p50Ms)} | ` +
        `${spread(s.p99Ms)} | ${extraCell(s, "maxDocWritesPerSec")} | ` +
        `${worstExtra(s, "lagP50Ms") === undefined ? "–" : `${extraCell(s, "lagP50Ms")} / ${extraCell(s, "lagP99Ms")}`} | ${cpuCell(s)} | ${errorsCell(s)} | ${checkCell(s)} |`,
    );
  }
  lines.push(
    "",
    `Fan-out: wall time; "× raw" is divided by this run's raw batched write of the same number of documents` +
      ` (${rawBatches?.wallMs ? `${fmt(rawBatches.wallMs.median)} ms` : "not measured"}).`,
    "",
    "| Scenario | docs | wall ms | × raw | writes | reads | check |",
    "|---|---:|---:|---:|---:|---:|---|",
  );
  for (const s of scenarios.filter((x) => x.group === "fan-out")) {
    if (s.status !== "ok") {
      lines.push(unavailableRow(s, 7, String(s.n)));
      continue;
    }
    lines.push(`| ${s.title} | ${s.n} | ${spread(s.wallMs)} | ${ratioCell(s)} | ${fmt(s.extra?.writes)} | ${fmt(s.extra?.reads)} | ${checkCell(s)} |`);
  }
  lines.push(
    "",
    "Cost: billable Firestore operations per unit (counted by an instrumented Admin SDK client; rules lookups from the emulator's rules coverage report).",
    "",
    "| Path | reads | writes | ops | round trips | rules get()/exists() | how |",
    "|---|---:|---:|---:|---|---:|---|",
  );
  for (const s of scenarios.filter((x) => x.group === "cost")) {
    if (s.status !== "ok" || !s.cost) {
      lines.push(unavailableRow(s, 7, "–"));
      continue;
    }
    const c = s.cost;
    const rpcs = Object.entries(c.rpcs)
      .map(([name, count]) => `${fmt(count)} ${name}`)
      .join(", ");
    lines.push(
      `| ${s.title} (per ${c.unit}) | ${fmt(c.reads)} | ${fmt(c.writes)} | ${fmt(c.operations)} | ${rpcs || "–"} | ${c.rulesLookups === undefined ? "–" : fmt(c.rulesLookups)} | ${c.method} |`,
    );
  }
  lines.push("", "Targets (issues 8 and 17), on this run:", "", "| Target | Measured | Met |", "|---|---|---|");
  for (const target of targets(scenarios)) {
    lines.push(`| ${target.label} | ${target.measured} | ${target.met === null ? "not measured" : target.met ? "yes" : "**no**"} |`);
  }
  return `${lines.join("\n")}\n`;
}
