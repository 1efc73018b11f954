// Builds emulator-data/, the demo data set that `npm start` imports, by playing a short story through the same paths
// the apps use: Facebook sign-up via syncFacebookProfile against the fake Graph, friend requests, groups, wishes and a
// surprise via callables, comments as direct client writes under the rules, donations via the donate callable and
// signed Stripe webhooks from the fake Stripe, a close that refunds, a payout to an owner who onboarded with Stripe
// Connect and one held for an owner who has not. Then it waits for the triggers and workers
// (feed, notifications, refunds) to settle and exports Auth + Firestore, plus the fake Stripe's objects, so the
// demo's payments stay consistent after import.
//
//   npm run seed        (from the repository root: starts the emulators, runs this, exports, stops)
import { writeFileSync } from "node:fs";
import path from "node:path";
import { adminDb } from "./support/admin";
import type { TestClient } from "./support/clients";
import { addComment } from "./support/comments";
import { requireEnv } from "./support/emulators";
import { strict as assert } from "node:assert";
import { clearAll } from "./support/reset";
import { fakeBtcpay, fakeGraph, fakeStripe, startBtcpayFake, startFcmFake, startGraphFakeForTests, startStripeFake } from "./support/fakes";
import { functionUrl } from "./support/emulators";
import { deliver, deliverNewEvents } from "./support/stripe-webhooks";
import { facebookUser } from "./support/facebook";
import { DEMO_FACEBOOK_USERS, seedDemoGraph } from "./fakes/graph";
import { systemClock } from "../src/lib/clock";
import { refreshOpsStatus } from "../src/ops/status";

const ROOT = path.resolve(__dirname, "..", "..");
const DAY = 24 * 60 * 60 * 1000;

/** Deadlines 10–11 months out (createWish allows a year): the committed demo stays open for most of a year. */
function inDays(days: number): string {
  return new Date(Date.now() + days * DAY).toISOString();
}

