/** The one concurrency pool: bounded parallel work over a list, and Firestore-sized chunks. */

/** Firestore's limit on writes per batch. */
export const BATCH_LIMIT = 500;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order, like Promise.allSettled. */
export async function settleWithLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: "fulfilled", value: await fn(items[index] as T) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Runs `worker` over every item with at most `limit` in flight; then throws the first failure, if any. */
export async function inParallel<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  const failed = (await settleWithLimit(items, limit, worker)).find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}
