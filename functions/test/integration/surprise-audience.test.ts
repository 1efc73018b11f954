// The sock-puppet story (issue 13, docs/wishes.md "Who can join a surprise"): the recipient of a surprise makes a second
// account and befriends herself, then the organizer, then gets put into a group; a genuine friend made after the surprise
// tries the same. None of them may join the surprise's audience: checked on viewerIds, through rules-checked client
// reads as the second account, and through the feed and notification workers. Friendship and group changes are applied
// with the trigger handlers in-process (the emulated triggers run too and compute the same), so nothing waits on them.
import assert from "node:assert/strict";
import { collection, doc, getCountFromServer, getDoc, getDocs, query, where } from "firebase/firestore";
import type { DomainEvent } from "../../src/events/schema";
import { fanOutEvent } from "../../src/feed/worker";
import { foldFeedDigest } from "../../src/feed/digest";
import { recordingTasks } from "../helpers/tasks";
import { systemClock } from "../../src/lib/clock";
import { firestoreDirectory, planNotifications } from "../../src/notifications/recipients";
import { onFriendshipChanged, onGroupChanged } from "../../src/wishes/manage";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import type { TestClient } from "../../devtools/support/clients";
import { addComment } from "../../devtools/support/comments";
import { expectCode } from "../helpers/errors";
import { befriend, feedOf, unfriendBoth, wishInput } from "../helpers/wish-fixtures";

const deps = () => ({ db: adminDb(), clock: systemClock, tasks: recordingTasks() });
const viewersOf = async (wishId: string) => (await adminDb().doc(`wishes/${wishId}`).get()).get("viewerIds") as string[];

/** Both sides of a friendship through the callables the app uses (request, accept), then the triggers' handler. */
async function friendsThroughTheApp(from: TestClient, to: TestClient): Promise<void> {
  await from.call("sendFriendRequest", { toUid: to.uid });
  await to.call("acceptFriendRequest", { fromUid: from.uid });
  await Promise.all([onFriendshipChanged(deps(), from.uid, to.uid), onFriendshipChanged(deps(), to.uid, from.uid)]);
}

/** What the second account can learn about the surprise through the rules: nothing, and the same as for no wish. */
async function learnsNothing(spy: TestClient, wishId: string): Promise<void> {
  const hidden = await getDoc(doc(spy.db, "wishes", wishId)).catch((error: { code: string }) => error.code);
  const missing = await getDoc(doc(spy.db, "wishes", "no-such-wish")).catch((error: { code: string }) => error.code);
  assert.equal(hidden, "permission-denied");
  assert.equal(missing, hidden);
  const mine = query(collection(spy.db, "wishes"), where("viewerIds", "array-contains", spy.uid), where("ownerId", "==", "rita"));
  assert.equal((await getDocs(mine)).size, 0, "no surprise for rita in the second account's list");
  assert.equal((await getCountFromServer(mine)).data().count, 0);
  await assert.rejects(getDocs(collection(spy.db, "wishes", wishId, "comments")), /permission/i);
  await assert.rejects(getDocs(collection(spy.db, "wishes", wishId, "supporters")), /permission/i);
}

