// Documents the scenarios seed, in the exact shapes of the shared zod schemas (src/model), as the callables would
// write them: a schema change breaks the benchmark loudly instead of letting it measure a stale shape.
import { newWishState, wishSchema } from "../../src/model/wish";
import type { Wish } from "../../src/model/wish";

/** Far above what a benchmark run raises, so runs measure the donation path and not the one-off funding flip. */
export const BENCH_WISH_AMOUNT = 10_000_000;

/** An open, non-surprise CZK wish of `ownerId`, visible to `viewerIds` (the owner is always one). */
export function benchWish(ownerId: string, viewerIds: readonly string[] = []): Wish {
  const now = new Date();
  return wishSchema.parse({
    ownerId,
    organizerId: ownerId,
    isSurprise: false,
    title: "Benchmark wish",
    description: "Seeded by npm run bench",
    imageUrl: null,
    amount: BENCH_WISH_AMOUNT,
    currency: "CZK",
    deadline: new Date(now.getTime() + 30 * 86_400_000),
    audience: { kind: "friends", groupIds: [], userIds: [] },
    viewerIds: [ownerId, ...viewerIds.filter((uid) => uid !== ownerId)],
    ...newWishState(now),
  });
}
