// `npm run bench` (from the repository root) = build + emulators + this. Options:
//   --quick            tiny N, for development and the smoke test
//   --out <dir>        where results.json/results.md/throughput.png go (default: <repo>/bench)
//   --repeats <n>      repeats of the baselines and fan-out (default 3; quick 2)
//   --donations <n>    donations per hot-wish/spread run (default 2000)
//   --friends <n>      friends of the fan-out owner (default 5000)
//   --only <families>  comma-separated subset of baseline,fan-out,webhooks,cost
//   --verbose          let the domain code's logs through (they are counted and suppressed by default)
//   --render <json>    no run: re-render results.md and throughput.png from a saved results.json (into --out)
// First import: captures the console before the domain code's logger keeps references to it.
import { consoleTally } from "./lib/quiet";
import { readFileSync } from "node:fs";
import path from "node:path";
import { FULL, QUICK } from "./lib/context";
import type { BenchOptions } from "./lib/context";
import { FAMILIES, problems, runSuite, writeOutputs } from "./suite";
import type { ScenarioFamily } from "./suite";
import type { BenchResults } from "./lib/results";

const print = (line: string) => process.stderr.write(`${line}\n`);

function parseArgs(argv: string[]): { options: BenchOptions; outDir: string; families: ScenarioFamily[]; render: string | null } {
  const quick = argv.includes("--quick");
  const options: BenchOptions = { ...(quick ? QUICK : FULL), concurrencies: [...(quick ? QUICK : FULL).concurrencies], log: print };
  let outDir = path.resolve(__dirname, "..", "..", "bench");
  let families = FAMILIES;
  let render: string | null = null;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    const int = () => {
      const parsed = Number.parseInt(value ?? "", 10);
      if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${arg} needs a positive integer`);
      i++;
      return parsed;
    };
    if (arg === "--quick") continue;
    else if (arg === "--verbose") continue;
    else if (arg === "--render") {
      if (!value) throw new Error("--render needs a results.json");
      render = path.resolve(value);
      i++;
    }
    else if (arg === "--out") {
      if (!value) throw new Error("--out needs a directory");
      outDir = path.resolve(value);
      i++;
    } else if (arg === "--repeats") options.repeats = int();
    else if (arg === "--donations") options.donations = int();
    else if (arg === "--friends") options.friends = int();
    else if (arg === "--only") {
      const wanted = (value ?? "").split(",").filter(Boolean);
      if (wanted.length === 0 || wanted.some((w) => !FAMILIES.some((f) => f === w))) {
        throw new Error(`--only takes a subset of ${FAMILIES.join(",")}`);
      }
      families = FAMILIES.filter((f) => wanted.includes(f));
      i++;
    } else throw new Error(`unknown argument ${arg}`);
  }
  return { options, outDir, families, render };
}

async function main(): Promise<number> {
  const { options, outDir, families, render } = parseArgs(process.argv.slice(2));
  const tally = consoleTally;
  if (render) {
    const saved = JSON.parse(readFileSync(render, "utf8")) as BenchResults;
    const concurrencies = String(saved.meta.options.concurrencies ?? "1,8,64").split(",").map(Number);
    process.stdout.write(`${writeOutputs(saved, outDir, concurrencies)}\n`);
    return 0;
  }
  const results = await runSuite(options, families);
  const markdown = writeOutputs(results, outDir, options.concurrencies);
  process.stdout.write(`${markdown}\n`);
  print(`[bench] wrote ${path.join(outDir, "results.json")}, results.md, throughput.png in ${results.meta.durationSec} s`);
  if (tally) {
    const { counts } = tally;
    print(`[bench] domain logs suppressed (--verbose shows them): ${counts.info + counts.log} info, ${counts.warn} warn, ${counts.error} error`);
    for (const line of tally.problems) print(`[bench]   last warnings/errors: ${line}`);
  }
  const bad = problems(results);
  for (const line of bad) print(`[bench] PROBLEM: ${line}`);
  return bad.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    print(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
