// The feed: fan-out through the real outbox -> Pub/Sub -> feedFanOut pipeline in the emulators, plus direct calls of
// the worker for redelivery and for events other domains publish (donations, reveal).
import assert from "node:assert/strict";
import { collection, deleteDoc, doc, getDocs, limit, orderBy, query, serverTimestamp } from "firebase/firestore";
import { addToOutbox } from "../../src/events/outbox";
import { fixedClock } from "../helpers/clock";
import { recordingTasks } from "../helpers/tasks";
import { FEED_DIGEST_QUEUE, foldFeedDigest } from "../../src/feed/digest";
import type { Wish } from "../../src/model/wish";
import { fanOutEvent } from "../../src/feed/worker";
import { domainEventSchema } from "../../src/events/schema";
import type { DomainEvent } from "../../src/events/schema";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import { addComment, writeComment } from "../../devtools/support/comments";
import { staysAbsent, waitFor as waitForQuick } from "../helpers/wait";
import { befriend, feedOf, profile, unfriendBoth, wishInput } from "../helpers/wish-fixtures";
import { newWishState } from "../../src/model/wish";

/** Triggers and the Pub/Sub pipeline are slow on a loaded machine: wait up to a minute by default. */
function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  return waitForQuick(what, probe, { timeoutMs: 60_000, intervalMs: 250, ...options });
}

const deps = () => ({ db: adminDb(), clock: fixedClock(new Date()), tasks: recordingTasks() });

async function feedCount(wishId: string): Promise<number> {
  return (await adminDb().collectionGroup("feed").where("wishId", "==", wishId).count().get()).data().count;
}

