// Cost: billable Firestore operations per donation, per wish view, per feed page, and rules lookups per wish read.
// Reads and writes are counted by an instrumented Admin SDK client (lib/counting.ts) on the benchmark database;
// rules get()/exists() lookups by the emulator's rules coverage report (lib/rules-coverage.ts) around client-SDK
// reads of the same shape on the "(default)" database, the one the emulator's rules are loaded for.
import { deleteApp, initializeApp } from "firebase/app";
import { collection, connectFirestoreEmulator, doc, getDoc, getDocs, getFirestore, limit, orderBy, query, terminate } from "firebase/firestore";
import { getFirestore as adminFirestore } from "firebase-admin/firestore";
import type { Firestore } from "firebase-admin/firestore";
import { initializeApp as adminInitializeApp, deleteApp as adminDeleteApp } from "firebase-admin/app";
import { systemClock } from "../../src/lib/clock";
import { handlePaymentWebhook } from "../../src/settlement/webhook";
import { noTasks } from "../lib/context";
import type { BenchContext } from "../lib/context";
import { instrumentFirestore, measureOps } from "../lib/counting";
import type { OpCounts } from "../lib/counting";
import { costFigure, notAvailable } from "../lib/results";
import type { ScenarioResult } from "../lib/results";
import { rulesLookupsOf } from "../lib/rules-coverage";
import type { RequestLookups } from "../lib/rules-coverage";
import { amountOf, donationLike, feedItemLike } from "./baseline";
import { benchWish } from "./seed";
import { seedDonations, signDeliveries, webhookVerifier } from "./webhooks";
import type { WebhookPlan } from "./webhooks";

const ADMIN_COUNT = "instrumented Admin SDK client";
const PAGE = 20;

function costResult(id: string, title: string, units: number, figure: ReturnType<typeof costFigure>): ScenarioResult {
  return { id, group: "cost", title, concurrency: 1, status: "ok", n: units, repeats: [], cost: figure };
}

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
  return costResult("cost.naive-donation", "Naive transaction donation (counter check)", units, costFigure("donation", ops, units, `${ADMIN_COUNT}, ${units} sequential donations`));
}

/**
 * A donation confirmed through the webhook handler, and a redelivery of the same event; and a donation made while its
 * wish was busy (`busyWish`: the webhook does not read the wish).
 */
async function donationCosts(ctx: BenchContext): Promise<ScenarioResult[]> {
  const db = ctx.freshDb("cost-donation");
  const counter = instrumentFirestore(db);
  const units = 20;
  const { webhooks, stripe } = webhookVerifier();
  const deps = { db, clock: systemClock, webhooks, tasks: noTasks };
  const deliverAll = async (plan: WebhookPlan) => {
    const firsts = signDeliveries(stripe, { ...plan, deliveries: plan.donationIds.map((_, i) => i) }, 1);
    for (const delivery of firsts) {
      const response = await handlePaymentWebhook(deps, { method: "POST", rawBody: delivery.rawBody, signature: delivery.signature });
      if (response.status !== 200) throw new Error(`webhook answered HTTP ${response.status}`);
    }
  };
  const plan = await seedDonations(ctx.db, "cost", 1, units);
  const { ops } = await measureOps(counter, () => deliverAll(plan));
  const { ops: dupOps } = await measureOps(counter, () => deliverAll(plan));
  const busyPlan = await seedDonations(ctx.db, "cost-busy", 1, units, true);
  const { ops: busyOps } = await measureOps(counter, () => deliverAll(busyPlan));
  const how = `${ADMIN_COUNT} around handlePaymentWebhook, ${units} sequential signed payment_intent.succeeded events`;
  return [
    costResult("cost.donation", "Donation confirmed by its webhook", units, costFigure("donation", ops, units, how)),
    costResult("cost.donation-busy", "Donation made while its wish was busy, confirmed", units, costFigure("donation", busyOps, units, `${how} with busyWish`)),
    costResult("cost.donation-redelivery", "Redelivered webhook (duplicate)", units, costFigure("delivery", dupOps, units, how)),
  ];
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
    for (let p = 0; p < pages; p++) await db.collection(`users/${uid}/feed`).orderBy("createdAt", "desc").limit(PAGE).get();
  });
  return costResult("cost.feed-page", "Feed page (20 newest items)", pages, costFigure("feed page", ops, pages, `${ADMIN_COUNT}, the app's page query`));
}

async function seedViewedWish(db: Firestore, wishId: string, reader: string, children: number): Promise<void> {
  const batch = db.batch();
  batch.set(db.doc(`wishes/${wishId}`), { ...benchWish("cost-owner"), viewerIds: ["cost-owner", reader] });
  for (let i = 0; i < children; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, i));
    batch.set(db.doc(`wishes/${wishId}/comments/c${i}`), { authorId: reader, text: `Comment ${i}`, createdAt: at, authorName: "Reader", authorPhotoUrl: null });
    batch.set(db.doc(`wishes/${wishId}/supporters/s${i}`), {
      donorId: reader,
      displayName: "Reader",
      amount: amountOf(i),
      currency: "CZK",
      message: null,
      anonymous: false,
      createdAt: at,
    });
  }
  await batch.commit();
}

