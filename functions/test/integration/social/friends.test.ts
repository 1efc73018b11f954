// F4-F6: in-app friend requests, unfriending and friend groups, driven through the callables as the app drives them.
import assert from "node:assert/strict";
import { collection, doc, getDoc, getDocs, query, where } from "firebase/firestore";
import { adminDb } from "../../../devtools/support/admin";
import { anonymousClient } from "../../../devtools/support/clients";
import { appUser, exists, ids, makeFriends, outboxEvents, rejectsWith } from "./helpers";

describe("social: friend requests and unfriending", function () {
  this.timeout(180_000); // callables on cold function workers are slow on the shared 2-core machine

  it("send → the recipient lists it and sees the sender's profile → accept makes both sides friends", async () => {
    const ann = await appUser("ann", "Ann");
    const bob = await appUser("bob", "Bob");
    assert.deepEqual(await ann.call("sendFriendRequest", { toUid: "bob" }), { requestId: "ann_bob" });

    const incoming = await getDocs(query(collection(bob.db, "friendRequests"), where("to", "==", "bob")));
    assert.deepEqual(incoming.docs.map((request) => request.get("from") as string), ["ann"]);
    assert.equal((await getDoc(doc(bob.db, "users/ann"))).get("displayName"), "Ann", "a request party may read the profile");
    assert.equal((await outboxEvents("friend_request.received")).length, 1);

    assert.deepEqual(await bob.call("acceptFriendRequest", { fromUid: "ann" }), { friendUid: "ann" });
    assert.equal(await exists("friendRequests/ann_bob"), false);
    const mine = await getDoc(doc(ann.db, "users/ann/friends/bob"));
    assert.equal(mine.get("source"), "app");
    assert.ok(await exists("users/bob/friends/ann"));
    const accepted = await outboxEvents("friend_request.accepted");
    assert.deepEqual(accepted.map((event) => [event.fromId, event.toId]), [["ann", "bob"]]);
  });

  it("decline and cancel remove the request and make nobody friends", async () => {
    const ann = await appUser("ann");
    const bob = await appUser("bob");
    await appUser("cat");
    await ann.call("sendFriendRequest", { toUid: "bob" });
    await bob.call("declineFriendRequest", { fromUid: "ann" });
    await ann.call("sendFriendRequest", { toUid: "cat" });
    await ann.call("cancelFriendRequest", { toUid: "cat" });
    assert.deepEqual(await ids("friendRequests"), []);
    assert.deepEqual(await ids("users/ann/friends"), []);
    await rejectsWith(bob.call("acceptFriendRequest", { fromUid: "ann" }), "not-found");
    await rejectsWith(ann.call("cancelFriendRequest", { toUid: "cat" }), "not-found");
  });

  it("bad requests: to oneself, twice, to a friend, to a missing user, crossing requests, bad input, signed out", async () => {
    const ann = await appUser("ann");
    const bob = await appUser("bob");
    await appUser("cat");
    await makeFriends("ann", "cat");
    await rejectsWith(ann.call("sendFriendRequest", { toUid: "ann" }), "invalid-argument", /toUid/);
    await rejectsWith(ann.call("sendFriendRequest", {}), "invalid-argument", /toUid/);
    await rejectsWith(ann.call("sendFriendRequest", { toUid: "nobody" }), "not-found", /toUid/);
    await rejectsWith(ann.call("sendFriendRequest", { toUid: "cat" }), "failed-precondition", /already friends/);
    await ann.call("sendFriendRequest", { toUid: "bob" });
    await rejectsWith(ann.call("sendFriendRequest", { toUid: "bob" }), "failed-precondition", /already sent/);
    await rejectsWith(bob.call("sendFriendRequest", { toUid: "ann" }), "failed-precondition", /accept it/);
    await rejectsWith(ann.call("acceptFriendRequest", { fromUid: "bob" }), "not-found", /no such pending friend request/);
    const anonymous = await anonymousClient();
    await rejectsWith(anonymous.call("sendFriendRequest", { toUid: "bob" }), "unauthenticated");
    assert.deepEqual(await ids("friendRequests"), ["ann_bob"], "only the one valid request was written");
    assert.equal((await outboxEvents("friend_request.received")).length, 1);
  });

  it("uids with '_': a request is its pair's only (x_y → z and x → y_z share the id x_y_z); the other pair can neither accept, decline nor cancel it", async () => {
    const xy = await appUser("x_y");
    const z = await appUser("z");
    const x = await appUser("x");
    const yz = await appUser("y_z");
    await xy.call("sendFriendRequest", { toUid: "z" });
    await rejectsWith(yz.call("acceptFriendRequest", { fromUid: "x" }), "not-found", /no such pending friend request/);
    await rejectsWith(yz.call("declineFriendRequest", { fromUid: "x" }), "not-found");
    await rejectsWith(x.call("cancelFriendRequest", { toUid: "y_z" }), "not-found");
    // The real pair still finds it: z, asking x_y, is told to accept x_y's request.
    await rejectsWith(z.call("sendFriendRequest", { toUid: "x_y" }), "failed-precondition", /accept it/);
    assert.deepEqual(await ids("friendRequests"), ["x_y_z"]);
    assert.deepEqual([await ids("users/x/friends"), await ids("users/y_z/friends")], [[], []], "nobody was befriended through the other pair's request");
    assert.deepEqual(await z.call("acceptFriendRequest", { fromUid: "x_y" }), { friendUid: "x_y" });
    assert.ok(await exists("users/z/friends/x_y"));
  });

  it("unfriend removes both sides and each from the other's groups; unfriending a stranger is not-found", async () => {
    const ann = await appUser("ann");
    const bob = await appUser("bob");
    await appUser("cat");
    await makeFriends("ann", "bob");
    await makeFriends("ann", "cat");
    const { groupId } = await ann.call<{ groupId: string }>("createGroup", { name: "Family", memberIds: ["bob", "cat"] });
    const { groupId: bobs } = await bob.call<{ groupId: string }>("createGroup", { name: "School", memberIds: ["ann"] });

    await ann.call("unfriend", { friendUid: "bob" });
    assert.deepEqual(await ids("users/ann/friends"), ["cat"]);
    assert.deepEqual(await ids("users/bob/friends"), []);
    assert.deepEqual((await adminDb().doc(`users/ann/groups/${groupId}`).get()).get("memberIds"), ["cat"]);
    assert.deepEqual((await adminDb().doc(`users/bob/groups/${bobs}`).get()).get("memberIds"), []);
    await rejectsWith(ann.call("unfriend", { friendUid: "bob" }), "not-found");
    await rejectsWith(ann.call("unfriend", { friendUid: "ann" }), "invalid-argument", /friendUid/);
  });

  it("concurrent accept and cancel, or both unfriending at once, never leave a one-sided friendship", async () => {
    const ann = await appUser("ann");
    const bob = await appUser("bob");
    await ann.call("sendFriendRequest", { toUid: "bob" });
    await Promise.allSettled([bob.call("acceptFriendRequest", { fromUid: "ann" }), ann.call("cancelFriendRequest", { toUid: "bob" })]);
    assert.equal(await exists("users/ann/friends/bob"), await exists("users/bob/friends/ann"), "both sides or neither");
    assert.equal(await exists("friendRequests/ann_bob"), false);

    await makeFriends("ann", "bob");
    const results = await Promise.allSettled([ann.call("unfriend", { friendUid: "bob" }), bob.call("unfriend", { friendUid: "ann" })]);
    assert.ok(results.some((result) => result.status === "fulfilled"));
    assert.equal(await exists("users/ann/friends/bob"), false);
    assert.equal(await exists("users/bob/friends/ann"), false);
  });
});

