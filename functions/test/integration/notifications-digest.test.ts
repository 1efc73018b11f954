// Donation digests (src/notifications/digest.ts) in-process against the Firestore emulator: the worker's markers, the
// fold task's item, unread count and pushes, with a fixed clock and recording tasks/transport (no Pub/Sub, no Tasks).
import assert from "node:assert/strict";
import type { DomainEvent } from "../../src/events/schema";
import { newWishState } from "../../src/model/wish";
import type { Wish } from "../../src/model/wish";
import { zodConverter } from "../../src/lib/converter";
import { inboxItemSchema } from "../../src/notifications/model";
import { DIGEST_PUSH_INTERVAL_MS, DIGEST_QUEUE, foldDonationDigest } from "../../src/notifications/digest";
import { handleDomainEventMessage } from "../../src/notifications/worker";
import { adminDb } from "../../devtools/support/admin";
import { fixedClock } from "../helpers/clock";
import { recordingTasks } from "../helpers/tasks";
import { recordingTransport } from "../helpers/push";

const NOW = new Date("2026-11-23T10:00:00.000Z");
const OWNER = "dora";
const WISH = "digest-wish";

async function seed(locale: "en" | "cs" = "en"): Promise<void> {
  const db = adminDb();
  await db.doc(`users/${OWNER}`).set({ displayName: "Dora", photoUrl: null, facebookLinked: false });
  await db.doc(`users/${OWNER}/private/account`).set({ settings: { locale, mutedCategories: [] } });
  await db.doc(`users/${OWNER}/private/push`).set({ devices: { phone: { platform: "ios", token: "tok-dora", locale } } });
  for (const donor of ["ann", "ben", "cyd", "dan"]) await db.doc(`users/${donor}`).set({ displayName: donor.toUpperCase(), photoUrl: null, facebookLinked: false });
  const wish: Wish = {
    ownerId: OWNER,
    organizerId: OWNER,
    isSurprise: false,
    title: "Kolo",
    description: "",
    imageUrl: null,
    amount: 10_000_000,
    currency: "CZK",
    deadline: new Date(NOW.getTime() + 30 * 86_400_000),
    audience: { kind: "people", groupIds: [], userIds: [] },
    viewerIds: [OWNER, "ann", "ben", "cyd"],
    ...newWishState(NOW),
  };
  await db.doc(`wishes/${WISH}`).set(wish);
}

function setUp() {
  const clock = fixedClock(NOW);
  const tasks = recordingTasks();
  const { transport, sent } = recordingTransport();
  const deps = { db: adminDb(), clock, tasks, push: transport };
  let n = 0;
  const donate = (donorId: string, amount: number, anonymous = false, donationId = `don-${++n}`) => {
    const event: DomainEvent = { id: `donation.received:${donationId}`, occurredAt: clock.now().toISOString(), type: "donation.received", wishId: WISH, donationId, donorId, amount, currency: "CZK", anonymous };
    return handleDomainEventMessage(deps, { messageId: `m-${donationId}-${Math.random()}`, data: Buffer.from(JSON.stringify(event)).toString("base64") });
  };
  const fold = () => foldDonationDigest(deps, OWNER, WISH);
  const item = async (n = 1) => (await adminDb().doc(`users/${OWNER}/notifications/donations_${WISH}_${n}`).withConverter(zodConverter(inboxItemSchema)).get()).data();
  const unread = async () => (await adminDb().doc(`users/${OWNER}/private/inbox`).get()).get("unread") as unknown;
  return { clock, tasks, sent, deps, donate, fold, item, unread };
}

