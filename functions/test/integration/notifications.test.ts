// The notification worker end to end: outbox document → relayDomainEvent → Pub/Sub emulator → notifyOnDomainEvent
// → inbox items in Firestore + pushes at the fake FCM (over HTTP, as FCM v1 JSON). Seeds use the admin SDK.
import assert from "node:assert/strict";
import type { PubSub } from "@google-cloud/pubsub";
import { addToOutbox, encodeEventId } from "../../src/events/outbox";
import { newPubSub } from "../../src/events/publisher";
import { DOMAIN_EVENTS_TOPIC } from "../../src/events/schema";
import type { DomainEvent } from "../../src/events/schema";
import type { Wish } from "../../src/model/wish";
import { adminDb } from "../../devtools/support/admin";
import { PROJECT_ID } from "../../devtools/support/emulators";
import { fakeFcm } from "../../devtools/support/fakes";
import { staysAbsent, waitFor } from "../helpers/wait";
import { newWishState } from "../../src/model/wish";

type WithoutTime<E> = E extends unknown ? Omit<E, "occurredAt"> : never;

let seq = 0;
/** Unique per test run, so a late trigger from an earlier test can never satisfy a later one. */
const uniq = (name: string) => `${name}-${Date.now().toString(36)}-${++seq}`;

async function publishViaOutbox(event: WithoutTime<DomainEvent>): Promise<void> {
  const db = adminDb();
  const batch = db.batch();
  addToOutbox(db, batch, event, new Date());
  await batch.commit();
}

let pubsub: PubSub | undefined;
/** Publishes raw bytes to the topic (for duplicates and malformed messages); returns the Pub/Sub message id. */
function publishRaw(data: string): Promise<string> {
  pubsub ??= newPubSub({ projectId: PROJECT_ID });
  return pubsub.topic(DOMAIN_EVENTS_TOPIC).publishMessage({ data: Buffer.from(data) });
}

async function seedUser(uid: string, opts: { name?: string; locale?: "en" | "cs"; muted?: string[]; devices?: { id: string; platform: "android" | "ios" | "web"; token: string; locale: string }[] } = {}) {
  const db = adminDb();
  const now = new Date();
  await db.doc(`users/${uid}`).set({ displayName: opts.name ?? `User ${uid}`, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now });
  await db.doc(`users/${uid}/private/account`).set({
    firstName: null,
    lastName: null,
    email: null,
    birthday: null,
    facebookId: null,
    settings: { locale: opts.locale ?? "en", mutedCategories: opts.muted ?? [], showDonationsInFeed: true },
  });
  // Devices as registerDevice writes them: the device document and its entry in the push targets.
  for (const device of opts.devices ?? []) {
    const target = { platform: device.platform, token: device.token, locale: device.locale };
    await db.doc(`users/${uid}/devices/${device.id}`).set({ ...target, appVersion: "1.0.0", lastSeenAt: now });
    await db.doc(`users/${uid}/private/push`).set({ devices: { [device.id]: target } }, { merge: true });
  }
}

async function seedWish(wishId: string, fields: Partial<Wish> & Pick<Wish, "ownerId" | "viewerIds">): Promise<void> {
  const now = new Date();
  const wish: Wish = {
    organizerId: fields.ownerId,
    isSurprise: false,
    title: "Road bike",
    description: "",
    imageUrl: null,
    amount: 500_000,
    currency: "CZK",
    deadline: new Date(now.getTime() + 30 * 86_400_000),
    audience: { kind: "people", groupIds: [], userIds: [] },
    ...newWishState(now),
    ...fields,
  };
  await adminDb().doc(`wishes/${wishId}`).set(wish);
}

async function seedDonation(id: string, wishId: string, donorId: string, status: "succeeded" | "refunded" | "failed"): Promise<void> {
  // Only the fields the worker reads (wishId, donorId, status); the donations domain owns the full shape.
  await adminDb().doc(`donations/${id}`).set({ wishId, donorId, status, amount: 10_000, currency: "CZK", anonymous: false });
}

const inboxRef = (uid: string, eventId: string) => adminDb().doc(`users/${uid}/notifications/${encodeEventId(eventId)}`);

