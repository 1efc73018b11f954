// Cost: billable Firestore operations per donation, per wish view, per feed page, and rules lookups per wish read.
import type { BenchContext } from "../lib/context";
import { instrumentFirestore, measureOps } from "../lib/counting";
import { costFigure, notAvailable } from "../lib/results";
import type { ScenarioResult } from "../lib/results";
import { amountOf, donationLike, feedItemLike } from "./baseline";

const ADMIN_COUNT = "instrumented Admin SDK client";

/** The naive transaction-per-donation of the baseline, counted: validates the counter (expect 1 read, 2 writes). */
async function naiveDonationCost(ctx: BenchContext): Promise<ScenarioResult> {
  const db = ctx.freshDb("cost-naive");
  const counter = instrumentFirestore(db);
  const wish = db.collection("benchCost").doc("naive");
  await wish.set({ raised: 0, donorCount: 0 });
  const units = 5;
  const { ops } = await measureOps(counter, async () => {
    for (let i = 0; i < units; i++) {
      await db.runTransaction(async (tx) => {
        const snap = await tx.get(wish);
        tx.update(wish, { raised: Number(snap.get("raised") ?? 0) + amountOf(i), donorCount: Number(snap.get("donorCount") ?? 0) + 1 });
        tx.create(db.collection("benchCost/naive/donations").doc(`d${i}`), donationLike(i, "naive"));
      });
    }
  });
  return {
    id: "cost.naive-donation",
    group: "cost",
    title: "Naive transaction donation (counter check)",
    concurrency: 1,
    status: "ok",
    n: units,
    repeats: [],
    cost: costFigure("donation", ops, units, `${ADMIN_COUNT}, ${units} sequential donations`),
  };
}

/** One feed page as the app reads it: the newest 20 items of the user's feed. */
async function feedPageCost(ctx: BenchContext): Promise<ScenarioResult> {
  const db = ctx.freshDb("cost-feed");
  const counter = instrumentFirestore(db);
  const uid = "cost-reader";
  const batch = ctx.db.batch();
  for (let i = 0; i < 50; i++) batch.set(ctx.db.collection(`users/${uid}/feed`).doc(`e${i}`), feedItemLike(`e${i}`));
  await batch.commit();
  const pages = 3;
  const { ops } = await measureOps(counter, async () => {
    for (let p = 0; p < pages; p++) await db.collection(`users/${uid}/feed`).orderBy("createdAt", "desc").limit(20).get();
  });
  return {
    id: "cost.feed-page",
    group: "cost",
    title: "Feed page (20 newest items)",
    concurrency: 1,
    status: "ok",
    n: pages,
    repeats: [],
    cost: costFigure("feed page", ops, pages, `${ADMIN_COUNT}, the app's page query`),
  };
}

export async function costScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  return [
    notAvailable(
      { id: "cost.donation", group: "cost", title: "Donation through the webhook handler", concurrency: 1, n: 0 },
      "the Stripe webhook handler (issue 5) is not in git yet",
    ),
    await naiveDonationCost(ctx),
    notAvailable(
      { id: "cost.wish-view", group: "cost", title: "Wish view", concurrency: 1, n: 0 },
      "the wish rules and view queries (issue 4) are not in git yet",
    ),
    await feedPageCost(ctx),
  ];
}