describe("donation digests (in-process, Firestore emulator)", () => {
  it("a quiet wish: one donation → its fold task of the second, then one item read as a single notification and one push", async () => {
    await seed();
    const t = setUp();
    const result = await t.donate("ann", 150_000);
    assert.deepEqual(result, { outcome: "processed", eventId: "donation.received:don-1", recipients: { [OWNER]: "digested" }, skipped: 0 });
    assert.equal(t.tasks.calls.length, 1);
    assert.equal(t.tasks.calls[0]?.queue, DIGEST_QUEUE);
    assert.equal(t.tasks.calls[0]?.options.scheduleTime?.getTime(), NOW.getTime() + 1_250, "run just after its second ends");
    assert.equal(await t.item(), undefined, "nothing in the inbox before the fold");

    t.clock.advance(1_250);
    const folded = await t.fold();
    assert.equal(folded.outcome, "folded");
    const item = await t.item();
    assert.equal(item?.body, "ANN gave CZK\u00a01,500.00 to “Kolo”");
    assert.deepEqual(item?.data, { wishId: WISH, donationId: "don-1" });
    assert.equal(item?.push.state, "sent");
    assert.equal(await t.unread(), 1);
    assert.equal(t.sent.length, 1);
    assert.equal(t.sent[0]?.data.notificationId, `donations_${WISH}_1`);
    assert.equal(t.sent[0]?.apns.payload.aps.badge, 1);
    assert.deepEqual(await t.fold(), { outcome: "unchanged" }, "a second run of the task changes nothing");
  });

  it("a burst: one item summing every donation exactly (redeliveries counted once), one unread, one push per interval", async () => {
    await seed("cs");
    const t = setUp();
    // 12 donations: ANN (twice), BEN, CYD, and 8 anonymous ones by EVE; the first is delivered three times.
    await t.donate("ann", 10_001, false, "d0");
    await t.donate("ann", 10_001, false, "d0");
    await Promise.all([t.donate("ann", 10_001, false, "d0"), t.donate("ann", 500), t.donate("ben", 20_000), t.donate("cyd", 1)]);
    for (let i = 0; i < 8; i++) await t.donate("eve", 1_000 + i, true);
    t.clock.advance(1_250);
    await t.fold();
    const first = await t.item();
    assert.equal(first?.digest?.donations, 12);
    assert.equal(first?.digest?.amount, 10_001 + 500 + 20_000 + 1 + 8 * 1_000 + 28);
    assert.deepEqual(first?.digest?.donors.map((d) => d.name), ["ANN", "BEN", "CYD"]);
    assert.equal(first?.digest?.anonymous, 8);
    assert.equal(first?.title, "11 přátel přispělo");
    assert.equal(first?.body, "Celkem 385,30\u00a0Kč na „Kolo“: ANN, BEN, CYD a 8 dalších");
    assert.ok(!JSON.stringify(first).includes(`"eve"`), "an anonymous donor appears nowhere");
    assert.equal(t.sent.length, 1);
    assert.equal(await t.unread(), 1);

    // More news within the push interval: the item is updated, its push waits for a fold when the interval ends.
    t.clock.advance(5_000);
    await t.donate("dan", 1_000);
    t.clock.advance(1_250);
    const result = await t.fold();
    assert.deepEqual(result, { outcome: "folded", itemId: `donations_${WISH}_1`, folded: 1, created: false, push: "deferred" });
    assert.equal((await t.item())?.digest?.donations, 13);
    assert.equal(t.sent.length, 1, "no second push within the interval");
    assert.equal(await t.unread(), 1, "the same unread item: not counted again");
    const deferred = t.tasks.calls[t.tasks.calls.length - 1];
    // The interval opens at the first push (NOW + 1.25 s) + 60 s: the fold of that second, run just after it ends.
    assert.equal(deferred?.options.scheduleTime?.getTime(), NOW.getTime() + DIGEST_PUSH_INTERVAL_MS + 2_250);

    t.clock.set(deferred?.options.scheduleTime ?? NOW);
    await t.fold();
    assert.equal(t.sent.length, 2, "the deferred news pushed when the interval ended");
    assert.equal(t.sent[1]?.apns.payload.aps.alert.title, "12 přátel přispělo");
    assert.equal((await t.item())?.push.state, "sent");
  });

  it("a read digest is closed: the next donation opens a new item, counted once more", async () => {
    await seed();
    const t = setUp();
    await t.donate("ann", 100);
    t.clock.advance(1_250);
    await t.fold();
    await adminDb().doc(`users/${OWNER}/notifications/donations_${WISH}_1`).update({ read: true });
    await adminDb().doc(`users/${OWNER}/private/inbox`).set({ unread: 0 });
    await t.donate("ben", 200);
    await t.donate("cyd", 300);
    t.clock.advance(DIGEST_PUSH_INTERVAL_MS);
    await t.fold();
    assert.equal((await t.item(1))?.digest?.donations, 1, "the read item keeps what it said");
    const second = await t.item(2);
    assert.equal(second?.digest?.donations, 2);
    assert.equal(second?.title, "2 friends chipped in");
    assert.equal(second?.body, "CZK\u00a05.00 in total for “Kolo”: BEN and CYD");
    assert.equal(second?.read, false);
    assert.equal(await t.unread(), 1);
    assert.equal(t.sent.length, 2);
  });

  it("a fold that died between its commit and its push: the retry leaves the live lease alone, a fold after it pushes", async () => {
    await seed();
    const t = setUp();
    await t.donate("ann", 100);
    t.clock.advance(1_250);
    await t.fold();
    // As if the push had never gone out: the item still `sending`, its lease live for another minute.
    const leaseUntil = new Date(t.clock.now().getTime() + 60_000);
    await adminDb().doc(`users/${OWNER}/notifications/donations_${WISH}_1`).update({ "push.state": "sending", "push.leaseUntil": leaseUntil });
    const before = t.tasks.calls.length;
    t.clock.advance(2_000);
    assert.deepEqual(await t.fold(), { outcome: "unchanged" }, "the task's retry: the lease is live");
    assert.equal(t.sent.length, 1);
    const takeover = t.tasks.calls[before];
    assert.ok(takeover?.options.scheduleTime && takeover.options.scheduleTime >= leaseUntil, "a fold is asked for after the lease");
    t.clock.set(takeover?.options.scheduleTime ?? leaseUntil);
    await t.fold();
    assert.equal(t.sent.length, 2, "pushed once more (at least once)");
    assert.equal((await t.item())?.push.state, "sent");
    assert.equal(await t.unread(), 1);
  });

  it("folds racing (a duplicate task, a retry) count every donation exactly once", async () => {
    await seed();
    const t = setUp();
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.donate(i % 2 ? "ann" : "ben", 100 + i, i % 3 === 0)));
    t.clock.advance(1_250);
    await Promise.all([t.fold(), t.fold(), t.fold()]);
    const item = await t.item();
    assert.equal(item?.digest?.donations, 20);
    assert.equal(item?.digest?.amount, 20 * 100 + 190);
    assert.equal(await t.unread(), 1);
    assert.equal(t.sent.length, 1);
  });

  it("an owner whose account is gone: the fold writes no item, no unread count and no push; later donations leave no marker", async () => {
    await seed();
    const t = setUp();
    await t.donate("ann", 150_000);
    // deleteAccount removes the account between the marker and its fold (the marker goes with users/{uid}).
    await adminDb().doc(`users/${OWNER}/private/account`).delete();
    t.clock.advance(1_250);
    assert.deepEqual(await t.fold(), { outcome: "no-account" });
    assert.equal(await t.item(), undefined);
    assert.equal(await t.unread(), undefined);
    assert.equal(t.sent.length, 0);
    assert.equal((await adminDb().doc(`users/${OWNER}/donationDigests/${WISH}`).get()).exists, false, "no digest state either");

    // The deleted owner's wish stays open: a donation to it records nothing under users/{uid} and asks for no fold.
    const later = await t.donate("ben", 20_000);
    assert.deepEqual(later, { outcome: "processed", eventId: "donation.received:don-2", recipients: { [OWNER]: "no-account" }, skipped: 0 });
    assert.equal((await adminDb().doc(`users/${OWNER}/donationDigests/${WISH}/digestDonations/don-2`).get()).exists, false);
    assert.equal(t.tasks.calls.length, 1, "only the first donation's fold");
  });
});
