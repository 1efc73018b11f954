// The worker's delivery state machine against the Firestore emulator, called in-process with a recording transport
// (no Pub/Sub here: these are the crash/redelivery cases that are hard to provoke through the trigger).
import assert from "node:assert/strict";
import { encodeEventId } from "../../src/events/outbox";
import type { DomainEvent } from "../../src/events/schema";
import { fixedClock } from "../helpers/clock";
import { PushInProgressError, handleDomainEventMessage } from "../../src/notifications/worker";
import { adminDb } from "../../devtools/support/admin";
import { recordingTransport } from "../helpers/push";
import type { PushTransport } from "../../src/notifications/push";

const NOW = new Date("2026-11-23T10:00:00.000Z");

const noSleep = { maxAttempts: 3, baseDelayMs: 1, sleep: () => Promise.resolve() };

async function seedRecipient(uid: string, token: string): Promise<void> {
  await adminDb().doc(`users/${uid}`).set({ displayName: uid, photoUrl: null, facebookLinked: false });
  // Written with the profile at sign-up; a recipient without it has no account (deleted): the worker skips them.
  await adminDb().doc(`users/${uid}/private/account`).set({ settings: { locale: "en", mutedCategories: [] } });
  await adminDb().doc(`users/${uid}/devices/phone`).set({ platform: "android", token, locale: "en", appVersion: "1", lastSeenAt: NOW });
  await adminDb().doc(`users/${uid}/private/push`).set({ devices: { phone: { platform: "android", token, locale: "en" } } });
}

function message(event: DomainEvent, messageId = "msg-1") {
  return { messageId, data: Buffer.from(JSON.stringify(event)).toString("base64") };
}

const event = (from: string, to: string): DomainEvent => ({
  id: `friend_request.received:${from}_${to}`,
  occurredAt: NOW.toISOString(),
  type: "friend_request.received",
  fromId: from,
  toId: to,
});

const noTasks = { enqueue: () => Promise.reject(new Error("no task expected")) };
const deps = (transport: PushTransport, extra: Record<string, unknown> = {}) => ({ db: adminDb(), clock: fixedClock(NOW), push: transport, tasks: noTasks, ...extra });

async function seedItem(uid: string, e: DomainEvent, push: Record<string, unknown>): Promise<void> {
  await adminDb()
    .doc(`users/${uid}/notifications/${encodeEventId(e.id)}`)
    .set({ type: e.type, eventId: e.id, read: false, createdAt: NOW, push: { attempts: 1, devices: 0, delivered: 0, removedTokens: 0, lastError: null, finishedAt: null, leaseUntil: null, ...push } });
}

/** The run of an earlier delivery of `e`, with its lease ending `leaseMs` from NOW (negative: expired, it crashed). */
async function seedRun(e: DomainEvent, leaseMs: number): Promise<void> {
  await adminDb().doc(`notificationRuns/${encodeEventId(e.id)}`).set({ eventId: e.id, type: e.type, recipients: 1, attempts: 1, startedAt: NOW, leaseUntil: new Date(NOW.getTime() + leaseMs) });
}