/** A wish view: the wish, its newest 20 comments and its newest 20 supporters. */
async function wishViewReads(ctx: BenchContext): Promise<{ read: OpCounts; view: OpCounts }> {
  const db = ctx.freshDb("cost-view");
  const counter = instrumentFirestore(db);
  await seedViewedWish(ctx.db, "view-wish", "cost-reader", 30);
  const { ops: read } = await measureOps(counter, () => db.doc("wishes/view-wish").get());
  const { ops: view } = await measureOps(counter, async () => {
    await db.doc("wishes/view-wish").get();
    await db.collection("wishes/view-wish/comments").orderBy("createdAt", "desc").limit(PAGE).get();
    await db.collection("wishes/view-wish/supporters").orderBy("createdAt", "desc").limit(PAGE).get();
  });
  return { read, view };
}

/**
 * Rules lookups of the same reads made by a signed-in client. Runs on "(default)" (where the emulator's rules are
 * loaded) with a wish id of its own, removed afterwards.
 */
async function wishViewRules(ctx: BenchContext): Promise<{ wishRead: RequestLookups; view: RequestLookups }> {
  const reader = "bench-cost-reader";
  const wishId = `bench-cost-${Date.now()}`;
  const adminApp = adminInitializeApp({ projectId: ctx.projectId }, `bench-rules-${wishId}`);
  const admin = adminFirestore(adminApp);
  const app = initializeApp({ projectId: ctx.projectId, apiKey: "bench" }, `bench-client-${wishId}`);
  const client = getFirestore(app);
  const [host, port] = ctx.firestoreHost.split(":");
  connectFirestoreEmulator(client, host ?? "127.0.0.1", Number(port), { mockUserToken: { sub: reader, user_id: reader } });
  const lookups = (request: () => Promise<unknown>) => rulesLookupsOf(ctx.firestoreHost, ctx.projectId, request);
  try {
    await seedViewedWish(admin, wishId, reader, 3);
    const wishRead = await lookups(() => getDoc(doc(client, `wishes/${wishId}`)));
    const comments = await lookups(() => getDocs(query(collection(client, `wishes/${wishId}/comments`), orderBy("createdAt", "desc"), limit(PAGE))));
    const supporters = await lookups(() =>
      getDocs(query(collection(client, `wishes/${wishId}/supporters`), orderBy("createdAt", "desc"), limit(PAGE))),
    );
    const sum = (parts: RequestLookups[]): RequestLookups => ({
      evaluations: parts.reduce((total, part) => total + part.evaluations, 0),
      distinct: parts.reduce((total, part) => total + part.distinct, 0),
    });
    return { wishRead, view: sum([wishRead, comments, supporters]) };
  } finally {
    await terminate(client);
    await deleteApp(app);
    await admin.recursiveDelete(admin.doc(`wishes/${wishId}`));
    await adminDeleteApp(adminApp);
  }
}

async function wishCosts(ctx: BenchContext): Promise<ScenarioResult[]> {
  const reads = await wishViewReads(ctx);
  let rules: { wishRead: RequestLookups; view: RequestLookups };
  try {
    rules = await wishViewRules(ctx);
  } catch (error) {
    const reason = `a signed-in viewer's read was refused (${error instanceof Error ? error.message.slice(0, 120) : String(error)}): are the wish rules in firestore.rules?`;
    return [
      notAvailable({ id: "cost.wish-read", group: "cost", title: "Wish read (wishes/{id})", concurrency: 1, n: 0 }, reason),
      notAvailable({ id: "cost.wish-view", group: "cost", title: "Wish view", concurrency: 1, n: 0 }, reason),
    ];
  }
  const rulesHow = (r: RequestLookups) =>
    `rules get()/exists() calls per request from the emulator's rules coverage report (${r.evaluations} evaluations), client SDK as a viewer`;
  return [
    costResult("cost.wish-read", "Wish read (wishes/{id})", 1, costFigure("wish read", reads.read, 1, `${ADMIN_COUNT} for reads; ${rulesHow(rules.wishRead)}`, rules.wishRead.distinct)),
    costResult(
      "cost.wish-view",
      `Wish view (wish + ${PAGE} comments + ${PAGE} supporters)`,
      1,
      costFigure("wish view", reads.view, 1, `${ADMIN_COUNT} for reads; ${rulesHow(rules.view)}`, rules.view.distinct),
    ),
  ];
}

export async function costScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  return [...(await donationCosts(ctx)), await naiveDonationCost(ctx), ...(await wishCosts(ctx)), await feedPageCost(ctx)];
}
