// An instrumented Admin SDK Firestore client: counts the billable reads and writes (and the RPCs) that go through
// one Firestore instance, by wrapping the GAPIC client the SDK hands each request to. Counting happens in the
// client on what the server actually returned, with Firestore's billing rules:
//   - a write is one entry of a Commit/BatchWrite request the server accepted (a field transform such as increment
//     rides on its write; a commit refused by a precondition writes and bills nothing);
//   - a read is one document returned by BatchGetDocuments (found or missing) or RunQuery, and a query that
//     returns nothing still costs one read; an aggregation query is counted as one read.
// BeginTransaction/Rollback are free but are round trips; they appear under `rpcs`.
import type { Firestore } from "firebase-admin/firestore";

export interface OpCounts {
  reads: number;
  writes: number;
  /** Round trips by RPC name (commit, batchGetDocuments, runQuery, beginTransaction, ...). */
  rpcs: Record<string, number>;
}

type GapicMethod = (request: unknown, options?: unknown) => unknown;
type PoolRun = (requestTag: string, requiresGrpc: boolean, op: (client: unknown) => Promise<unknown>) => Promise<unknown>;

interface ClientPoolLike {
  run: PoolRun;
}

function hasClientPool(value: unknown): value is { _clientPool: ClientPoolLike } {
  if (!value || typeof value !== "object" || !("_clientPool" in value)) return false;
  const pool = value._clientPool;
  return Boolean(pool && typeof pool === "object" && typeof (pool as { run?: unknown }).run === "function");
}