describe("notification worker delivery state (in-process, Firestore emulator)", () => {
  it("pushes first, then creates the item already final, with the unread count raised once", async () => {
    const e = event("ann", "ben");
    await seedRecipient("ben", "tok-ben");
    const { transport, sent } = recordingTransport();
    const result = await handleDomainEventMessage(deps(transport), message(e));
    assert.deepEqual(result, { outcome: "processed", eventId: e.id, recipients: { ben: "pushed" }, skipped: 0 });
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.apns.payload.aps.badge, 1);
    const item = await adminDb().doc(`users/ben/notifications/${encodeEventId(e.id)}`).get();
    assert.equal(item.get("push.state"), "sent");
    assert.equal(item.get("push.delivered"), 1);
    assert.equal((await adminDb().doc("users/ben/private/inbox").get()).get("unread"), 1);
    // Redelivered: the run and the item are there, nothing is sent or counted again.
    const again = await handleDomainEventMessage(deps(transport), message(e, "msg-2"));
    assert.deepEqual(again, { outcome: "processed", eventId: e.id, recipients: { ben: "duplicate" }, skipped: 0 });
    assert.equal(sent.length, 1);
    assert.equal((await adminDb().doc("users/ben/private/inbox").get()).get("unread"), 1);
  });

  it("a redelivery takes over a crashed run (expired lease, no item yet) and pushes once", async () => {
    const e = event("ann", "bob");
    await seedRecipient("bob", "tok-bob");
    await seedRun(e, -1000);
    const { transport, sent } = recordingTransport();
    const result = await handleDomainEventMessage(deps(transport, { retry: noSleep }), message(e));
    assert.deepEqual(result, { outcome: "processed", eventId: e.id, recipients: { bob: "pushed" }, skipped: 0 });
    assert.deepEqual(sent.map((m) => m.token), ["tok-bob"]);
    const item = await adminDb().doc(`users/bob/notifications/${encodeEventId(e.id)}`).get();
    assert.equal(item.get("push.state"), "sent");
    assert.equal((await adminDb().doc(`notificationRuns/${encodeEventId(e.id)}`).get()).get("attempts"), 2);
  });

  it("a redelivery while another delivery holds the run's lease fails (Pub/Sub retries later) and pushes nothing", async () => {
    const e = event("ann", "cid");
    await seedRecipient("cid", "tok-cid");
    await seedRun(e, 30_000);
    const { transport, sent } = recordingTransport();
    await assert.rejects(handleDomainEventMessage(deps(transport), message(e)), PushInProgressError);
    assert.equal(sent.length, 0);
  });

  it("a finished run is a duplicate, even while its lease lasts: nothing is sent again", async () => {
    const e = event("ann", "dan");
    await seedRecipient("dan", "tok-dan");
    await seedRun(e, 30_000);
    await seedItem("dan", e, { state: "sent" });
    const { transport, sent } = recordingTransport();
    const result = await handleDomainEventMessage(deps(transport), message(e));
    assert.deepEqual(result, { outcome: "processed", eventId: e.id, recipients: { dan: "duplicate" }, skipped: 0 });
    assert.equal(sent.length, 0);
  });

  it("a fan-out taken over from a crashed run: recipients with their item are skipped, the others pushed once", async () => {
    const e: DomainEvent = { id: "friend.joined:newbie", occurredAt: NOW.toISOString(), type: "friend.joined", userId: "newbie", friendIds: ["f1", "f2", "f3"] };
    await adminDb().doc("users/newbie").set({ displayName: "Newbie" });
    for (const uid of ["f1", "f2", "f3"]) await seedRecipient(uid, `tok-${uid}`);
    await seedRun(e, -1);
    await seedItem("f2", e, { state: "sent" });
    const { transport, sent } = recordingTransport();
    const result = await handleDomainEventMessage(deps(transport), message(e));
    assert.deepEqual(result, { outcome: "processed", eventId: e.id, recipients: { f1: "pushed", f2: "duplicate", f3: "pushed" }, skipped: 0 });
    assert.deepEqual(sent.map((m) => m.token).sort(), ["tok-f1", "tok-f3"]);
  });

  it("transient failures past the last attempt mark the item failed and acknowledge the event", async () => {
    const e = event("ann", "eva");
    await seedRecipient("eva", "tok-eva");
    const { transport, sent } = recordingTransport(() => ({ ok: false, code: "messaging/server-unavailable", message: "down" }));
    const result = await handleDomainEventMessage(deps(transport, { retry: noSleep }), message(e));
    assert.deepEqual(result, { outcome: "processed", eventId: e.id, recipients: { eva: "failed" }, skipped: 0 });
    assert.equal(sent.length, 3, "three attempts");
    const item = await adminDb().doc(`users/eva/notifications/${encodeEventId(e.id)}`).get();
    assert.equal(item.get("push.state"), "failed");
    assert.equal(item.get("push.lastError"), "messaging/server-unavailable");
    const devices = await adminDb().collection("users/eva/devices").get();
    assert.equal(devices.size, 1, "a transient failure never deletes the device");
  });

  it("a recipient whose account is gone (deleteAccount) gets no item, no unread count and no push; a redelivery finds them gone", async () => {
    const e: DomainEvent = { id: "friend.joined:nova", occurredAt: NOW.toISOString(), type: "friend.joined", userId: "nova", friendIds: ["live", "gone"] };
    await adminDb().doc("users/nova").set({ displayName: "Nova" });
    await seedRecipient("live", "tok-live");
    // "gone" deleted their account: no profile, no private/account. A push target left behind (say, by a device
    // registration racing the deletion) gets no push either.
    await adminDb().doc("users/gone/private/push").set({ devices: { phone: { platform: "android", token: "tok-gone", locale: "en" } } });
    const { transport, sent } = recordingTransport();
    const result = await handleDomainEventMessage(deps(transport), message(e));
    assert.deepEqual(result, { outcome: "processed", eventId: e.id, recipients: { live: "pushed", gone: "no-account" }, skipped: 0 });
    assert.deepEqual(sent.map((m) => m.token), ["tok-live"]);
    assert.deepEqual((await adminDb().doc("users/gone").listCollections()).map((c) => c.id), ["private"], "no notifications collection");
    assert.deepEqual((await adminDb().collection("users/gone/private").get()).docs.map((d) => d.id), ["push"], "no unread count");

    // Redelivered while the run's lease lasts: "gone" has no item, yet is not taken for a delivery still under way.
    const again = await handleDomainEventMessage(deps(transport), message(e, "msg-2"));
    assert.deepEqual(again, { outcome: "processed", eventId: e.id, recipients: { live: "duplicate", gone: "no-account" }, skipped: 0 });
    assert.equal(sent.length, 1);
    assert.deepEqual((await adminDb().doc("users/gone").listCollections()).map((c) => c.id), ["private"]);
  });
});