async function settle(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`seed: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function pay(donationId: string, action: "succeed" | "fail"): Promise<void> {
  const donation = await adminDb().doc(`donations/${donationId}`).get();
  const paymentIntentId = String(donation.get("paymentIntentId"));
  const stripe = fakeStripe();
  await deliver(action === "succeed" ? stripe.succeed(paymentIntentId) : stripe.fail(paymentIntentId));
}

let donateTaps = 0;

/** The app's donate: one requestId per "Donate" tap (a retry of the tap would send the same one). */
async function donate(client: TestClient, wishId: string, amount: number, extra: Record<string, unknown> = {}): Promise<string> {
  const result = await client.call<{ donationId: string }>("donate", { wishId, amount, currency: "CZK", requestId: `seed-tap-${++donateTaps}`, ...extra });
  return result.donationId;
}

async function main(): Promise<void> {
  await Promise.all([startGraphFakeForTests(), startStripeFake(), startFcmFake(), startBtcpayFake()]);
  await clearAll();
  seedDemoGraph(fakeGraph()); // the same Facebook accounts and friendships that `npm start`'s fake Graph serves

  // --- People: Alice, Bob, Cyril and Dana sign up with Facebook (the fake Graph's demo accounts); Alice is friends with
  // all three on Facebook.
  const users: Record<string, TestClient> = {};
  for (const demo of DEMO_FACEBOOK_USERS) {
    const profile = { id: demo.id, first_name: demo.first_name, last_name: demo.last_name, email: demo.email, birthday: demo.birthday };
    const uid = `demo-${(demo.first_name ?? demo.id).toLowerCase()}`;
    const user = await facebookUser(uid, profile);
    // Alice opts in to ads attribution on the sign-up screen (docs/analytics.md); the others do not.
    await user.client.call("syncFacebookProfile", { accessToken: user.token, adsConsent: uid === "demo-alice" });
    users[uid] = user.client;
  }
  const alice = users["demo-alice"]!;
  const bob = users["demo-bob"]!;
  const cyril = users["demo-cyril"]!;
  const dana = users["demo-dana"]!;

  // Bob and Cyril become friends in the app (request, accepted); Dana's request waits for Bob's answer; Alice's group.
  await bob.call("sendFriendRequest", { toUid: cyril.uid });
  await cyril.call("acceptFriendRequest", { fromUid: bob.uid });
  await dana.call("sendFriendRequest", { toUid: bob.uid });
  const { groupId: family } = await alice.call<{ groupId: string }>("createGroup", { name: "Family", memberIds: [bob.uid] });
  await alice.call("registerDevice", { deviceId: "alice-pixel-8", platform: "android", token: "demo-fcm-token-alice", locale: "cs-CZ", appVersion: "1.0.0" });
  await bob.call("registerDevice", { deviceId: "bob-iphone-15", platform: "ios", token: "demo-fcm-token-bob", locale: "en-GB", appVersion: "1.0.0" });

  // Bob sets up payouts (Stripe Connect onboarding through the fake's hosted page); Cyril never does.
  const link = await bob.call<{ url: string }>("createPayoutAccountLink", {});
  if (!(await fetch(link.url)).ok) throw new Error("seed: the fake Stripe's onboarding page failed");
  await deliverNewEvents(["account.updated"]);

  // --- Wishes.
  const friends = { kind: "friends", groupIds: [], userIds: [] };
  const { wishId: shoes } = await alice.call<{ wishId: string }>("createWish", {
    title: "Climbing shoes",
    description: "My old pair finally gave up. La Sportiva, size 39.",
    amount: 300_000,
    currency: "CZK",
    deadline: inDays(330),
    audience: friends,
  });
  // Only Alice's "Family" group (Bob) sees this one.
  await alice.call("createWish", {
    title: "Concert tickets",
    description: "Two tickets for the Rudolfinum in spring.",
    amount: 150_000,
    currency: "CZK",
    deadline: inDays(340),
    audience: { kind: "groups", groupIds: [family], userIds: [] },
  });
  const { wishId: guitar } = await bob.call<{ wishId: string }>("createWish", {
    title: "Acoustic guitar",
    description: "A Furch — learning to play this winter.",
    amount: 200_000,
    currency: "CZK",
    deadline: inDays(300),
    audience: friends,
  });
  const { wishId: trip } = await cyril.call<{ wishId: string }>("createWish", {
    title: "Weekend in the Tatras",
    description: "Hut fees and the train.",
    amount: 500_000,
    currency: "CZK",
    deadline: inDays(350),
    audience: friends,
  });
  const { wishId: guidebook } = await cyril.call<{ wishId: string }>("createWish", {
    title: "Hiking guidebook",
    description: "The new edition, with the Slovak side.",
    amount: 60_000,
    currency: "CZK",
    deadline: inDays(320),
    audience: friends,
  });
  // Bob runs a surprise for Alice; Cyril (a friend of both from before the surprise) is in on it. Alice cannot see it
  // until it is funded.
  const { wishId: surprise } = await bob.call<{ wishId: string }>("createWish", {
    title: "Surprise: a drone for Alice's birthday",
    description: "Shh! She has wanted one for years.",
    amount: 600_000,
    currency: "CZK",
    deadline: inDays(310),
    audience: { kind: "people", groupIds: [], userIds: [cyril.uid] },
    recipientId: alice.uid,
  });

  // --- Comments, as the app writes them (direct client writes under the rules).
  const bobsComment = await addComment(bob.db, bob.uid, shoes, "You need these before the season!");
  await addComment(cyril.db, cyril.uid, surprise, "I'm in. Don't tell her!");

  // --- A report in the ops moderation queue (one reporter: below the threshold, so the comment stays visible).
  await dana.call("reportContent", { wishId: shoes, commentId: bobsComment, reason: "spam", note: "Looks like an advert" });

  // --- Donations in each state.
  await pay(await donate(bob, shoes, 100_000, { message: "Happy climbing!" }), "succeed"); // succeeded
  await pay(await donate(cyril, shoes, 50_000, { anonymous: true }), "succeed"); // succeeded, anonymous
  await donate(cyril, shoes, 20_000); // pending: the Payment Sheet was never completed
  await donate(bob, shoes, 15_000, { method: "bank_transfer" }); // pending bank transfer: instructions (symbol, QR string), no money yet
  await cyril.call("cancelDonation", { donationId: await donate(cyril, shoes, 25_000) }); // canceled by the donor
  await pay(await donate(bob, shoes, 30_000), "fail"); // failed: card declined
  // Bitcoin (BTCPay): Bob pays an invoice (paid and confirmed: its webhooks reach btcpayWebhook); Cyril's is still open.
  const { invoiceId } = await bob.call<{ invoiceId: string }>("donate", { wishId: shoes, amount: 40_000, currency: "CZK", method: "bitcoin", requestId: `seed-tap-${++donateTaps}` });
  fakeBtcpay().pay(invoiceId, 1);
  fakeBtcpay().confirm(invoiceId);
  const btcpayWebhook = await functionUrl("btcpayWebhook");
  for (const delivery of fakeBtcpay().takeDeliveries()) assert.equal((await fakeBtcpay().deliver(btcpayWebhook, delivery)).status, 200);
  await donate(cyril, shoes, 15_000, { method: "bitcoin" }); // pending: an open invoice (expires in 30 minutes)
  await pay(await donate(alice, guitar, 200_000, { message: "Play me something!" }), "succeed"); // funds the guitar: paid out to Bob
  await pay(await donate(alice, guidebook, 60_000), "succeed"); // funded, but Cyril has not onboarded: payout held
  await pay(await donate(cyril, surprise, 200_000), "succeed"); // the surprise is a third funded
  await pay(await donate(alice, trip, 100_000), "succeed"); // then Cyril closes the trip: refunded
  // Alice's three donations reach the (fake) Conversions API before the trip is refunded. (Her sign-up's event goes
  // through the same path, but an emulated Pub/Sub delivery that lands on a cold worker under load is sometimes late,
  // so the seed does not wait for it.)
  await settle("Alice's donations at the Conversions API", async () => {
    const donations = await adminDb().collection(`users/${alice.uid}/adsEvents`).where("eventName", "==", "Donate").get();
    return donations.size === 3 && donations.docs.every((doc) => doc.get("state") === "sent");
  }, 120_000);
  await cyril.call("closeWish", { wishId: trip });

  // --- Let the triggers, the feed and notification workers and the refund tasks finish.
  const db = adminDb();
  await settle("the guitar to be funded", async () => (await db.doc(`wishes/${guitar}`).get()).get("status") === "funded");
  // Stripe delivers the refund's events and the payout's transfer.created to our webhook; the fake plays that.
  await settle("the trip's refund and the guitar's payout", async () => {
    await deliverNewEvents();
    const refunded = await db.collection("donations").where("wishId", "==", trip).get();
    const guitarPayout = await db.doc(`payouts/${guitar}`).get();
    const guidebookPayout = await db.doc(`payouts/${guidebook}`).get();
    return (
      refunded.docs.every((doc) => doc.get("status") === "refunded") &&
      guitarPayout.get("status") === "paid" &&
      guidebookPayout.get("status") === "pending_onboarding"
    );
  }, 120_000);
  await settle("every domain event to be relayed", async () => {
    const events = await db.collection("events").get();
    return events.docs.every((doc) => doc.get("publishedAt"));
  });
  await settle("Bob's feed", async () => !(await db.collection(`users/${bob.uid}/feed`).limit(1).get()).empty);
  await settle("Alice's inbox", async () => !(await db.collection(`users/${alice.uid}/notifications`).limit(1).get()).empty);
  // Bob's two donations (card and bitcoin) and Cyril's anonymous one to the climbing shoes are one digest in Alice's
  // inbox ("2 friends chipped in": Bob named once, one anonymous; docs/notifications.md "Donation digests") and one
  // digest item in the feeds of the shoes' viewers (docs/wishes.md "Feed"). The digest was pushed once; news after that
  // push waits for the wish's push minute (`deferred`), then goes out with the fold at the minute's end (not awaited).
  await settle("Alice's donation digest of the climbing shoes, pushed", async () => {
    const digest = await db.doc(`users/${alice.uid}/notifications/donations_${shoes}_1`).get();
    return digest.get("digest.donations") === 3 && ["sent", "deferred"].includes(String(digest.get("push.state")));
  }, 60_000);
  await settle("the climbing shoes' feed digest", async () => (await db.doc(`users/${bob.uid}/feed/donations_${shoes}_1`).get()).get("digest.donations") === 3, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  // Alice has read her oldest notification: her inbox shows read and unread items, and users/{uid}/private/inbox counts.
  const oldest = await db.collection(`users/${alice.uid}/notifications`).orderBy("createdAt").limit(1).get();
  await alice.call("markNotificationsRead", { ids: oldest.docs.map((doc) => doc.id) });

  // --- Ops from the console: an admin's command document (re-check the closed trip's ledger), performed by the
  // opsCommandOnWrite trigger, and the status page as the 5-minute job leaves it (the emulator runs no schedules).
  const command = db.collection("opsCommands").doc("demo-reconcile-trip");
  await command.set({ action: "reconcileWish", wishId: trip, reason: "Demo: re-check the closed trip's ledger", operator: "ops@elateme.app" });
  await settle("the ops command's outcome", async () => (await command.get()).get("status") === "done");
  await refreshOpsStatus({ db, clock: systemClock });

  // --- Export: the emulators' data and the fake Stripe's objects (loaded again by devtools/fake-services.ts).
  const exportDir = path.join(ROOT, "emulator-data");
  // Ask *this* suite's hub (FIREBASE_EMULATOR_HUB, set by emulators:exec) to export: `firebase emulators:export`
  // would find the project's most recently started hub, which may be another engineer's suite on another offset.
  const exported = await fetch(`http://${requireEnv("FIREBASE_EMULATOR_HUB")}/_admin/export`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: exportDir, initiatedBy: "seed" }),
  });
  if (!exported.ok) throw new Error(`seed: the emulator hub's export failed: HTTP ${exported.status} ${await exported.text()}`);
  writeFileSync(path.join(exportDir, "fake-stripe.json"), `${JSON.stringify(fakeStripe().snapshot(), null, 2)}\n`);
  writeFileSync(path.join(exportDir, "fake-btcpay.json"), `${JSON.stringify(fakeBtcpay().snapshot(), null, 2)}\n`);
  console.log(`seed: exported to ${exportDir}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
