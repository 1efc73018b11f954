import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { idSchema } from "../lib/ids";
import type { DriftReport, LedgerEntry } from "../model/donation";
import { contributionsCollection } from "../model/donation";
import { privateAccountDoc } from "../model/social";
import { FieldValue } from "firebase-admin/firestore";
import { RAISED_ADJUSTMENT_SHARD } from "../model/wish";
import { raisedShardRef } from "../store/wishes";
import { foldWishCounters, readShardTotals, wishCounterTotals } from "./counters";
import { refs } from "../store/donations";
import { payoutRef } from "../store/payouts";
import { audited, reasonSchema } from "../store/audit-log";

/**
 * Re-derives a wish's totals from the ledger (the source of truth) and reports drift in `ops/ledger/drift/{wishId}`:
 * raised = sum of the wish's ledger entries; donorCount = distinct donors with a charge; each donor's contribution =
 * the sum of their entries. With `repair`, the derived values are written back: the wish's shards get a correction in
 * their `adjustment` shard (so that they sum to the ledger's figures) and are folded into the wish, which also
 * re-checks the funded flip; contributions are set. Run it when the wish is quiet: a fold not yet run shows as drift.
 *
 * The payout's `paidAmount` (what the owner received) is checked against the ledger's transfer entries as well, and
 * re-derived from them by the repair. That is safe for money: `paidAmount` is a record, never an input — what a payout
 * still owes is `wish.raised − grossAccounted` (src/payouts/payouts.ts), so no transfer is made or withheld because of
 * it; the ledger entry of a transfer and `paidAmount` are written in one transaction (applyTransferEvent), so they
 * differ only after a write outside our code; and the repair re-reads both in one transaction, so a transfer event
 * landing meanwhile is never overwritten. The old value stays in the drift report and the audit log.
 */
export async function reconcileWish(
  deps: { db: Firestore; clock: Clock },
  wishId: string,
  options: { repair: boolean },
): Promise<DriftReport> {
  const wish = (await refs.wish(deps.db, wishId).get()).data();
  if (!wish) throw new DomainError("wish_not_found", { field: "wishId" });
  const [entries, payout] = await Promise.all([
    refs.ledger(deps.db).where("wishId", "==", wishId).get().then((snap) => snap.docs.map((doc) => doc.data())),
    payoutRef(deps.db, wishId).get().then((snap) => snap.data()),
  ]);

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
  // A donor who deleted their account took their contributions along (docs/social.md): theirs is not missing.
  const withoutContribution = donorIds.filter((_, index) => !contributions[index]?.exists);
  const accounts = withoutContribution.length > 0 ? await deps.db.getAll(...withoutContribution.map((donorId) => deps.db.doc(privateAccountDoc(donorId)))) : [];
  const deletedDonors = new Set(withoutContribution.filter((_, index) => !accounts[index]?.exists));
  const contributionDrift = donorIds.flatMap((donorId, index) => {
    const expectedAmount = perDonor.get(donorId)?.amount ?? 0;
    const actualAmount = contributions[index]?.data()?.amount ?? null;
    return actualAmount === expectedAmount || deletedDonors.has(donorId) ? [] : [{ donorId, expected: expectedAmount, actual: actualAmount }];
  });
  const paidAmount = payout ? { expected: paidByLedger(entries), actual: payout.paidAmount } : null;
  const drift =
    (paidAmount !== null && paidAmount.expected !== paidAmount.actual) ||
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
    paidAmount,
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
  if (repaired && paidAmount !== null && paidAmount.expected !== paidAmount.actual) await rederivePaidAmount(deps.db, wishId);
  if (repaired) await foldWishCounters(deps, wishId);
  if (drift) logger.warn("ledger drift found", { wishId, repaired, expected, actual, contributionDrift: contributionDrift.length, paidAmount });
  return report;
}

/** What the owner received by the ledger: its transfers less their reversals (payout entries are negative). */
function paidByLedger(entries: Pick<LedgerEntry, "kind" | "amount">[]): number {
  return entries.reduce((sum, entry) => sum - (entry.kind === "payout" || entry.kind === "payout_reversal" ? entry.amount : 0), 0);
}

/** Sets the payout's `paidAmount` to the ledger's, both read in one transaction (see `reconcileWish`). */
async function rederivePaidAmount(db: Firestore, wishId: string): Promise<void> {
  await db.runTransaction(async (tx) => {
    const ref = payoutRef(db, wishId);
    const [payout, ledger] = await Promise.all([tx.get(ref), tx.get(refs.ledger(db).where("wishId", "==", wishId))]);
    if (!payout.exists) return;
    const paid = paidByLedger(ledger.docs.map((doc) => doc.data()));
    if (payout.data()?.paidAmount !== paid) tx.update(ref, { paidAmount: paid });
  });
}

/**
 * `reconcileWishLedger({wishId, repair?, reason})` (admins only) and the ops command `reconcileWish`: one input, one
 * answer, audited as `reconcileWish` (target `wishes/{wishId}`), a refusal too. A `reason` is required always, for the
 * read-only check as well: every ops action takes one (docs/operations.md), and the check writes the drift report.
 */
export const reconcileInput = z.object({ wishId: idSchema, repair: z.boolean().optional(), reason: reasonSchema }).strict();

export type ReconcileAnswer = Pick<DriftReport, "drift" | "repaired" | "expected" | "actual" | "paidAmount"> & { result: "in_order" | "drift" | "repaired" };

export async function reconcileWishAction(deps: { db: Firestore; clock: Clock }, actorId: string, data: unknown): Promise<ReconcileAnswer> {
  const input = parseInput(reconcileInput, data);
  return audited(deps, { action: "reconcileWish", actorId, target: `wishes/${input.wishId}`, reason: input.reason }, async () => {
    const report = await reconcileWish(deps, input.wishId, { repair: input.repair ?? false });
    const result = !report.drift ? "in_order" : report.repaired ? "repaired" : "drift";
    return { result, drift: report.drift, repaired: report.repaired, expected: report.expected, actual: report.actual, paidAmount: report.paidAmount };
  });
}