interface EventSource {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

function isEventSource(value: unknown): value is EventSource {
  return Boolean(value && typeof value === "object" && typeof (value as { on?: unknown }).on === "function");
}

function writesIn(request: unknown): number {
  const writes = (request as { writes?: unknown } | undefined)?.writes;
  return Array.isArray(writes) ? writes.length : 0;
}

/** The document a Commit/BatchWrite entry writes (an update/set, a delete, or a transform alone). */
function documentOf(write: unknown): string | null {
  const w = write as { update?: { name?: unknown }; delete?: unknown; transform?: { document?: unknown } } | undefined;
  const name = w?.update?.name ?? w?.delete ?? w?.transform?.document;
  return typeof name === "string" ? name : null;
}

/**
 * Per-document write times, fed by every instrumented client while a log is open: the most writes any single
 * document took in any window of `windowMs`, divided by the window in seconds. Firestore sustains about 1 write/s per
 * document; the emulator does not enforce it, so this is how the benchmark sees a hot document.
 */
export interface DocumentWriteLog {
  /** Ends the log; the hottest document and its rate (writes per second over its busiest window). */
  stop(): { maxPerSec: number; document: string | null; writes: number };
}

let openLog: Map<string, number[]> | null = null;
/** Told the documents of each commit while the log is open (paths relative to the database). */
let commitListener: ((documents: string[]) => void) | null = null;

const relativePath = (name: string) => name.replace(/^projects\/[^/]+\/databases\/[^/]+\/documents\//, "");

export function startDocumentWriteLog(windowMs = 10_000, onCommit?: (documents: string[]) => void): DocumentWriteLog {
  const log = new Map<string, number[]>();
  openLog = log;
  commitListener = onCommit ?? null;
  return {
    stop() {
      if (openLog === log) {
        openLog = null;
        commitListener = null;
      }
      let best = { maxPerSec: 0, document: null as string | null, writes: 0 };
      for (const [document, times] of log) {
        times.sort((a, b) => a - b);
        let start = 0;
        for (let end = 0; end < times.length; end++) {
          while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start++;
          const inWindow = end - start + 1;
          if (inWindow / (windowMs / 1000) > best.maxPerSec) best = { maxPerSec: inWindow / (windowMs / 1000), document: relativePath(document), writes: times.length };
        }
      }
      return best;
    },
  };
}

function logWrites(request: unknown): void {
  if (!openLog) return;
  const writes = (request as { writes?: unknown } | undefined)?.writes;
  if (!Array.isArray(writes)) return;
  const documents = writes.map(documentOf).filter((document): document is string => document !== null).map(relativePath);
  recordCommit(documents, Date.now());
}

/**
 * Adds one commit's documents (paths relative to the database) to the open log, as if this process had committed
 * them at `at`: for commits made elsewhere, e.g. by the benchmark's fold worker (lib/fold-worker.ts).
 */
export function recordCommit(documents: readonly string[], at: number): void {
  if (!openLog) return;
  for (const document of documents) {
    const times = openLog.get(document);
    if (times) times.push(at);
    else openLog.set(document, [at]);
  }
  commitListener?.([...documents]);
}

const UNARY_WRITES = new Set(["commit", "batchWrite"]);
const UNARY_OTHER = new Set(["beginTransaction", "rollback", "listCollectionIds", "listDocuments"]);

/** The counter attached to one Firestore instance. */
export interface Instrumented {
  counts(): OpCounts;
  reset(): void;
}

/**
 * Instruments `db` in place (all later requests through it are counted). Throws if the SDK's internals changed
 * shape, so a silent zero can never be reported as a measurement.
 */
export function instrumentFirestore(db: Firestore): Instrumented {
  if (!hasClientPool(db)) throw new Error("Cannot instrument this Firestore client: no _clientPool (SDK internals changed?)");
  let counts: OpCounts = { reads: 0, writes: 0, rpcs: {} };
  const rpc = (name: string) => {
    counts.rpcs[name] = (counts.rpcs[name] ?? 0) + 1;
  };

  const wrapClient = (client: unknown): unknown => {
    if (!client || typeof client !== "object") return client;
    return new Proxy(client, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof prop !== "string" || typeof value !== "function") return value;
        const method = value as GapicMethod;
        if (UNARY_WRITES.has(prop)) {
          return (request: unknown, options?: unknown) => {
            rpc(prop);
            const result = method.call(target, request, options);
            // Counted once the server accepted the commit: a refused one (a failed precondition) is not billed.
            if (result instanceof Promise) {
              result.then(
                () => {
                  counts.writes += writesIn(request);
                  logWrites(request);
                },
                () => undefined,
              );
            } else {
              counts.writes += writesIn(request);
              logWrites(request);
            }
            return result;
          };
        }
        if (UNARY_OTHER.has(prop)) {
          return (request: unknown, options?: unknown) => {
            rpc(prop);
            return method.call(target, request, options);
          };
        }
        if (prop === "batchGetDocuments" || prop === "runQuery" || prop === "runAggregationQuery") {
          return (request: unknown, options?: unknown) => {
            rpc(prop);
            const stream = method.call(target, request, options);
            if (isEventSource(stream)) {
              // Counted as each response arrives (our listener runs before the SDK's), never at stream end: the SDK
              // can resolve its promise before the stream's 'end', so an end-time count could trail the measurement.
              let returned = 0;
              let charged = 0;
              stream.on("data", (chunk: unknown) => {
                const response = chunk as { found?: unknown; missing?: unknown; document?: unknown; result?: unknown };
                if (prop === "batchGetDocuments" && (response.found || response.missing)) returned++;
                if (prop === "runQuery" && response.document) returned++;
                if (prop === "runAggregationQuery" && response.result) returned++;
                // A query costs at least one read once the server has answered, even with no documents.
                const cost = prop === "batchGetDocuments" ? returned : Math.max(returned, 1);
                counts.reads += cost - charged;
                charged = cost;
              });
            }
            return stream;
          };
        }
        return value;
      },
    });
  };

  const pool = db._clientPool;
  const originalRun = pool.run.bind(pool);
  pool.run = (requestTag, requiresGrpc, op) => originalRun(requestTag, requiresGrpc, (client) => op(wrapClient(client)));

  return {
    counts: () => ({ reads: counts.reads, writes: counts.writes, rpcs: { ...counts.rpcs } }),
    reset: () => {
      counts = { reads: 0, writes: 0, rpcs: {} };
    },
  };
}

/** Runs `block` and returns what it cost through `counter` (the counter must only see this block's traffic). */
export async function measureOps<T>(counter: Instrumented, block: () => Promise<T>): Promise<{ value: T; ops: OpCounts }> {
  counter.reset();
  const value = await block();
  return { value, ops: counter.counts() };
}