/** Generous waits: the emulator suite shares two cores with other suites, and reloads when functions/lib is rebuilt. */
const SLOW = { timeoutMs: 30_000 };

/** Waits until the inbox item exists and its push is finished (not `sending`). */
function finishedItem(uid: string, eventId: string) {
  return waitFor(
    `inbox item ${eventId} for ${uid}`,
    async () => {
      const snap = await inboxRef(uid, eventId).get();
      return snap.exists && snap.get("push.state") !== "sending" ? snap : undefined;
    },
    SLOW,
  );
}

/** A wish's first donation digest for `uid` (notifications/digest.ts), once its push is finished. */
function finishedDigest(uid: string, wishId: string) {
  return waitFor(
    `donation digest of ${wishId} for ${uid}`,
    async () => {
      const snap = await adminDb().doc(`users/${uid}/notifications/donations_${wishId}_1`).get();
      return snap.exists && !["sending", "deferred"].includes(String(snap.get("push.state"))) ? snap : undefined;
    },
    SLOW,
  );
}

/** Every user who got an inbox item for the event. */
async function recipientsOf(eventId: string): Promise<string[]> {
  const snaps = await adminDb().collectionGroup("notifications").where("eventId", "==", eventId).get();
  return snaps.docs.map((doc) => doc.ref.parent.parent?.id ?? "?").sort();
}

const pushesTo = (token: string) => waitFor(`a push to ${token}`, () => Promise.resolve(fakeFcm().sentTo(token)[0]), SLOW);

