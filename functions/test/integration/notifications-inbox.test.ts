// The inbox's unread count and the markNotificationsRead callable, through the client SDK (callable + rules-checked
// reads). Inbox items are delivered by the real worker, called in-process with a recording push transport.
import assert from "node:assert/strict";
import { doc, getDoc } from "firebase/firestore";
import { encodeEventId } from "../../src/events/outbox";
import type { DomainEvent } from "../../src/events/schema";
import { systemClock } from "../../src/lib/clock";
import { handleDomainEventMessage } from "../../src/notifications/worker";
import { adminDb } from "../../devtools/support/admin";
import { anonymousClient, signedInClient } from "../../devtools/support/clients";
import type { TestClient } from "../../devtools/support/clients";
import { expectCode } from "../helpers/errors";
import { recordingTasks } from "../helpers/tasks";
import { recordingTransport } from "../helpers/push";

const OWNER = "nora";

const friendRequest = (from: string): DomainEvent => ({
  id: `friend_request.received:${from}_${OWNER}`,
  occurredAt: new Date().toISOString(),
  type: "friend_request.received",
  fromId: from,
  toId: OWNER,
});

/** Delivers a friend request from `from` to the owner through the worker; returns the pushed badge. */
async function deliver(from: string): Promise<number | undefined> {
  const { transport, sent } = recordingTransport();
  const event = friendRequest(from);
  const data = Buffer.from(JSON.stringify(event)).toString("base64");
  await handleDomainEventMessage({ db: adminDb(), clock: systemClock, push: transport, tasks: recordingTasks() }, { messageId: `m-${from}`, data });
  return sent[0]?.apns.payload.aps.badge;
}

const itemId = (from: string) => encodeEventId(friendRequest(from).id);

async function unreadCount(client: TestClient): Promise<unknown> {
  return (await getDoc(doc(client.db, `users/${OWNER}/private/inbox`))).get("unread");
}

describe("notifications: unread count and markNotificationsRead (callable)", function () {
  this.timeout(60_000);
  let nora: TestClient;

  beforeEach(async () => {
    const db = adminDb();
    await db.doc(`users/${OWNER}`).set({ displayName: "Nora", photoUrl: null, facebookLinked: false });
    await db.doc(`users/${OWNER}/private/account`).set({ settings: { locale: "en", mutedCategories: [] } });
    await db.doc(`users/${OWNER}/private/push`).set({ devices: { phone: { platform: "ios", token: "tok-nora", locale: "en" } } });
    for (const from of ["ann", "ben", "cyd"]) await db.doc(`users/${from}`).set({ displayName: from, photoUrl: null, facebookLinked: false });
    nora = await signedInClient(OWNER);
  });

  it("each new item raises the count and the badge; marking by id lowers it once; repeats change nothing", async () => {
    assert.equal(await deliver("ann"), 1);
    assert.equal(await deliver("ben"), 2);
    assert.equal(await deliver("cyd"), 3);
    assert.equal(await unreadCount(nora), 3, "the owner reads the count through the rules");

    assert.deepEqual(await nora.call("markNotificationsRead", { ids: [itemId("ann")] }), { marked: 1 });
    assert.equal(await unreadCount(nora), 2);
    const item = await getDoc(doc(nora.db, `users/${OWNER}/notifications/${itemId("ann")}`));
    assert.equal(item.get("read"), true);
    assert.ok(item.get("readAt"), "readAt is set");

    // The same id again, an id listed twice, and an id that does not exist: nothing is counted twice.
    assert.deepEqual(await nora.call("markNotificationsRead", { ids: [itemId("ann"), itemId("ann"), "no-such-item"] }), { marked: 0 });
    assert.equal(await unreadCount(nora), 2);

    // A redelivered event is a duplicate: no second item, no second rise of the count.
    await deliver("ben");
    assert.equal(await unreadCount(nora), 2);
  });

  it("all: marks every unread item and brings the count to 0; the next push's badge starts again at 1", async () => {
    for (const from of ["ann", "ben", "cyd"]) await deliver(from);
    await nora.call("markNotificationsRead", { ids: [itemId("ben")] });
    assert.deepEqual(await nora.call("markNotificationsRead", { all: true }), { marked: 2 });
    assert.equal(await unreadCount(nora), 0);
    const unread = await adminDb().collection(`users/${OWNER}/notifications`).where("read", "==", false).count().get();
    assert.equal(unread.data().count, 0);
    assert.deepEqual(await nora.call("markNotificationsRead", { all: true }), { marked: 0 });

    await adminDb().doc(`users/dan`).set({ displayName: "dan", photoUrl: null, facebookLinked: false });
    assert.equal(await deliver("dan"), 1);
  });

  it("another user's call never touches this inbox", async () => {
    await deliver("ann");
    const ann = await signedInClient("ann");
    assert.deepEqual(await ann.call("markNotificationsRead", { ids: [itemId("ann")] }), { marked: 0 });
    assert.deepEqual(await ann.call("markNotificationsRead", { all: true }), { marked: 0 });
    assert.equal(await unreadCount(nora), 1);
  });

  it("bad input → invalid-argument naming the field; signed out → unauthenticated; nothing changes", async () => {
    await deliver("ann");
    await expectCode(nora.call("markNotificationsRead", {}), "invalid-argument", /ids/);
    await expectCode(nora.call("markNotificationsRead", { ids: [] }), "invalid-argument", /ids/);
    await expectCode(nora.call("markNotificationsRead", { ids: [itemId("ann")], all: true }), "invalid-argument", /ids/);
    await expectCode(nora.call("markNotificationsRead", { all: false }), "invalid-argument", /all/);
    await expectCode(nora.call("markNotificationsRead", { ids: ["a/b"] }), "invalid-argument", /ids\.0/);
    await expectCode(nora.call("markNotificationsRead", { ids: Array.from({ length: 51 }, (_, i) => `n${i}`) }), "invalid-argument", /ids/);
    await expectCode(nora.call("markNotificationsRead", { all: true, extra: 1 }), "invalid-argument", /extra/);
    await expectCode((await anonymousClient()).call("markNotificationsRead", { all: true }), "unauthenticated");
    assert.equal(await unreadCount(nora), 1);
  });
});
