// A quick run of the benchmark (`npm run bench`) inside `npm test`, so its machinery cannot rot: tiny N, but the
// real scenarios against the real emulator, with exact totals asserted.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inflateSync } from "node:zlib";
import { deleteApp, initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { PROJECT_ID } from "../../devtools/support/emulators";
import { QUICK } from "../../bench/lib/context";
import type { BenchOptions } from "../../bench/lib/context";
import { instrumentFirestore, measureOps } from "../../bench/lib/counting";
import { runLoad } from "../../bench/lib/load";
import { Canvas, crc32, encodePng } from "../../bench/lib/png";
import type { BenchResults, ScenarioResult } from "../../bench/lib/results";
import { percentile, summarize } from "../../bench/lib/stats";
import { problems, runSuite, writeOutputs } from "../../bench/suite";

/** The pixel rows of an 8-bit RGB, non-interlaced PNG produced by encodePng (filter 0 on every row). */
function decodeRows(png: Buffer): { width: number; height: number; rgb: Buffer } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    assert.equal(png.readUInt32BE(offset + 8 + length), crc32(png.subarray(offset + 4, offset + 8 + length)), `${type} CRC`);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    }
    if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 3 + 1)], 0, "filter byte");
    raw.copy(rgb, y * width * 3, y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
  }
  return { width, height, rgb };
}

