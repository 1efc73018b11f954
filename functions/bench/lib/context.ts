// Where the benchmark runs: the Firestore emulator only (never a real project), in its own named database so that
// the emulated functions' Firestore triggers (which listen on "(default)") and the test suite's resets never touch
// the benchmark's documents, and the benchmark never touches theirs.
import { deleteApp, initializeApp } from "firebase-admin/app";
import type { App } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import type { TaskEnqueuer } from "../../src/lib/tasks";
import { instrumentFirestore } from "./counting";

export interface BenchOptions {
  quick: boolean;
  /** Repeats of each cheap load scenario (baselines, fan-out). */
  repeats: number;
  /** Repeats of the webhook scenarios (the expensive ones). */
  webhookRepeats: number;
  /** Donations per hot-wish / spread run. */
  donations: number;
  /** Wishes in the spread scenario. */
  spreadWishes: number;
  /** Friends of the fan-out owner. */
  friends: number;
  /** Repeats of the notification fan-out (its first repeat is also the first run of its code, so it takes the median of several, like the baselines beside it). */
  fanOutRepeats: number;
  /** Documents per parallel-write baseline repeat. */
  parallelWrites: number;
  /** Transactions per naive hot-document repeat (bounded by `txnTimeLimitMs` too). */
  naiveTransactions: number;
  txnTimeLimitMs: number;
  /** Time bound of one webhook run (the run stops starting new deliveries after it; totals are still exact). */
  webhookTimeLimitMs: number;
  /** Unmeasured rounds of the webhook path at most before timing (scenarios/webhooks.ts, warmUpWebhooks). */
  warmUpRounds: number;
  concurrencies: number[];
  database: string;
  log: (line: string) => void;
}

export const FULL: Omit<BenchOptions, "log"> = {
  quick: false,
  repeats: 3,
  webhookRepeats: 1,
  donations: 2_000,
  spreadWishes: 200,
  friends: 5_000,
  fanOutRepeats: 3,
  parallelWrites: 2_000,
  naiveTransactions: 200,
  txnTimeLimitMs: 8_000,
  webhookTimeLimitMs: 30_000,
  warmUpRounds: 8,
  concurrencies: [1, 8, 64],
  database: "bench",
};

export const QUICK: Omit<BenchOptions, "log"> = {
  quick: true,
  repeats: 2,
  webhookRepeats: 1,
  donations: 60,
  spreadWishes: 10,
  friends: 600,
  fanOutRepeats: 1,
  parallelWrites: 200,
  naiveTransactions: 16,
  txnTimeLimitMs: 5_000,
  webhookTimeLimitMs: 15_000,
  warmUpRounds: 2,
  concurrencies: [1, 8, 64],
  database: "bench-quick",
};

export interface BenchContext {
  projectId: string;
  firestoreHost: string;
  options: BenchOptions;
  /** The Admin SDK on the benchmark database. */
  db: Firestore;
  /** A separate Firestore client on the benchmark database (its own app), e.g. to count one path's operations. */
  freshDb(label: string): Firestore;
  /** Deletes every document in the benchmark database (the emulator's reset endpoint). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

let appCounter = 0;

export function openContext(options: BenchOptions, env: NodeJS.ProcessEnv = process.env): BenchContext {
  const firestoreHost = env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) {
    throw new Error("FIRESTORE_EMULATOR_HOST is not set: run the benchmark through `npm run bench` (it starts the emulators).");
  }
  const projectId = env.GCLOUD_PROJECT ?? "demo-elateme";
  if (!projectId.startsWith("demo-")) throw new Error(`Refusing to benchmark project ${projectId}: only demo-* emulator projects.`);
  const apps: App[] = [];
  const open = (label: string): Firestore => {
    const app = initializeApp({ projectId }, `bench-${label}-${++appCounter}`);
    apps.push(app);
    return getFirestore(app, options.database);
  };
  // Instrumented so that every write through it feeds the per-document write log (lib/counting.ts).
  const main = open("main");
  instrumentFirestore(main);
  return {
    projectId,
    firestoreHost,
    options,
    db: main,
    freshDb: open,
    async clear() {
      const url = `http://${firestoreHost}/emulator/v1/projects/${projectId}/databases/${options.database}/documents`;
      const response = await fetch(url, { method: "DELETE" });
      if (!response.ok) throw new Error(`Clearing the benchmark database failed: HTTP ${response.status}`);
    },
    async close() {
      await Promise.all(apps.splice(0).map((app) => deleteApp(app)));
    },
  };
}

/**
 * Cloud Tasks for the in-process webhook handler: the payment events the benchmark delivers never enqueue (only a
 * transfer confirmed while more is owed does), so nothing is recorded.
 */
export const noTasks: TaskEnqueuer = { enqueue: () => Promise.resolve("enqueued") };
