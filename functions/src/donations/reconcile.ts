import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { DriftReport } from "../model/donation";
import { contributionsCollection } from "../model/donation";
import { FieldValue } from "firebase-admin/firestore";
import { RAISED_ADJUSTMENT_SHARD } from "../model/wish";
import { raisedShardRef } from "../store/wishes";
import { foldWishCounters, readShardTotals, wishCounterTotals } from "./counters";
import { refs } from "../store/donations";

/**
 * Re-derives a wish's totals from the ledger (the source of truth) and reports drift in `ops/ledger/drift/{wishId}`:
 * raised = sum of the wish's ledger entries; donorCount = distinct donors with a charge; each donor's contribution =
 * the sum of their entries. With `repair`, the derived values are written back: the wish's shards get a correction in
 * their `adjustment` shard (so that they sum to the ledger's figures) and are folded into the wish, which also
 * re-checks the funded flip; contributions are set. Run it when the wish is quiet: a fold not yet run shows as drift.
 */
export async function reconcileWish(
  deps: { db: Firestore; clock: Clock },
  wishId: string,
  options: { repair: boolean },
): Promise<DriftReport> {
  const wish = (await refs.wish(deps.db, wishId).get()).data();
  if (!wish) throw new DomainError("wish_not_found", { field: "wishId" });
  const entries = (await refs.ledger(deps.db).where("wishId", "==", wishId).get()).docs.map((doc) => doc.data());

  // Payout entries (money paid on to the owner) do not change what the wish raised.
  const perDonor = new Map<string, { amount: number; charges: number }>();
  for (const entry of entries) {
    if (entry.donorId === null) continue;
    const donor = perDonor.get(entry.donorId) ?? { amount: 0, charges: 0 };
    donor.amount += entry.amount;
    if (entry.kind === "charge") donor.charges += 1;
    perDonor.set(entry.donorId, donor);
  }
  const chargedDonors = [...perDonor.values()].filter((donor) => donor.charges > 0).length;
  const expected = {
    raised: entries.reduce((sum, entry) => sum + (entry.donorId === null ? 0 : entry.amount), 0),
    donorCount: chargedDonors,
    hasSucceededDonation: chargedDonors > 0,
  };
  const actual = { raised: wish.raised, donorCount: wish.donorCount, hasSucceededDonation: wish.hasSucceededDonation };

  const donorIds = [...perDonor.keys()].sort();
  const contributions = await Promise.all(donorIds.map((donorId) => refs.contribution(deps.db, donorId, wishId).get()));
  const contributionDrift = donorIds.flatMap((donorId, index) => {
    const expectedAmount = perDonor.get(donorId)?.amount ?? 0;
    const actualAmount = contributions[index]?.data()?.amount ?? null;
    return actualAmount === expectedAmount ? [] : [{ donorId, expected: expectedAmount, actual: actualAmount }];
  });
  const drift =
    expected.raised !== actual.raised ||
    expected.donorCount !== actual.donorCount ||
    expected.hasSucceededDonation !== actual.hasSucceededDonation ||
    contributionDrift.length > 0;

  const now = deps.clock.now();
  const repaired = options.repair && drift;
  const report: DriftReport = {
    wishId,
    checkedAt: now,
    drift,
    repaired,
    ledgerEntries: entries.length,
    expected,
    actual,
    contributionDrift,
  };
  const batch = deps.db.batch();
  batch.set(refs.drift(deps.db, wishId), report);
  if (repaired) {
    // The wish's counters are its shards plus what quiet-wish donations wrote into it directly (counters.ts).
    const counted = wishCounterTotals((await readShardTotals(deps.db, wishId)).totals, wish);
    batch.set(
      raisedShardRef(deps.db, wishId, RAISED_ADJUSTMENT_SHARD),
      { raised: FieldValue.increment(expected.raised - counted.raised), donorCount: FieldValue.increment(expected.donorCount - counted.donorCount) },
      { merge: true },
    );
    for (const item of contributionDrift) {
      const donor = perDonor.get(item.donorId);
      batch.set(
        deps.db.collection(contributionsCollection(item.donorId)).doc(wishId),
        { wishId, donorId: item.donorId, currency: wish.currency, amount: item.expected, donationCount: donor?.charges ?? 0, updatedAt: now, ...(item.actual === null ? { firstGivenAt: now } : {}) },
        { merge: true },
      );
    }
  }
  await batch.commit();
  if (repaired) await foldWishCounters(deps, wishId);
  if (drift) logger.warn("ledger drift found", { wishId, repaired, expected, actual, contributionDrift: contributionDrift.length });
  return report;
}

export const reconcileInput = z.object({ wishId: idSchema, repair: z.boolean().optional() }).strict();

/** Admin callable around `reconcileWish`. */
export async function reconcileWishCallable(
  deps: { db: Firestore; clock: Clock },
  data: unknown,
): Promise<{ drift: boolean; repaired: boolean; expected: DriftReport["expected"]; actual: DriftReport["actual"] }> {
  const input = parseInput(reconcileInput, data);
  const report = await reconcileWish(deps, input.wishId, { repair: input.repair ?? false });
  return { drift: report.drift, repaired: report.repaired, expected: report.expected, actual: report.actual };
}
