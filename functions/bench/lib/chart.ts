// bench/throughput.png: throughput against concurrency (log scale), grouped bars per scenario family, with the
// raw parallel-write rate and the hot-increment rate of the same run as reference lines.
import { Canvas } from "./png";
import type { Rgb } from "./png";
import type { ScenarioResult } from "./results";
import { round } from "./stats";

interface Series {
  label: string;
  color: Rgb;
  /** concurrency -> ops/s */
  points: Map<number, number>;
}

const INK: Rgb = [33, 37, 41];
const GRID: Rgb = [222, 226, 230];
const COLORS: Rgb[] = [
  [214, 69, 65],
  [44, 123, 182],
  [35, 160, 100],
  [230, 145, 30],
];

function seriesFor(scenarios: ScenarioResult[], prefix: string, label: string, color: Rgb): Series {
  const points = new Map<number, number>();
  for (const s of scenarios) {
    if (s.status === "ok" && s.id.startsWith(prefix) && s.concurrency !== null && s.throughput) {
      points.set(s.concurrency, s.throughput.median);
    }
  }
  return { label, color, points };
}

function label(value: number): string {
  return String(round(value));
}

export function throughputChart(scenarios: ScenarioResult[], concurrencies: number[]): Buffer {
  const width = 900;
  const height = 520;
  const canvas = new Canvas(width, height);
  const left = 80;
  const right = width - 30;
  const top = 60;
  const bottom = height - 120;

  const series = [
    seriesFor(scenarios, "baseline.naive-transaction", "Naive transaction, hot doc", COLORS[0] ?? INK),
    seriesFor(scenarios, "hot-wish.", "Webhook handler, 1 hot wish", COLORS[1] ?? INK),
    seriesFor(scenarios, "spread.", "Webhook handler, spread wishes", COLORS[2] ?? INK),
  ].filter((s) => s.points.size > 0);
  const references = [
    { id: "baseline.parallel-writes", label: "Raw parallel writes, c64", color: INK, dash: 8 },
    { id: "baseline.hot-increment", label: "Increment on hot doc, c64", color: COLORS[3] ?? INK, dash: 3 },
  ]
    .map((ref) => ({ ...ref, value: scenarios.find((s) => s.id === ref.id && s.status === "ok")?.throughput?.median }))
    .filter((ref): ref is typeof ref & { value: number } => ref.value !== undefined && Number.isFinite(ref.value) && ref.value > 0);

  const values = [...series.flatMap((s) => [...s.points.values()]), ...references.map((r) => r.value)].filter((v) => v > 0);
  const maxExp = Math.max(1, Math.ceil(Math.log10(Math.max(...values, 10))));
  const minExp = Math.min(0, Math.floor(Math.log10(Math.min(...values, 1))));
  const y = (v: number) => bottom - ((Math.log10(Math.max(v, 10 ** minExp)) - minExp) / (maxExp - minExp)) * (bottom - top);

  canvas.text(left, 20, "THROUGHPUT VS CONCURRENCY (OPS/S, LOG SCALE, MEDIAN OF REPEATS)", INK, 2);
  for (let e = minExp; e <= maxExp; e++) {
    const yy = y(10 ** e);
    canvas.line(left, yy, right, yy, GRID);
    const text = label(10 ** e);
    canvas.text(left - 8 - Canvas.textWidth(text, 2), yy - 7, text, INK, 2);
  }
  canvas.line(left, top, left, bottom, INK, 2);
  canvas.line(left, bottom, right, bottom, INK, 2);

  const groupWidth = (right - left) / Math.max(concurrencies.length, 1);
  const barWidth = Math.min(60, (groupWidth - 40) / Math.max(series.length, 1));
  concurrencies.forEach((c, gi) => {
    const gx = left + gi * groupWidth;
    const groupLabel = `C = ${c}`;
    canvas.text(gx + groupWidth / 2 - Canvas.textWidth(groupLabel, 2) / 2, bottom + 10, groupLabel, INK, 2);
    const startX = gx + (groupWidth - barWidth * series.length) / 2;
    series.forEach((s, si) => {
      const value = s.points.get(c);
      if (value === undefined || !(value > 0)) return;
      const x = startX + si * barWidth;
      const yy = y(value);
      canvas.fillRect(x + 3, yy, barWidth - 6, bottom - yy, s.color);
      const text = label(value);
      canvas.text(x + barWidth / 2 - Canvas.textWidth(text) / 2, yy - 10, text, INK);
    });
  });

  for (const ref of references) {
    const yy = y(ref.value);
    canvas.line(left, yy, right, yy, ref.color, 2, ref.dash);
    const text = label(ref.value);
    canvas.text(right - Canvas.textWidth(text, 1) - 2, yy - 10, text, ref.color);
  }

  let lx = left;
  let ly = bottom + 45;
  const legend = [
    ...series.map((s) => ({ label: s.label, color: s.color, line: false })),
    ...references.map((r) => ({ label: r.label, color: r.color, line: true })),
  ];
  for (const item of legend) {
    const w = 24 + Canvas.textWidth(item.label, 2) + 30;
    if (lx + w > right) {
      lx = left;
      ly += 26;
    }
    if (item.line) canvas.line(lx, ly + 7, lx + 16, ly + 7, item.color, 3, 4);
    else canvas.fillRect(lx, ly, 16, 14, item.color);
    canvas.text(lx + 24, ly, item.label, INK, 2);
    lx += w;
  }
  return canvas.toPng();
}
