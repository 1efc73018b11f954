// F1/F3: sign-up with Facebook through the callable the app calls after Firebase Auth's Facebook sign-in, against the
// fake Graph API (the deployed SDK code path, pointed at the fake inside the emulator).
import assert from "node:assert/strict";
import { doc, getDoc, updateDoc } from "firebase/firestore";
import { adminAuth, adminDb } from "../../../devtools/support/admin";
import { anonymousClient, signedInClient } from "../../../devtools/support/clients";
import { fakeGraph } from "../../../devtools/support/fakes";
import { exists, facebookUser, ids, outboxEvents, rejectsWith, signUpWithFacebook } from "./helpers";


interface SyncResult {
  status: "complete" | "incomplete";
  profileSynced: boolean;
  friendsSynced: boolean;
  newFriendIds: string[];
  firstSignUp: boolean;
}

const ann = { id: "fb-ann", first_name: "Ann", last_name: "Lee", email: "ann@example.com", birthday: "04/12/1994", pictureUrl: "https://pics/ann.jpg" };

describe("social: sign-up with Facebook (syncFacebookProfile)", function () {
  this.timeout(180_000); // several sign-ups per test on a shared 2-core machine
  beforeEach(() => {
    fakeGraph().reset();
    fakeGraph().setPageSize(2); // force cursor paging on every friend list
  });

  it("first sign-up: profile and private data are loaded, and the 3 Facebook friends already in the app become mutual friends", async () => {
    for (const [uid, fb] of [["bob", "fb-bob"], ["cat", "fb-cat"], ["dan", "fb-dan"]] as const) {
      await signUpWithFacebook(uid, { id: fb, first_name: uid });
    }
    fakeGraph().addUser({ id: "fb-eve", first_name: "Eve" }); // a Facebook friend who does not use ElateMe
    for (const friend of ["fb-bob", "fb-cat", "fb-dan", "fb-eve"]) fakeGraph().befriend("fb-ann", friend);

    const user = await facebookUser("ann", ann);
    // Ann opts in to ads attribution on the sign-up screen (docs/analytics.md); bob, cat and dan did not.
    const result = await user.client.call<SyncResult>("syncFacebookProfile", { accessToken: user.token, adsConsent: true });

    assert.deepEqual(result, { status: "complete", profileSynced: true, friendsSynced: true, newFriendIds: ["bob", "cat", "dan"], firstSignUp: true });
    assert.deepEqual(await ids("users/ann/friends"), ["bob", "cat", "dan"]);
    for (const friend of ["bob", "cat", "dan"]) {
      const back = await adminDb().doc(`users/${friend}/friends/ann`).get();
      assert.equal(back.get("source"), "facebook", `${friend} has ann as a Facebook friend`);
      assert.equal(back.get("friendId"), "ann");
    }
    const profile = await getDoc(doc(user.client.db, "users/ann"));
    assert.equal(profile.get("displayName"), "Ann Lee");
    assert.equal(profile.get("photoUrl"), "https://pics/ann.jpg");
    assert.equal(profile.get("facebookLinked"), true);
    const account = await getDoc(doc(user.client.db, "users/ann/private/account"));
    assert.equal(account.get("firstName"), "Ann");
    assert.equal(account.get("lastName"), "Lee");
    assert.equal(account.get("email"), "ann@example.com");
    assert.equal(account.get("birthday"), "1994-04-12");
    assert.equal(account.get("facebookId"), "fb-ann");
    assert.deepEqual(account.get("settings"), { locale: "en", mutedCategories: [], showDonationsInFeed: true, adsConsent: true });
    assert.equal(account.get("facebookSync.status"), "complete");

    // A friend can now read ann's public profile through the rules.
    const bob = await signedInClient("bob");
    assert.equal((await getDoc(doc(bob.db, "users/ann"))).get("displayName"), "Ann Lee");
    const joined = await outboxEvents("friend.joined");
    const annJoined = joined.filter((event) => event.userId === "ann");
    assert.equal(annJoined.length, 1);
    assert.deepEqual(annJoined[0]?.friendIds, ["bob", "cat", "dan"]);
    // Each completed sign-up is published once (ads attribution's CompleteRegistration, docs/analytics.md).
    assert.deepEqual((await outboxEvents("user.signed_up")).map((event) => event.userId).sort(), ["ann", "bob", "cat", "dan"]);
  });

  it("a later login adds a new Facebook friend, keeps the user's settings, and publishes friend.joined only once", async () => {
    const first = await signUpWithFacebook("ann", ann);
    await updateDoc(doc(first.client.db, "users/ann/private/account"), { settings: { locale: "cs", mutedCategories: ["comments"], showDonationsInFeed: false } });
    await signUpWithFacebook("fay", { id: "fb-fay", first_name: "Fay" });
    assert.deepEqual(await ids("users/ann/friends"), []);

    fakeGraph().befriend("fb-ann", "fb-fay"); // they become Facebook friends after both joined
    const later = await first.client.call<SyncResult>("syncFacebookProfile", { accessToken: fakeGraph().issueToken("fb-ann") });

    assert.equal(later.firstSignUp, false);
    assert.deepEqual(later.newFriendIds, ["fay"]);
    assert.deepEqual(await ids("users/ann/friends"), ["fay"]);
    assert.ok(await exists("users/fay/friends/ann"));
    const account = await adminDb().doc("users/ann/private/account").get();
    assert.deepEqual(account.get("settings"), { locale: "cs", mutedCategories: ["comments"], showDonationsInFeed: false });
    assert.equal((await outboxEvents("friend.joined")).filter((event) => event.userId === "ann").length, 1);

    const again = await first.client.call<SyncResult>("syncFacebookProfile", { accessToken: fakeGraph().issueToken("fb-ann") });
    assert.deepEqual(again.newFriendIds, [], "a repeated sync creates nothing new");
  });

  it("an invalid, expired, foreign-app or other user's token is unauthenticated and writes nothing", async () => {
    const user = await facebookUser("ann", ann);
    fakeGraph().addUser({ id: "fb-mallory" });
    const cases: [string, RegExp][] = [
      ["not-a-token", /invalid or expired/],
      [fakeGraph().issueToken("fb-ann", { expired: true }), /invalid or expired/],
      [fakeGraph().issueToken("fb-ann", { appId: "424242" }), /not issued to ElateMe/],
      [fakeGraph().issueToken("fb-mallory"), /different Facebook account/],
    ];
    for (const [accessToken, message] of cases) {
      await rejectsWith(user.client.call("syncFacebookProfile", { accessToken }), "unauthenticated", message);
    }
    assert.equal(await exists("users/ann"), false);
    assert.equal(await exists("users/ann/private/account"), false);
  });

  it("bad calls: signed out, missing token, account without Facebook", async () => {
    const anonymous = await anonymousClient();
    await rejectsWith(anonymous.call("syncFacebookProfile", { accessToken: "x" }), "unauthenticated");
    const user = await facebookUser("ann", ann);
    await rejectsWith(user.client.call("syncFacebookProfile", {}), "invalid-argument", /accessToken/);
    const plain = await signedInClient("plain");
    await rejectsWith(plain.call("syncFacebookProfile", { accessToken: fakeGraph().issueToken("fb-ann") }), "failed-precondition", /not signed in with Facebook/);
  });

  it("Facebook unreachable while checking the token: 'unavailable' and nothing written", async () => {
    const user = await facebookUser("ann", ann);
    fakeGraph().failNext("/debug_token", { kind: "error", status: 503 });
    await rejectsWith(user.client.call("syncFacebookProfile", { accessToken: user.token }), "unavailable");
    assert.equal(await exists("users/ann"), false);
  });

  it("Graph fails after the token was verified: sign-up succeeds as 'incomplete', and the app's next call completes it", async () => {
    await signUpWithFacebook("bob", { id: "fb-bob", first_name: "Bob" });
    fakeGraph().befriend("fb-ann", "fb-bob");
    const user = await facebookUser("ann", ann);
    fakeGraph().failNext("/me/friends", { kind: "error", status: 500 });
    fakeGraph().failNext("/me", { kind: "error", status: 500 });

    const first = await user.client.call<SyncResult>("syncFacebookProfile", { accessToken: user.token });
    assert.deepEqual(first, { status: "incomplete", profileSynced: false, friendsSynced: false, newFriendIds: [], firstSignUp: true });
    const profile = await adminDb().doc("users/ann").get();
    assert.equal(profile.get("displayName"), "Ann Lee", "falls back to the name Firebase Auth got from Facebook");
    assert.equal(profile.get("facebookLinked"), true);
    const pending = await adminDb().doc("users/ann/private/account").get();
    assert.equal(pending.get("facebookSync.status"), "incomplete");
    assert.equal(pending.get("facebookSync.lastCompletedAt"), null);
    assert.equal(pending.get("birthday"), null);
    assert.deepEqual(await ids("users/ann/friends"), []);
    assert.equal((await outboxEvents("friend.joined")).filter((event) => event.userId === "ann").length, 0);

    const retry = await user.client.call<SyncResult>("syncFacebookProfile", { accessToken: user.token });
    assert.deepEqual(retry, { status: "complete", profileSynced: true, friendsSynced: true, newFriendIds: ["bob"], firstSignUp: false });
    const done = await adminDb().doc("users/ann/private/account").get();
    assert.equal(done.get("facebookSync.status"), "complete");
    assert.equal(done.get("birthday"), "1994-04-12");
    assert.ok(await exists("users/bob/friends/ann"));
    assert.equal((await outboxEvents("friend.joined")).filter((event) => event.userId === "ann").length, 1);
  });

  it("the Auth user's Facebook link is what the token is checked against", async () => {
    const user = await facebookUser("ann", ann);
    const record = await adminAuth().getUser("ann");
    assert.equal(record.providerData.find((provider) => provider.providerId === "facebook.com")?.uid, "fb-ann");
    await user.client.call("syncFacebookProfile", { accessToken: user.token });
    assert.ok(await exists("users/ann"));
  });
});