describe("surprise audiences: no account of the recipient gets in", function () {
  this.timeout(120_000);

  it("a second account of the recipient, a friend made after the surprise and a group edit all stay outside; only earlier mutual friends join", async () => {
    // Before the surprise: ann is a friend of both oscar (the organizer) and rita (the recipient); gus only of oscar.
    await befriend("oscar", "rita", "ann", "gus");
    await befriend("rita", "ann");
    const [oscar, rita, rita2, ann] = await Promise.all([signedInClient("oscar"), signedInClient("rita"), signedInClient("rita2"), signedInClient("ann")]);
    const { wishId } = await oscar.call<{ wishId: string }>("createWish", wishInput({ recipientId: "rita", audience: { kind: "friends" } }));
    assert.deepEqual(await viewersOf(wishId), ["ann", "oscar"], "mutual friends from before the surprise, and the organizer");

    // 1. rita's second account befriends rita.
    await friendsThroughTheApp(rita2, rita);
    assert.deepEqual(await viewersOf(wishId), ["ann", "oscar"]);
    await learnsNothing(rita2, wishId);

    // 2. ... and the organizer, who accepts (an act of the organizer, but after the surprise was created).
    await friendsThroughTheApp(rita2, oscar);
    // A genuine friend made after the surprise is treated the same: gus befriends rita now.
    await befriend("rita", "gus");
    await Promise.all([onFriendshipChanged(deps(), "rita", "gus"), onFriendshipChanged(deps(), "gus", "rita")]);
    assert.deepEqual(await viewersOf(wishId), ["ann", "oscar"]);
    // Re-choosing "friends" does not pull them in either, and naming them is refused with the reason.
    await oscar.call("setWishAudience", { wishId, audience: { kind: "friends" } });
    assert.deepEqual(await viewersOf(wishId), ["ann", "oscar"]);
    await expectCode(
      oscar.call("setWishAudience", { wishId, audience: { kind: "people", userIds: ["ann", "rita2"] } }),
      "invalid-argument",
      /Field 'audience.userIds': rita2 became a friend of you or of the recipient after the surprise was created/,
    );

    // 3. A group edit: the surprise goes to oscar's group "close"; rita2 and gus are added to it, then ann.
    const { groupId } = await oscar.call<{ groupId: string }>("createGroup", { name: "Close", memberIds: [] });
    await oscar.call("setWishAudience", { wishId, audience: { kind: "groups", groupIds: [groupId] } });
    assert.deepEqual(await viewersOf(wishId), ["oscar"]);
    await oscar.call("updateGroup", { groupId, memberIds: ["rita2", "gus", "ann"] });
    await onGroupChanged(deps(), "oscar", groupId);
    assert.deepEqual(await viewersOf(wishId), ["ann", "oscar"], "the group brings in ann (an earlier mutual friend) only");
    await learnsNothing(rita2, wishId);

    // 4. News about the surprise: a donation and a comment by ann reach the organizer, never rita or rita2.
    await adminDb().doc("users/ann/private/account").set({ settings: { locale: "en", mutedCategories: [], showDonationsInFeed: true } });
    const donation: DomainEvent = {
      id: "donation.received:d-ann",
      type: "donation.received",
      wishId,
      donationId: "d-ann",
      donorId: "ann",
      amount: 5000,
      currency: "CZK",
      anonymous: false,
      occurredAt: new Date().toISOString(),
    };
    const commentId = await addComment(ann.db, "ann", wishId, "Count me in");
    const comment: DomainEvent = { id: `comment.added:${wishId}/${commentId}`, type: "comment.added", wishId, commentId, authorId: "ann", occurredAt: new Date().toISOString() };
    for (const event of [donation, comment]) {
      await fanOutEvent(deps(), event);
      const { planned } = await planNotifications(event, firestoreDirectory(adminDb()));
      const told = planned.map((p) => p.recipientId);
      assert.ok(!told.includes("rita") && !told.includes("rita2"), `${event.type} notifies ${told.join()}`);
      assert.ok(told.includes("oscar"), `${event.type} notifies the organizer`);
    }
    await foldFeedDigest(deps(), wishId); // the donation's feed digest, as its fold task would
    assert.ok((await feedOf("oscar", wishId)).length >= 1, "the organizer's feed has the news");
    assert.deepEqual(await feedOf("rita2", wishId), [], "the second account's feed has nothing about the surprise");
    assert.deepEqual(await feedOf("rita", wishId), []);
    const ownFeed = await getDocs(query(collection(rita2.db, "users", "rita2", "feed"), where("wishId", "==", wishId)));
    assert.equal(ownFeed.size, 0, "read through the rules as rita2");
  });

  it("the audience shrinks when a friendship of the organizer or of the recipient ends, and does not grow back on re-friending", async () => {
    await befriend("oscar", "rita", "ann", "bea");
    await befriend("rita", "ann", "bea");
    const oscar = await signedInClient("oscar");
    const { wishId } = await oscar.call<{ wishId: string }>("createWish", wishInput({ recipientId: "rita", audience: { kind: "friends" } }));
    assert.deepEqual(await viewersOf(wishId), ["ann", "bea", "oscar"]);
    // The organizer's side: oscar unfriends ann (new in this issue: surprises follow their organizer's friendships).
    await unfriendBoth("oscar", "ann");
    await Promise.all([onFriendshipChanged(deps(), "oscar", "ann"), onFriendshipChanged(deps(), "ann", "oscar")]);
    assert.deepEqual(await viewersOf(wishId), ["bea", "oscar"]);
    // The recipient's side: rita unfriends bea.
    await unfriendBoth("rita", "bea");
    await Promise.all([onFriendshipChanged(deps(), "rita", "bea"), onFriendshipChanged(deps(), "bea", "rita")]);
    assert.deepEqual(await viewersOf(wishId), ["oscar"]);
    // Friends again: a new friendship, made after the surprise; only the organizer can bring them back (and cannot).
    await befriend("oscar", "ann");
    await befriend("rita", "bea");
    const pairs = [["oscar", "ann"], ["ann", "oscar"], ["rita", "bea"], ["bea", "rita"]] as const;
    await Promise.all(pairs.map(([uid, friendId]) => onFriendshipChanged(deps(), uid, friendId)));
    assert.deepEqual(await viewersOf(wishId), ["oscar"]);
  });
});