describe("notifications through Pub/Sub (integration)", function () {
  this.timeout(120_000);

  before(async () => {
    // The Functions emulator starts each trigger's runtime lazily, and on a busy machine the first relay and worker
    // invocations can take tens of seconds: warm both up with one event through the outbox, so the tests' own
    // timeouts measure the pipeline, not the cold starts.
    // The donation digest's fold task (Cloud Tasks emulator → foldDonationDigest) is warmed at the same time.
    const warmUp = `friend_request.received:${uniq("warm-a")}_warm-b`;
    const warmWish = uniq("warm-wish");
    await seedUser("warm-b");
    await seedWish(warmWish, { ownerId: "warm-b", viewerIds: ["warm-b", "warm-a"] });
    await publishViaOutbox({ id: warmUp, type: "friend_request.received", fromId: "warm-a", toId: "warm-b" });
    await publishViaOutbox({ id: `donation.received:${warmWish}`, type: "donation.received", wishId: warmWish, donationId: warmWish, donorId: "warm-a", amount: 100, currency: "CZK", anonymous: true });
    await Promise.all([
      waitFor("the relay and the notification worker to warm up", async () => ((await inboxRef("warm-b", warmUp).get()).exists ? true : undefined), { timeoutMs: 100_000 }),
      waitFor("the digest fold task to warm up", async () => ((await adminDb().doc(`users/warm-b/notifications/donations_${warmWish}_1`).get()).exists ? true : undefined), {
        timeoutMs: 100_000,
      }),
    ]);
  });

  after(async () => {
    await pubsub?.close();
  });

  it("donation.received (through its digest's fold task): inbox item for the owner and one push per device, Android and APNs fields, localized per device", async () => {
    const [owner, donor, wishId, donationId] = [uniq("owner"), uniq("donor"), uniq("wish"), uniq("don")];
    const [androidToken, iosToken] = [uniq("tok-android"), uniq("tok-ios")];
    await seedUser(owner, {
      locale: "en",
      devices: [
        { id: "pixel", platform: "android", token: androidToken, locale: "en-GB" },
        { id: "iphone", platform: "ios", token: iosToken, locale: "cs-CZ" },
      ],
    });
    await seedUser(donor, { name: "Jana Nováková" });
    await seedWish(wishId, { ownerId: owner, viewerIds: [owner, donor], title: "Kolo" });
    const eventId = `donation.received:${donationId}`;
    await publishViaOutbox({ id: eventId, type: "donation.received", wishId, donationId, donorId: donor, amount: 150_000, currency: "CZK", anonymous: false });

    const item = await finishedDigest(owner, wishId);
    const data = item.data() ?? {};
    assert.equal(data.type, "donation.received");
    assert.equal(data.category, "donations");
    assert.equal(data.eventId, eventId);
    assert.equal(data.titleKey, "notif_donation_received_named_title");
    assert.equal(data.bodyKey, "notif_donation_received_named_body");
    assert.deepEqual(data.args, ["Jana Nováková", "CZK\u00a01,500.00", "Kolo"]);
    assert.equal(data.title, "New donation");
    assert.equal(data.body, "Jana Nováková gave CZK\u00a01,500.00 to “Kolo”");
    assert.equal(data.locale, "en");
    assert.deepEqual(data.data, { wishId, donationId });
    assert.equal(data.read, false);
    assert.ok(data.createdAt);
    assert.equal(item.get("push.state"), "sent");
    assert.equal(item.get("push.devices"), 2);
    assert.equal(item.get("push.delivered"), 2);
    assert.deepEqual(await recipientsOf(eventId), [owner]);

    const android = await pushesTo(androidToken);
    assert.deepEqual(android.message, {
      token: androidToken,
      notification: { title: "New donation", body: "Jana Nováková gave CZK\u00a01,500.00 to “Kolo”" },
      data: { wishId, donationId, type: "donation.received", notificationId: `donations_${wishId}_1` },
      android: {
        priority: "high",
        collapse_key: `donations-${wishId}`,
        notification: {
          channel_id: "donations",
          tag: `donations-${wishId}`,
          title_loc_key: "notif_donation_received_named_title",
          body_loc_key: "notif_donation_received_named_body",
          body_loc_args: ["Jana Nováková", "CZK\u00a01,500.00", "Kolo"],
          sound: "default",
        },
      },
      apns: {
        headers: { "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": `donations-${wishId}` },
        payload: {
          aps: {
            alert: {
              title: "New donation",
              body: "Jana Nováková gave CZK\u00a01,500.00 to “Kolo”",
              "title-loc-key": "notif_donation_received_named_title",
              "loc-key": "notif_donation_received_named_body",
              "loc-args": ["Jana Nováková", "CZK\u00a01,500.00", "Kolo"],
            },
            badge: 1,
            sound: "default",
            "thread-id": wishId,
          },
        },
      },
    });
    const ios = await pushesTo(iosToken);
    const aps = (ios.message.apns as { payload: { aps: Record<string, unknown> } }).payload.aps;
    assert.deepEqual(aps.alert, {
      title: "Nový příspěvek",
      body: "Jana Nováková přispěl(a) 1\u00a0500,00\u00a0Kč na „Kolo“",
      "title-loc-key": "notif_donation_received_named_title",
      "loc-key": "notif_donation_received_named_body",
      "loc-args": ["Jana Nováková", "1\u00a0500,00\u00a0Kč", "Kolo"],
    });
    assert.equal(aps.badge, 1);
    assert.equal(aps["thread-id"], wishId);
  });

  it("badge = the recipient's unread count; an anonymous donor is never named", async () => {
    const [owner, donor, wishId] = [uniq("owner"), uniq("donor"), uniq("wish")];
    const token = uniq("tok");
    await seedUser(owner, { devices: [{ id: "d", platform: "ios", token, locale: "en" }] });
    await seedUser(donor, { name: "Secret Santa" });
    // One older unread item, as counted in the inbox counter the worker keeps.
    await adminDb().doc(`users/${owner}/private/inbox`).set({ unread: 1 });
    await seedWish(wishId, { ownerId: owner, viewerIds: [owner, donor] });
    const eventId = `donation.received:${uniq("d")}`;
    await publishViaOutbox({ id: eventId, type: "donation.received", wishId, donationId: "d1", donorId: donor, amount: 20_000, currency: "CZK", anonymous: true });

    const item = await finishedDigest(owner, wishId);
    assert.equal(item.get("body"), "Someone gave CZK\u00a0200.00 to “Road bike”");
    const push = await pushesTo(token);
    assert.equal((push.message.apns as { payload: { aps: { badge: number } } }).payload.aps.badge, 2);
    assert.equal((await adminDb().doc(`users/${owner}/private/inbox`).get()).get("unread"), 2, "the new item is counted");
    const everything = JSON.stringify([item.data(), push.message]);
    assert.ok(!everything.includes("Secret Santa") && !everything.includes(donor), "the anonymous donor appears nowhere");
  });

  it("a surprise's recipient gets nothing before surprise.revealed, then exactly the reveal", async () => {
    const [recipient, organizer, donor, wishId] = [uniq("bday"), uniq("org"), uniq("donor"), uniq("wish")];
    const [recipientToken, organizerToken] = [uniq("tok-bday"), uniq("tok-org")];
    await seedUser(recipient, { devices: [{ id: "d", platform: "android", token: recipientToken, locale: "en" }] });
    await seedUser(organizer, { name: "Petr", devices: [{ id: "d", platform: "android", token: organizerToken, locale: "en" }] });
    await seedUser(donor);
    await seedWish(wishId, { ownerId: recipient, organizerId: organizer, isSurprise: true, viewerIds: [organizer, donor], title: "Concert tickets" });
    await seedDonation(uniq("don"), wishId, donor, "succeeded");

    const donation = `donation.received:${uniq("d")}`;
    const comment = `comment.added:${uniq("c")}`;
    const funded = `wish.funded:${wishId}`;
    await publishViaOutbox({ id: donation, type: "donation.received", wishId, donationId: "d1", donorId: donor, amount: 500_000, currency: "CZK", anonymous: false });
    await publishViaOutbox({ id: comment, type: "comment.added", wishId, commentId: "c1", authorId: donor });
    await publishViaOutbox({ id: funded, type: "wish.funded", wishId, ownerId: recipient });

    await finishedDigest(organizer, wishId);
    await finishedItem(organizer, comment);
    await finishedItem(organizer, funded);
    assert.deepEqual(await recipientsOf(donation), [organizer]);
    assert.deepEqual(await recipientsOf(comment), [organizer]);
    assert.deepEqual((await recipientsOf(funded)).sort(), [donor, organizer].sort());
    await staysAbsent("anything for the surprise's recipient", async () => {
      const inbox = await adminDb().collection(`users/${recipient}/notifications`).get();
      return inbox.empty && fakeFcm().sentTo(recipientToken).length === 0 ? undefined : inbox.size;
    });

    // The donations domain reveals it: recipient becomes a viewer, revealedAt is set, surprise.revealed is published.
    await adminDb().doc(`wishes/${wishId}`).update({ revealedAt: new Date(), viewerIds: [organizer, donor, recipient], status: "funded", raised: 500_000 });
    const reveal = `surprise.revealed:${wishId}`;
    await publishViaOutbox({ id: reveal, type: "surprise.revealed", wishId, ownerId: recipient, organizerId: organizer });
    const item = await finishedItem(recipient, reveal);
    assert.equal(item.get("body"), "Petr and friends gathered CZK\u00a05,000.00 for “Concert tickets”.");
    assert.deepEqual(await recipientsOf(reveal), [recipient]);
    const push = await pushesTo(recipientToken);
    assert.equal((push.message.data as Record<string, string>).type, "surprise.revealed");
    assert.equal(fakeFcm().sentTo(recipientToken).length, 1);
  });

  it("wish.funded / wish.closed / refund.processed / payout.sent reach exactly the owner, organizer and donors they should", async () => {
    const [owner, d1, d2, failedDonor, wishId] = [uniq("owner"), uniq("d1"), uniq("d2"), uniq("d3"), uniq("wish")];
    for (const uid of [owner, d1, d2, failedDonor]) await seedUser(uid);
    await seedWish(wishId, { ownerId: owner, viewerIds: [owner, d1, d2, failedDonor], status: "funded" });
    await seedDonation(uniq("don"), wishId, d1, "succeeded");
    await seedDonation(uniq("don"), wishId, d2, "refunded");
    await seedDonation(uniq("don"), wishId, failedDonor, "failed");

    const funded = `wish.funded:${wishId}`;
    const closed = `wish.closed:${wishId}`;
    const refund = `refund.processed:${uniq("r")}`;
    const payout = `payout.sent:${wishId}`;
    await publishViaOutbox({ id: funded, type: "wish.funded", wishId, ownerId: owner });
    await publishViaOutbox({ id: closed, type: "wish.closed", wishId, ownerId: owner, closedBy: owner });
    await publishViaOutbox({ id: refund, type: "refund.processed", wishId, donationId: "x", donorId: d2, amount: 10_000, currency: "CZK" });
    await publishViaOutbox({ id: payout, type: "payout.sent", wishId, ownerId: owner, amount: 480_000, currency: "CZK" });

    const ownerFunded = await finishedItem(owner, funded);
    assert.equal(ownerFunded.get("titleKey"), "notif_wish_funded_owner_title");
    const donorFunded = await finishedItem(d1, funded);
    assert.equal(donorFunded.get("titleKey"), "notif_wish_funded_supporter_title");
    await finishedItem(d2, funded);
    await finishedItem(d1, closed);
    await finishedItem(d2, closed);
    const refundItem = await finishedItem(d2, refund);
    assert.equal(refundItem.get("category"), "payments");
    const payoutItem = await finishedItem(owner, payout);
    assert.equal(payoutItem.get("body"), "CZK\u00a04,800.00 from “Road bike” was sent to your account.");

    assert.deepEqual(await recipientsOf(funded), [owner, d1, d2].sort());
    assert.deepEqual(await recipientsOf(closed), [d1, d2].sort());
    assert.deepEqual(await recipientsOf(refund), [d2]);
    assert.deepEqual(await recipientsOf(payout), [owner]);
  });

  it("friend_request.received / accepted / friend.joined reach the other party and the friends, linking to the user", async () => {
    const [a, b, c, newcomer] = [uniq("a"), uniq("b"), uniq("c"), uniq("new")];
    await seedUser(a, { name: "Alice" });
    await seedUser(b, { name: "Bob", locale: "cs" });
    await seedUser(c);
    await seedUser(newcomer, { name: "Nora" });
    const received = `friend_request.received:${a}_${b}`;
    const accepted = `friend_request.accepted:${a}_${b}`;
    const joined = `friend.joined:${newcomer}`;
    await publishViaOutbox({ id: received, type: "friend_request.received", fromId: a, toId: b });
    await publishViaOutbox({ id: accepted, type: "friend_request.accepted", fromId: a, toId: b });
    await publishViaOutbox({ id: joined, type: "friend.joined", userId: newcomer, friendIds: [a, c] });

    const toBob = await finishedItem(b, received);
    assert.equal(toBob.get("body"), "Alice si vás chce přidat do přátel", "Bob's account locale is Czech");
    assert.deepEqual(toBob.get("data"), { userId: a });
    const toAlice = await finishedItem(a, accepted);
    assert.equal(toAlice.get("body"), "Bob accepted your friend request");
    await finishedItem(a, joined);
    await finishedItem(c, joined);
    assert.deepEqual(await recipientsOf(received), [b]);
    assert.deepEqual(await recipientsOf(accepted), [a]);
    assert.deepEqual(await recipientsOf(joined), [a, c].sort());
  });

  it("stale tokens (UNREGISTERED, invalid token) are deleted; the live device still gets its push", async () => {
    const [user, wishId] = [uniq("user"), uniq("wish")];
    const [live, dead, invalid] = [uniq("tok-live"), uniq("tok-dead"), uniq("tok-invalid")];
    fakeFcm().failToken(dead, "UNREGISTERED");
    fakeFcm().failToken(invalid, "INVALID_ARGUMENT");
    await seedUser(user, {
      devices: [
        { id: "live", platform: "android", token: live, locale: "en" },
        { id: "dead", platform: "ios", token: dead, locale: "en" },
        { id: "invalid", platform: "android", token: invalid, locale: "en" },
      ],
    });
    await seedWish(wishId, { ownerId: user, viewerIds: [user], status: "funded" });
    const eventId = `payout.sent:${wishId}`;
    await publishViaOutbox({ id: eventId, type: "payout.sent", wishId, ownerId: user, amount: 100_000, currency: "CZK" });

    const item = await finishedItem(user, eventId);
    assert.equal(item.get("push.state"), "sent");
    assert.equal(item.get("push.delivered"), 1);
    assert.equal(item.get("push.removedTokens"), 2);
    const devices = await adminDb().collection(`users/${user}/devices`).get();
    assert.deepEqual(devices.docs.map((d) => d.id), ["live"]);
    assert.equal(fakeFcm().sentTo(live).length, 1);
    assert.deepEqual(fakeFcm().rejected.filter((r) => r.token === dead || r.token === invalid).map((r) => r.errorCode).sort(), ["INVALID_ARGUMENT", "UNREGISTERED"]);
  });

  it("a transient FCM failure is retried and delivered once", async () => {
    const [user, wishId, token] = [uniq("user"), uniq("wish"), uniq("tok-flaky")];
    fakeFcm().failToken(token, "UNAVAILABLE", 1);
    await seedUser(user, { devices: [{ id: "d", platform: "android", token, locale: "en" }] });
    await seedWish(wishId, { ownerId: user, viewerIds: [user], status: "funded" });
    const eventId = `payout.sent:${wishId}`;
    await publishViaOutbox({ id: eventId, type: "payout.sent", wishId, ownerId: user, amount: 100_000, currency: "CZK" });
    const item = await finishedItem(user, eventId);
    assert.equal(item.get("push.state"), "sent");
    assert.equal(fakeFcm().sentTo(token).length, 1);
    assert.equal(fakeFcm().rejected.filter((r) => r.token === token).length, 1);
  });

  it("the same event delivered twice → one inbox item, one push", async () => {
    const [a, b, token] = [uniq("a"), uniq("b"), uniq("tok")];
    await seedUser(a);
    await seedUser(b, { devices: [{ id: "d", platform: "android", token, locale: "en" }] });
    const event = { id: `friend_request.received:${a}_${b}`, occurredAt: new Date().toISOString(), type: "friend_request.received", fromId: a, toId: b };
    await publishRaw(JSON.stringify(event));
    await finishedItem(b, event.id);
    await pushesTo(token);
    await publishRaw(JSON.stringify(event));
    await publishRaw(JSON.stringify(event));
    await staysAbsent("a second push", () => Promise.resolve(fakeFcm().sentTo(token).length > 1 ? fakeFcm().sentTo(token).length : undefined), 3000);
    assert.equal((await adminDb().collection(`users/${b}/notifications`).get()).size, 1);
  });

  it("malformed messages are dead-lettered with the reason (and acknowledged)", async () => {
    const notJson = await publishRaw("this is not json");
    const unknownType = await publishRaw(JSON.stringify({ id: "x", occurredAt: new Date().toISOString(), type: "wish.exploded" }));
    const letter = (messageId: string) =>
      waitFor(`dead letter ${messageId}`, async () => {
        const snap = await adminDb().doc(`ops/deadLetters/items/notifications-${messageId}`).get();
        return snap.exists ? snap : undefined;
      }, SLOW);
    const first = await letter(notJson);
    assert.equal(first.get("reason"), "message data is not JSON");
    assert.equal(first.get("data"), "this is not json");
    assert.equal(first.get("consumer"), "notifications");
    const second = await letter(unknownType);
    assert.match(String(second.get("reason")), /^not a domain event: Field 'type'/);
  });

  it("a user with no devices gets the inbox item only; a muted category gets the inbox item without a push", async () => {
    const [lonely, muted, a, token] = [uniq("lonely"), uniq("muted"), uniq("a"), uniq("tok-muted")];
    await seedUser(a);
    await seedUser(lonely);
    await seedUser(muted, { muted: ["friends"], devices: [{ id: "d", platform: "ios", token, locale: "en" }] });
    const e1 = `friend_request.received:${a}_${lonely}`;
    const e2 = `friend_request.received:${a}_${muted}`;
    await publishViaOutbox({ id: e1, type: "friend_request.received", fromId: a, toId: lonely });
    await publishViaOutbox({ id: e2, type: "friend_request.received", fromId: a, toId: muted });
    assert.equal((await finishedItem(lonely, e1)).get("push.state"), "no-devices");
    assert.equal((await finishedItem(muted, e2)).get("push.state"), "muted");
    await staysAbsent("a push to the muted user", () => Promise.resolve(fakeFcm().sentTo(token)[0]), 1000);
  });
});