describe("social: friend groups", function () {
  this.timeout(180_000); // callables on cold function workers are slow on the shared 2-core machine

  it("create, rename, change members and delete (a retried delete is harmless)", async () => {
    const ann = await appUser("ann");
    for (const friend of ["bob", "cat", "dan"]) {
      await appUser(friend);
      await makeFriends("ann", friend);
    }
    const { groupId } = await ann.call<{ groupId: string }>("createGroup", { name: "  Family ", memberIds: ["bob", "cat", "bob"] });
    let group = await getDoc(doc(ann.db, `users/ann/groups/${groupId}`));
    assert.equal(group.get("name"), "Family");
    assert.deepEqual(group.get("memberIds"), ["bob", "cat"]);

    await ann.call("updateGroup", { groupId, name: "Close family" });
    await ann.call("updateGroup", { groupId, memberIds: ["dan"] });
    group = await getDoc(doc(ann.db, `users/ann/groups/${groupId}`));
    assert.equal(group.get("name"), "Close family");
    assert.deepEqual(group.get("memberIds"), ["dan"]);

    assert.deepEqual(await ann.call("deleteGroup", { groupId }), { deleted: true });
    assert.deepEqual(await ann.call("deleteGroup", { groupId }), { deleted: false });
    assert.deepEqual(await ids("users/ann/groups"), []);
  });

  it("a member who is not a friend is rejected and nothing is written; bad names and ids are invalid-argument", async () => {
    const ann = await appUser("ann");
    await appUser("bob");
    await appUser("eve");
    await makeFriends("ann", "bob");
    await rejectsWith(ann.call("createGroup", { name: "X", memberIds: ["bob", "eve"] }), "failed-precondition", /memberIds.*eve/);
    assert.deepEqual(await ids("users/ann/groups"), []);
    await rejectsWith(ann.call("createGroup", { name: "   ", memberIds: [] }), "invalid-argument", /name/);
    const { groupId } = await ann.call<{ groupId: string }>("createGroup", { name: "Ok", memberIds: ["bob"] });
    await rejectsWith(ann.call("updateGroup", { groupId, memberIds: ["eve"] }), "failed-precondition", /eve/);
    assert.deepEqual((await adminDb().doc(`users/ann/groups/${groupId}`).get()).get("memberIds"), ["bob"]);
    await rejectsWith(ann.call("updateGroup", { groupId }), "invalid-argument", /name/);
    await rejectsWith(ann.call("updateGroup", { groupId: "missing", name: "Y" }), "not-found", /groupId/);
  });
});