async function waitForFeed(uid: string, wishId: string, n = 1): Promise<string[]> {
  return waitFor(
    `${n} feed item(s) of ${uid} about ${wishId}`,
    async () => {
      const ids = await feedOf(uid, wishId);
      return ids.length >= n ? ids : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

describe("feed fan-out", function () {
  this.timeout(120_000);
  it("1 friend: a new wish reaches the friend's feed (not the organizer's), and the friend reads it newest first", async () => {
    await befriend("olga", "ann");
    const olga = await signedInClient("olga");
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    assert.deepEqual(await waitForFeed("ann", wishId), [`wish.created:${wishId}`]);
    const item = (await adminDb().doc(`users/ann/feed/wish.created:${wishId}`).get()).data();
    assert.ok(item);
    assert.equal(item.type, "wish.created");
    assert.equal(item.actorId, "olga");
    assert.equal(item.wishTitle, "New bike");
    assert.equal(item.amount, null);
    assert.deepEqual(await feedOf("olga"), []);
    const ann = await signedInClient("ann");
    const page = await getDocs(query(collection(ann.db, "users", "ann", "feed"), orderBy("createdAt", "desc"), limit(20)));
    assert.deepEqual(page.docs.map((d) => d.id), [`wish.created:${wishId}`]);
  });

  it("500 friends: every friend gets exactly one item, in batched writes", async function () {
    this.timeout(120_000);
    // The wish and its event are written exactly as createWish writes them (one batch, addToOutbox), with 500 viewers
    // already materialised: seeding 500 real friendships would fire the friendship trigger 1,000 times (and 1,000 more
    // when the root hook clears Firestore), which backs up the Functions emulator for every later test file. The owner
    // is used by no other test: a late friendship trigger from an earlier test (olga's friends being cleared) would
    // recompute olga's audiences and, finding no friendship documents here, remove the 500 materialised viewers.
    const friends = Array.from({ length: 500 }, (_, i) => `f${String(i).padStart(3, "0")}`);
    const now = new Date();
    const ref = adminDb().collection("wishes").doc();
    const wish: Wish = {
      ownerId: "otto",
      organizerId: "otto",
      isSurprise: false,
      title: "Party",
      description: "",
      imageUrl: null,
      amount: 150_000,
      currency: "CZK",
      deadline: new Date(now.getTime() + 30 * 86_400_000),
      audience: { kind: "friends", groupIds: [], userIds: [] },
      viewerIds: ["otto", ...friends],
      ...newWishState(now),
    };
    const batch = adminDb().batch();
    batch.create(ref, wish);
    addToOutbox(adminDb(), batch, { id: `wish.created:${ref.id}`, type: "wish.created", wishId: ref.id, ownerId: "otto", organizerId: "otto" }, now);
    await batch.commit();
    const wishId = ref.id;
    await waitFor("500 feed items", async () => ((await feedCount(wishId)) === 500 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    assert.deepEqual(await feedOf("otto", wishId), [], "not to the organizer");
    // Redelivery of the same event rewrites the same documents: still 500.
    const event = domainEventSchema.parse((await adminDb().doc(`events/wish.created:${wishId}`).get()).data());
    const started = Date.now();
    assert.deepEqual(await fanOutEvent(deps(), event), { delivered: 500 });
    console.log(`      fan-out of 500 items took ${Date.now() - started} ms (direct call)`);
    assert.equal(await feedCount(wishId), 500);
  });

  it("an audience edit withdraws the feed items of everyone who lost access", async () => {
    await befriend("olga", "ann", "fred", "gus");
    const olga = await signedInClient("olga");
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    await Promise.all(["ann", "fred", "gus"].map((uid) => waitForFeed(uid, wishId)));
    await olga.call("setWishAudience", { wishId, audience: { kind: "people", userIds: ["ann"] } });
    assert.deepEqual(await feedOf("fred", wishId), []);
    assert.deepEqual(await feedOf("gus", wishId), []);
    assert.equal((await feedOf("ann", wishId)).length, 1);
  });

  it("an unfriend withdraws the former friend's feed items about the owner's open wishes", async () => {
    await befriend("olga", "ann", "fred");
    const olga = await signedInClient("olga");
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    await waitForFeed("fred", wishId);
    await unfriendBoth("olga", "fred");
    await waitFor("fred's item to be withdrawn", async () => ((await feedOf("fred", wishId)).length === 0 ? true : undefined));
    assert.equal((await feedOf("ann", wishId)).length, 1);
  });

  it("a surprise is announced to its audience but never to its recipient", async () => {
    await befriend("oscar", "rita", "ann", "fred");
    await befriend("rita", "ann", "fred");
    const oscar = await signedInClient("oscar");
    const { wishId } = await oscar.call<{ wishId: string }>("createWish", wishInput({ recipientId: "rita" }));
    await waitForFeed("ann", wishId);
    await waitForFeed("fred", wishId);
    assert.deepEqual(await feedOf("rita"), []);
    assert.deepEqual(await feedOf("oscar"), []);
    // A donation to the hidden surprise does not reach the recipient either.
    await adminDb().doc("users/ann/private/account").set({ settings: { showDonationsInFeed: true } });
    await fanOutEvent(deps(), donation(wishId, "ann", false));
    assert.deepEqual(await feedOf("rita"), []);
  });

  it("the reveal: wish.funded goes to the viewers, surprise.revealed to the recipient once they are a viewer", async () => {
    await befriend("oscar", "rita", "ann");
    await befriend("rita", "ann");
    const oscar = await signedInClient("oscar");
    const { wishId } = await oscar.call<{ wishId: string }>("createWish", wishInput({ recipientId: "rita" }));
    await waitForFeed("ann", wishId);
    const now = new Date().toISOString();
    const revealed: DomainEvent = { id: `surprise.revealed:${wishId}`, type: "surprise.revealed", wishId, ownerId: "rita", organizerId: "oscar", occurredAt: now };
    assert.deepEqual(await fanOutEvent(deps(), revealed), { delivered: 0 }, "not before the recipient is a viewer");
    // The donations domain marks the wish funded and revealed (adds the owner to viewerIds) in one write.
    const wishRef = adminDb().doc(`wishes/${wishId}`);
    const viewers = (await wishRef.get()).get("viewerIds") as string[];
    await wishRef.update({ status: "funded", fundedAt: new Date(), revealedAt: new Date(), viewerIds: [...viewers, "rita"] });
    const funded: DomainEvent = { id: `wish.funded:${wishId}`, type: "wish.funded", wishId, ownerId: "rita", occurredAt: now };
    assert.deepEqual(await fanOutEvent(deps(), funded), { delivered: 2 });
    assert.deepEqual(await feedOf("ann", wishId), [`wish.created:${wishId}`, `wish.funded:${wishId}`].sort());
    assert.deepEqual(await fanOutEvent(deps(), revealed), { delivered: 1 });
    assert.deepEqual(await feedOf("rita", wishId), [`surprise.revealed:${wishId}`]);
  });

  describe("donation.received", () => {
    async function setup(): Promise<string> {
      await befriend("olga", "ann", "fred");
      const olga = await signedInClient("olga");
      const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
      await waitForFeed("fred", wishId);
      return wishId;
    }

    it("nothing when the donor has not switched showDonationsInFeed on (the default)", async () => {
      const wishId = await setup();
      assert.deepEqual(await fanOutEvent(deps(), donation(wishId, "ann", false)), { delivered: 0 });
      await adminDb().doc("users/ann/private/account").set({ settings: { showDonationsInFeed: false } });
      assert.deepEqual(await fanOutEvent(deps(), donation(wishId, "ann", false)), { delivered: 0 });
      assert.deepEqual(await feedOf("fred", wishId), [`wish.created:${wishId}`]);
      assert.equal((await adminDb().doc(`wishes/${wishId}/followers/ann`).get()).get("reason"), "donated", "the donor follows the wish anyway");
    });

    it("donations go into the wish's feed digest: one item per wish, anonymous donors counted, never named nor summed", async () => {
      const wishId = await setup();
      await adminDb().doc("users/ann/private/account").set({ settings: { showDonationsInFeed: true } });
      const d = deps();
      // An anonymous donation alone: the item names nobody and shows no amount.
      assert.deepEqual(await fanOutEvent(d, donation(wishId, "ann", true, "d1")), { delivered: 0 }, "the fold task writes the feeds");
      assert.equal(d.tasks.calls[0]?.queue, FEED_DIGEST_QUEUE);
      assert.deepEqual(await foldFeedDigest(d, wishId), { folded: 1, delivered: 3, itemId: `donations_${wishId}_1` });
      const anonymous = (await adminDb().doc(`users/fred/feed/donations_${wishId}_1`).get()).data();
      assert.ok(anonymous);
      assert.equal(anonymous.actorId, null);
      assert.equal(anonymous.amount, null);
      assert.equal(anonymous.currency, null);
      assert.ok(!JSON.stringify(anonymous).includes("ann"), "the anonymous item names nobody");
      // A named one (delivered twice) joins the same item: its donor and amount show, the anonymous one stays counted.
      await fanOutEvent(d, donation(wishId, "ann", false, "d2"));
      await fanOutEvent(d, donation(wishId, "ann", false, "d2"));
      assert.deepEqual(await foldFeedDigest(d, wishId), { folded: 1, delivered: 3, itemId: `donations_${wishId}_1` });
      const named = (await adminDb().doc(`users/fred/feed/donations_${wishId}_1`).get()).data();
      assert.equal(named?.actorId, "ann");
      assert.equal(named?.amount, 5000);
      assert.deepEqual(named?.digest, { ...named?.digest, donations: 2, anonymous: 1, amount: 5000, people: 2 });
      assert.deepEqual(await feedOf("fred", wishId), [`donations_${wishId}_1`, `wish.created:${wishId}`].sort());
      assert.deepEqual(await foldFeedDigest(d, wishId), { folded: 0, delivered: 0, itemId: null }, "nothing new: no write");
    });

    it("a lone named donor is not told of their own gift", async () => {
      const wishId = await setup();
      await adminDb().doc("users/ann/private/account").set({ settings: { showDonationsInFeed: true } });
      const d = deps();
      await fanOutEvent(d, donation(wishId, "ann", false, "d1"));
      assert.equal((await foldFeedDigest(d, wishId)).delivered, 2);
      assert.equal((await adminDb().doc(`users/ann/feed/donations_${wishId}_1`).get()).exists, false, "not to the donor");
    });
  });

  it("comment.added reaches followers who can see the wish: organizer, owner, earlier commenters and donors", async () => {
    await befriend("olga", "ann", "fred", "gus");
    await profile("ann", "Ann A.", "https://img.example.com/ann.png");
    await profile("gus", "Gus");
    const olga = await signedInClient("olga");
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    const gus = await signedInClient("gus");
    await addComment(gus.db, "gus", wishId, "First!");
    await waitFor("gus's comment event", async () => ((await adminDb().collection("events").where("type", "==", "comment.added").count().get()).data().count === 1 ? true : undefined));
    const ann = await signedInClient("ann");
    const commentId = await addComment(ann.db, "ann", wishId, "Happy birthday");
    const enriched = await waitFor("the comment trigger to add the author's name", async () => {
      const snap = await adminDb().doc(`wishes/${wishId}/comments/${commentId}`).get();
      return snap.get("authorName") ? snap.data() : undefined;
    });
    assert.equal(enriched?.authorPhotoUrl, "https://img.example.com/ann.png");
    const itemId = `comment.added:${wishId}_${commentId}`;
    await waitFor("olga and gus to hear about ann's comment", async () => {
      const [o, g] = await Promise.all([feedOf("olga", wishId), feedOf("gus", wishId)]);
      return o.includes(itemId) && g.includes(itemId) ? true : undefined;
    });
    await staysAbsent("fred (a viewer who does not follow) to get the comment", async () => {
      const ids = await feedOf("fred", wishId);
      return ids.includes(itemId) ? ids : undefined;
    });
    assert.ok(!(await feedOf("ann", wishId)).includes(itemId), "not to the author");
  });

  it("a comment posted again under the id of one its author deleted is stamped and announced like a new one", async () => {
    await befriend("olga", "ann");
    await profile("ann", "Ann A.", null);
    const olga = await signedInClient("olga");
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    const ann = await signedInClient("ann");
    const stamped = (commentId: string, text: string) =>
      waitFor(`the trigger to stamp "${text}"`, async () => {
        const snap = await adminDb().doc(`wishes/${wishId}/comments/${commentId}`).get();
        return snap.get("text") === text && snap.get("authorName") ? true : undefined;
      });
    const commentId = await addComment(ann.db, "ann", wishId, "First take");
    await stamped(commentId, "First take");
    await deleteDoc(doc(ann.db, `wishes/${wishId}/comments/${commentId}`));
    await writeComment(ann.db, "ann", wishId, { authorId: "ann", text: "Second take", createdAt: serverTimestamp() }, commentId);
    await stamped(commentId, "Second take");
    const events = await waitFor("both comment.added events", async () => {
      const snap = await adminDb().collection("events").where("type", "==", "comment.added").where("wishId", "==", wishId).get();
      return snap.size === 2 ? snap.docs.map((event) => String(event.get("id"))).sort() : undefined;
    });
    assert.equal(events[0], `comment.added:${wishId}/${commentId}`);
    assert.match(events[1] ?? "", new RegExp(`^comment\\.added:${wishId}/${commentId}@\\d+$`));
    await waitFor("olga's feed to show both comments", async () => {
      const items = await feedOf("olga", wishId);
      return events.every((id) => items.includes(id.replaceAll("/", "_"))) ? true : undefined;
    });
  });
});

function donation(wishId: string, donorId: string, anonymous: boolean, donationId = "d0"): DomainEvent {
  return {
    id: `donation.received:${donationId}`,
    type: "donation.received",
    wishId,
    donationId,
    donorId,
    amount: 5000,
    currency: "CZK",
    anonymous,
    occurredAt: new Date().toISOString(),
  };
}
