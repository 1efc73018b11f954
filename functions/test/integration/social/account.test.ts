// F2 and account deletion: device registrations, sign out everywhere, deleteAccount (through the callables).
import assert from "node:assert/strict";
import { deleteDoc, doc } from "firebase/firestore";
import { adminAuth, adminDb } from "../../../devtools/support/admin";
import { fakeGraph } from "../../../devtools/support/fakes";
import { appUser, exists, ids, makeFriends, rejectsWith, signUpWithFacebook } from "./helpers";
import { waitFor } from "../../helpers/wait";

/** `users/{uid}/private/push` devices map: what the notification worker pushes to. */
async function pushTargets(uid: string): Promise<Record<string, unknown>> {
  return ((await adminDb().doc(`users/${uid}/private/push`).get()).get("devices") as Record<string, unknown> | undefined) ?? {};
}

const device = (deviceId: string, token: string) => ({ deviceId, platform: "android", token, locale: "cs-CZ", appVersion: "1.4.0" });

describe("social: devices and signing out", function () {
  this.timeout(180_000); // callables on cold function workers are slow on the shared 2-core machine

  it("register, refresh and unregister a device; a token moves to the account that registers it last", async () => {
    const ann = await appUser("ann");
    const bob = await appUser("bob");
    await ann.call("registerDevice", device("install-ann-1", "fcm-token-1"));
    await ann.call("registerDevice", { ...device("install-ann-1", "fcm-token-2"), platform: "ios" });
    const stored = await adminDb().doc("users/ann/devices/install-ann-1").get();
    assert.equal(stored.get("token"), "fcm-token-2");
    assert.equal(stored.get("platform"), "ios");
    assert.ok(stored.get("lastSeenAt"));
    assert.deepEqual(await pushTargets("ann"), { "install-ann-1": { platform: "ios", token: "fcm-token-2", locale: "cs-CZ" } });

    // Bob signs in on Ann's phone: the token is Bob's now, Ann must not get pushes there.
    await bob.call("registerDevice", device("install-shared", "fcm-token-2"));
    assert.deepEqual(await ids("users/ann/devices"), []);
    assert.deepEqual(await ids("users/bob/devices"), ["install-shared"]);
    assert.deepEqual(await pushTargets("ann"), {});
    assert.deepEqual(Object.keys(await pushTargets("bob")), ["install-shared"]);

    await bob.call("unregisterDevice", { deviceId: "install-shared" });
    await bob.call("unregisterDevice", { deviceId: "install-shared" });
    assert.deepEqual(await ids("users/bob/devices"), []);
    assert.deepEqual(await pushTargets("bob"), {});
    await rejectsWith(ann.call("registerDevice", { ...device("install-x1", "t"), platform: "symbian" }), "invalid-argument", /platform/);
    await rejectsWith(ann.call("registerDevice", device("x", "t")), "invalid-argument", /deviceId/);
  });

  it("the owner cannot delete a device registration directly (its push target would stay): unregisterDevice does", async () => {
    const ann = await appUser("ann");
    await ann.call("registerDevice", device("install-ann-1", "fcm-token-1"));
    await assert.rejects(deleteDoc(doc(ann.db, "users/ann/devices/install-ann-1")), { code: "permission-denied" });
    assert.equal(await exists("users/ann/devices/install-ann-1"), true);
    assert.deepEqual(Object.keys(await pushTargets("ann")), ["install-ann-1"]);
  });

  it("sign out everywhere revokes the refresh tokens, removes every device, and the old session cannot re-register", async () => {
    const ann = await appUser("ann");
    await ann.call("registerDevice", device("install-phone", "fcm-1"));
    await ann.call("registerDevice", { ...device("install-tablet", "fcm-2"), platform: "ios" });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // revocation has one-second resolution
    assert.deepEqual(await ann.call("signOutEverywhere"), { devicesRemoved: 2 });
    assert.deepEqual(await ids("users/ann/devices"), []);
    assert.equal(await exists("users/ann/private/push"), false, "no push target is left");
    const record = await adminAuth().getUser("ann");
    assert.ok(record.tokensValidAfterTime && Date.parse(record.tokensValidAfterTime) > Date.now() - 60_000, "refresh tokens revoked");
    await rejectsWith(ann.call("registerDevice", device("install-phone", "fcm-1")), "unauthenticated", /signed out/);
    assert.deepEqual(await ids("users/ann/devices"), []);
  });
});

describe("social: account deletion", function () {
  this.timeout(240_000); // ten callables, several cold function workers: slow on a loaded shared machine

  it("removes profile, private data, friendships (both sides), groups membership, requests, devices and the Auth user; keeps money records; a retry succeeds", async () => {
    fakeGraph().reset();
    const ann = (await signUpWithFacebook("ann", { id: "fb-ann", first_name: "Ann", email: "ann@example.com" })).client;
    const bob = await appUser("bob");
    await appUser("cat");
    await makeFriends("ann", "bob");
    await bob.call("createGroup", { name: "Friends", memberIds: ["ann"] });
    await ann.call("createGroup", { name: "Mine", memberIds: ["bob"] });
    await ann.call("sendFriendRequest", { toUid: "cat" });
    const dan = await appUser("dan");
    await dan.call("sendFriendRequest", { toUid: "ann" });
    // The notification of dan's request lands first: delivered after the deletion, it would write ann's inbox anew
    // (a race of the pipeline, not of deleteAccount; noted on issue 17), and what is checked below would depend on timing.
    await waitFor("ann's notification of dan's request", async () =>
      (await adminDb().collection("users/ann/notifications").where("type", "==", "friend_request.received").limit(1).get()).empty ? undefined : true,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await ann.call("registerDevice", device("install-ann-1", "fcm-ann"));
    await adminDb().doc("users/ann/feed/item-1").set({ text: "someone else's domain, still personal" });
    await adminDb().doc("donations/don-1").set({ donorId: "ann", amount: 5000, currency: "CZK" });
    await adminDb().doc("ledger/entry-1").set({ donationId: "don-1", amount: 5000, currency: "CZK" });

    const result = await ann.call("deleteAccount");
    assert.deepEqual(result, { friendshipsRemoved: 1, requestsRemoved: 2, devicesRemoved: 1 });

    assert.equal(await exists("users/ann"), false);
    assert.deepEqual(await ids("users/ann/private"), []);
    assert.deepEqual(await ids("users/ann/friends"), []);
    assert.deepEqual(await ids("users/ann/groups"), []);
    assert.deepEqual(await ids("users/ann/devices"), []);
    assert.deepEqual(await ids("users/ann/feed"), []);
    assert.deepEqual(await ids("users/bob/friends"), []);
    const bobsGroups = await adminDb().collection("users/bob/groups").get();
    assert.deepEqual(bobsGroups.docs[0]?.get("memberIds"), []);
    assert.deepEqual(await ids("friendRequests"), []);
    await assert.rejects(adminAuth().getUser("ann"), /no user record/i);
    assert.ok(await exists("donations/don-1"), "money records are kept");
    assert.ok(await exists("ledger/entry-1"));

    // The app retries (e.g. the first answer was lost): the same session may call again and it succeeds.
    assert.deepEqual(await ann.call("deleteAccount"), { friendshipsRemoved: 0, requestsRemoved: 0, devicesRemoved: 0 });
  });
});
