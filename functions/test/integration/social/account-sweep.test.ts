// deleteAccount's later sweep (src/social/account.ts): the task it schedules, and the task's work against the Auth and
// Firestore emulators, in-process (the Cloud Tasks emulator would run the task at once, not 15 minutes later).
import assert from "node:assert/strict";
import { ACCOUNT_SWEEP_DELAY_MS, ACCOUNT_SWEEP_QUEUE, deleteAccount, sweepDeletedAccount } from "../../../src/social/account";
import { adminAuth, adminDb } from "../../../devtools/support/admin";
import { fixedClock } from "../../helpers/clock";
import { recordingTasks } from "../../helpers/tasks";
import { exists, ids } from "./helpers";

const NOW = new Date("2026-11-23T10:00:00.000Z");

/** A signed-up user as syncFacebookProfile leaves one: Auth user, public profile, private account; plus an inbox. */
async function seedAccount(uid: string): Promise<void> {
  await adminAuth().createUser({ uid });
  await adminDb().doc(`users/${uid}`).set({ displayName: uid, photoUrl: null, facebookLinked: false, createdAt: NOW, updatedAt: NOW });
  await adminDb().doc(`users/${uid}/private/account`).set({ settings: { locale: "en", mutedCategories: [] } });
  await seedInbox(uid, "n-1");
}

/** What the notification worker's batch writes: an inbox item and the rise of the unread count. */
async function seedInbox(uid: string, itemId: string): Promise<void> {
  await adminDb().doc(`users/${uid}/notifications/${itemId}`).set({ type: "friend.joined", read: false, createdAt: NOW });
  await adminDb().doc(`users/${uid}/private/inbox`).set({ unread: 1 }, { merge: true });
}

const deps = () => ({ db: adminDb(), auth: adminAuth() });

describe("social: the sweep after an account deletion", function () {
  this.timeout(60_000);

  it("deleteAccount schedules one sweep 15 minutes later; its retry within that window adds none", async () => {
    await seedAccount("ann");
    const tasks = recordingTasks();
    const clock = fixedClock(NOW);
    await deleteAccount({ ...deps(), clock, tasks }, "ann");
    clock.advance(60_000);
    await deleteAccount({ ...deps(), clock, tasks }, "ann");

    assert.equal(tasks.calls.length, 2);
    const [first, retry] = tasks.calls;
    assert.equal(first?.queue, ACCOUNT_SWEEP_QUEUE);
    assert.deepEqual(first?.payload, { uid: "ann" });
    assert.equal(first?.options.scheduleTime?.getTime(), NOW.getTime() + ACCOUNT_SWEEP_DELAY_MS);
    assert.match(first?.options.id ?? "", /^account-sweep-[0-9a-f]{40}-\d+$/);
    assert.equal(retry?.options.id, first?.options.id, "the same task id: Cloud Tasks refuses the second");
  });

  it("deletes what a delivery racing the deletion wrote (inbox item, unread count); a second sweep finds nothing", async () => {
    await seedAccount("ann");
    await deleteAccount({ ...deps(), clock: fixedClock(NOW), tasks: recordingTasks() }, "ann");
    // A notification delivery that read ann's account before the deletion commits its batch after it.
    await seedInbox("ann", "n-2");
    assert.ok(await exists("users/ann/private/inbox"));

    assert.deepEqual(await sweepDeletedAccount(deps(), "ann"), { outcome: "swept", removed: 2 });
    assert.deepEqual(await ids("users/ann/notifications"), []);
    assert.deepEqual(await ids("users/ann/private"), []);
    assert.deepEqual((await adminDb().doc("users/ann").listCollections()).map((c) => c.id), []);
    assert.deepEqual(await sweepDeletedAccount(deps(), "ann"), { outcome: "swept", removed: 0 }, "a duplicate task changes nothing");
  });

  it("leaves an account that exists alone: an Auth user, or a public profile, means the uid is in use", async () => {
    await seedAccount("bob");
    assert.deepEqual(await sweepDeletedAccount(deps(), "bob"), { outcome: "account-exists", reason: "auth-user" });
    // No Auth user, but a profile (a state no deletion leaves): not swept either.
    await adminDb().doc("users/cyd").set({ displayName: "cyd", photoUrl: null, facebookLinked: false });
    await seedInbox("cyd", "n-1");
    assert.deepEqual(await sweepDeletedAccount(deps(), "cyd"), { outcome: "account-exists", reason: "profile" });

    for (const uid of ["bob", "cyd"]) {
      assert.deepEqual(await ids(`users/${uid}/notifications`), ["n-1"]);
      assert.equal((await adminDb().doc(`users/${uid}/private/inbox`).get()).get("unread"), 1);
    }
    assert.ok(await exists("users/bob/private/account"));
  });
});