describe("benchmark smoke (npm run bench, tiny N)", () => {
  describe("machinery", () => {
    it("percentiles and summaries", () => {
      assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
      assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
      assert.equal(percentile(Array.from({ length: 101 }, (_, i) => i), 99), 99);
      assert.ok(Number.isNaN(percentile([], 50)));
      assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, q1: 1.5, q3: 2.5, n: 3 });
    });

    it("the load loop is bounded in count and in time, caps concurrency and counts errors by kind", async () => {
      let inFlight = 0;
      let peak = 0;
      const counted = await runLoad({
        total: 40,
        concurrency: 4,
        timeLimitMs: 60_000,
        op: async (i) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 2));
          inFlight--;
          if (i % 10 === 0) throw Object.assign(new Error("lock"), { code: 10 });
        },
      });
      assert.equal(counted.attempted, 40);
      assert.equal(counted.succeeded, 36);
      assert.deepEqual(counted.errors, { ABORTED: 4 });
      assert.equal(peak, 4);
      assert.equal(counted.stoppedBy, "count");
      assert.ok(counted.p50Ms > 0 && counted.p50Ms <= counted.p99Ms);

      const timeBound = await runLoad({
        total: 1_000_000,
        concurrency: 2,
        timeLimitMs: 150,
        op: () => new Promise((resolve) => setTimeout(resolve, 10)),
      });
      assert.equal(timeBound.stoppedBy, "time");
      assert.ok(timeBound.attempted < 100, `stopped after ${timeBound.attempted}`);
      assert.equal(timeBound.succeeded, timeBound.attempted, "in-flight operations are awaited, not dropped");
    });

    it("encodes a valid PNG (CRC32, zlib) that decodes back to the drawn pixels", () => {
      assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
      const canvas = new Canvas(20, 12);
      canvas.fillRect(2, 3, 4, 5, [200, 10, 20]);
      canvas.text(8, 2, "1", [0, 0, 255]);
      const { width, height, rgb } = decodeRows(canvas.toPng());
      assert.equal(width, 20);
      assert.equal(height, 12);
      assert.deepEqual([...rgb.subarray((4 * 20 + 3) * 3, (4 * 20 + 3) * 3 + 3)], [200, 10, 20]);
      assert.deepEqual([...rgb.subarray(0, 3)], [255, 255, 255]);
      // "1" has its top pixel in the middle column: (8 + 2, 2).
      assert.deepEqual([...rgb.subarray((2 * 20 + 10) * 3, (2 * 20 + 10) * 3 + 3)], [0, 0, 255]);
      assert.throws(() => encodePng(2, 2, new Uint8Array(5)));
    });

    it("the operation counter counts batched writes, document reads and empty queries", async () => {
      const app = initializeApp({ projectId: PROJECT_ID }, "bench-smoke-counter");
      const db = getFirestore(app);
      const counter = instrumentFirestore(db);
      const batch = db.batch();
      for (let i = 0; i < 3; i++) batch.set(db.doc(`benchSmoke/d${i}`), { i });
      const { ops: writes } = await measureOps(counter, () => batch.commit());
      assert.equal(writes.writes, 3);
      assert.equal(writes.reads, 0);
      const { ops: reads } = await measureOps(counter, async () => {
        await db.getAll(db.doc("benchSmoke/d0"), db.doc("benchSmoke/missing"));
        await db.collection("benchSmoke").where("i", ">=", 1).get();
        await db.collection("benchSmoke").where("i", ">", 99).get();
      });
      assert.equal(reads.reads, 2 + 2 + 1, "2 looked-up docs, 2 query results, 1 for the empty query");
      assert.equal(reads.writes, 0);
      assert.deepEqual(reads.rpcs, { batchGetDocuments: 1, runQuery: 2 });
      await deleteApp(app);
    });
  });

  describe("a quick run against the emulator", function () {
    this.timeout(240_000);
    const options: BenchOptions = {
      ...QUICK,
      repeats: 2,
      parallelWrites: 40,
      naiveTransactions: 6,
      friends: 120,
      donations: 12,
      spreadWishes: 3,
      concurrencies: [1, 8],
      database: "bench-smoke",
      log: () => undefined,
    };
    let results: BenchResults;
    const find = (id: string): ScenarioResult => {
      const found = results.scenarios.find((s) => s.id === id);
      assert.ok(found, `scenario ${id} is reported`);
      return found;
    };

    before(async () => {
      results = await runSuite(options);
    });

    it("measures the baselines with sane numbers and exact totals", () => {
      const raw = find("baseline.parallel-writes");
      assert.equal(raw.status, "ok");
      assert.equal(raw.repeats.length, 2);
      for (const sample of raw.repeats) {
        assert.equal(sample.succeeded, 40);
        assert.equal(sample.failed, 0);
        assert.ok(sample.throughputPerSec > 0 && Number.isFinite(sample.throughputPerSec));
        assert.ok(sample.p50Ms <= sample.p99Ms);
      }
      assert.ok(raw.throughput && raw.throughput.min <= raw.throughput.median && raw.throughput.median <= raw.throughput.max);
      assert.equal(raw.ratio?.median, 1, "the raw rate is its own baseline");
      for (const id of ["baseline.parallel-writes", "baseline.donation-shaped", "baseline.naive-transaction.c1", "baseline.naive-transaction.c8", "baseline.hot-increment"]) {
        const scenario = find(id);
        assert.equal(scenario.status, "ok", `${id}: ${scenario.reason ?? ""}`);
        assert.ok(scenario.check?.ok, `${id}: ${scenario.check?.detail ?? "no check"}`);
        assert.ok(scenario.ratio && scenario.ratio.median > 0, `${id} has a ratio to the raw rate`);
      }
      assert.match(find("baseline.donation-shaped").check?.detail ?? "", /^200 stored of 200 acknowledged/, "5 documents per operation");
      const c1 = find("baseline.naive-transaction.c1");
      assert.equal(c1.repeats[0]?.succeeded, 6, "sequential transactions on one document all commit");
      const batches = find("baseline.batched-fan-out");
      assert.ok(batches.check?.ok, batches.check?.detail);
      assert.equal(batches.extra?.writes, 120);
      const items = find("baseline.batched-inbox-items");
      assert.equal(items.check?.detail, "120 of 120 inbox items stored");
      assert.ok(items.ratio && items.ratio.median > 0, "the inbox items' raw write is compared to the feed items'");
      assert.deepEqual(problems(results), []);
    });

    it("delivers every signed webhook through the real handler with exact totals (hot wish and spread)", () => {
      for (const group of ["hot-wish", "spread"]) {
        for (const concurrency of options.concurrencies) {
          const scenario = find(`${group}.c${concurrency}`);
          assert.equal(scenario.status, "ok", `${scenario.id}: ${scenario.reason ?? ""}`);
          assert.ok(scenario.check?.ok, `${scenario.id}: ${scenario.check?.detail ?? "no check"}`);
          assert.match(scenario.check.detail, /12 donations confirmed, .* 0 lost, 0 double-counted, 0 wishes off/);
          const sample = scenario.repeats[0];
          assert.ok(sample, `${scenario.id} ran`);
          assert.equal(sample.attempted, 12 + 1, "12 deliveries plus 1 duplicate (every 20th event is redelivered)");
          assert.equal(sample.failed, 0);
          assert.ok(sample.throughputPerSec > 0 && sample.p50Ms <= sample.p99Ms);
          assert.ok(scenario.ratio && scenario.ratio.median > 0);
          // CPU per delivery: this process's always; the emulator's wherever /proc names it (Linux, as here and in CI).
          assert.ok((sample.extra?.clientCpuMsPerOp ?? 0) > 0, `${scenario.id}: this process's CPU per delivery is measured`);
          if (process.platform === "linux") assert.ok((sample.extra?.emulatorCpuMsPerOp ?? -1) >= 0, `${scenario.id}: the emulator's CPU per delivery is measured`);
        }
      }
      // The webhook path was warmed until two rounds in a row agreed, or for its rounds (2 in a quick run).
      const rounds = results.meta.warmUpRates ?? [];
      assert.ok(rounds.length === 2 && rounds.every((rate) => rate > 0), `warm-up rounds: ${rounds.join(", ")}`);
    });

    it("counts the cost of a donation (to a quiet and to a busy wish), a redelivery, a wish view and a feed page", () => {
      const donation = find("cost.donation").cost;
      assert.ok(donation && donation.writes >= 1 && donation.reads >= 1, "a confirmed donation reads and writes");
      const busy = find("cost.donation-busy").cost;
      assert.ok(busy && donation && busy.reads === donation.reads - 1 && busy.writes === donation.writes, "a busy-wish donation skips the wish read");
      const redelivery = find("cost.donation-redelivery").cost;
      assert.ok(redelivery && redelivery.writes === 0, "a duplicate delivery writes nothing");
      const view = find("cost.wish-view").cost;
      assert.ok(view, "wish view counted");
      assert.equal(view.reads, 1 + 20 + 20, "the wish, 20 comments and 20 supporters (30 of each seeded)");
      assert.ok(view.rulesLookups !== undefined && view.rulesLookups >= 1, "the subcollection rules look the wish up");
      assert.equal(find("cost.wish-read").cost?.rulesLookups, 0, "a wish read is decided on viewerIds alone");
      assert.equal(find("cost.feed-page").cost?.reads, 20);
    });

    it("counts the naive donation at exactly 1 read and 2 writes", () => {
      const cost = find("cost.naive-donation").cost;
      assert.ok(cost);
      assert.equal(cost.reads, 1);
      assert.equal(cost.writes, 2);
      assert.equal(cost.operations, 3);
    });

    it("reports every scenario that cannot run yet as not available, never as a figure", () => {
      for (const scenario of results.scenarios) {
        if (scenario.status === "not available") {
          assert.ok(scenario.reason, `${scenario.id} says why`);
          assert.equal(scenario.throughput, undefined);
          assert.equal(scenario.repeats.length, 0);
        } else {
          assert.equal(scenario.status, "ok", `${scenario.id}: ${scenario.reason ?? ""}`);
        }
      }
    });

    it("writes results.json, results.md and a PNG chart", () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "bench-smoke-"));
      try {
        const markdown = writeOutputs(results, dir, options.concurrencies);
        assert.match(markdown, /\| Scenario \| c \| ops\/run \| ops\/s \| × raw \|/);
        assert.match(markdown, /Naive transaction per donation, one hot document \| 8 \|/);
        assert.match(markdown, /\| ≤ 6 Firestore operations per donation: to a busy wish \(viral\) \| \d+(\.\d+)? \(/, "the targets are evaluated on measured figures");
        assert.match(markdown, /\| ≤ 6 Firestore operations per donation: to a quiet wish [^|]*\| \d+(\.\d+)? \(/);
        assert.match(markdown, /\| Notification fan-out [^|]*\| [\d.]+× \([^|]*; [\d.]+× the raw batched write of the same inbox items \(/);
        const json = JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as BenchResults;
        assert.equal(json.scenarios.length, results.scenarios.length);
        assert.ok(existsSync(path.join(dir, "results.md")));
        const png = decodeRows(readFileSync(path.join(dir, "throughput.png")));
        assert.equal(png.width, 900);
        assert.ok(png.rgb.some((byte) => byte !== 255), "the chart is not blank");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
