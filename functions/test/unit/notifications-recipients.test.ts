import assert from "node:assert/strict";
import type { DomainEvent } from "../../src/events/schema";
import type { Wish } from "../../src/model/wish";
import { mayKnowAbout, planNotifications } from "../../src/notifications/recipients";
import type { Directory } from "../../src/notifications/recipients";
import { newWishState } from "../../src/model/wish";

const at = "2026-11-23T10:00:00.000Z";

function wish(overrides: Partial<Wish> = {}): Wish {
  const now = new Date(at);
  return {
    ownerId: "owner",
    organizerId: "owner",
    isSurprise: false,
    title: "Bike",
    description: "",
    imageUrl: null,
    amount: 500_000,
    currency: "CZK",
    deadline: now,
    audience: { kind: "friends", groupIds: [], userIds: [] },
    viewerIds: ["owner", "friend", "donor1", "donor2"],
    ...newWishState(now),
    ...overrides,
  };
}

const surprise = (overrides: Partial<Wish> = {}) =>
  wish({ ownerId: "bday", organizerId: "org", isSurprise: true, viewerIds: ["org", "donor1", "donor2"], raised: 500_000, ...overrides });

function dir(w: Wish | undefined, donors: string[] = ["donor1", "donor2"]): Directory {
  return {
    wish: () => Promise.resolve(w),
    displayName: (uid) => Promise.resolve(`Name of ${uid}`),
    donorIds: () => Promise.resolve(donors),
  };
}

async function who(event: DomainEvent, directory: Directory) {
  const { planned } = await planNotifications(event, directory);
  return planned.map((p) => `${p.recipientId}:${p.messageKey}`);
}

const donation = (anonymous: boolean, donorId = "donor1"): DomainEvent => ({
  id: `donation.received:d-${donorId}`,
  occurredAt: at,
  type: "donation.received",
  wishId: "w1",
  donationId: "d1",
  donorId,
  amount: 20_000,
  currency: "CZK",
  anonymous,
});

describe("notification recipients (event → who → which message)", () => {
  it("donation.received → the owner, naming the donor unless anonymous", async () => {
    const named = await planNotifications(donation(false), dir(wish()));
    assert.deepEqual(named.planned, [
      {
        recipientId: "owner",
        category: "donations",
        messageKey: "donation_received_named",
        args: [{ text: "Name of donor1" }, { amount: 20_000, currency: "CZK" }, { text: "Bike" }],
        data: { wishId: "w1", donationId: "d1" },
        threadId: "w1",
        collapseKey: "donations-w1",
        donation: { donorName: "Name of donor1", wishTitle: "Bike" },
      },
    ]);
    const anonymous = await planNotifications(donation(true), dir(wish()));
    assert.equal(anonymous.planned[0]?.messageKey, "donation_received_anonymous");
    assert.deepEqual(anonymous.planned[0]?.args, [{ amount: 20_000, currency: "CZK" }, { text: "Bike" }]);
    assert.ok(!JSON.stringify(anonymous.planned).includes("donor1"), "an anonymous donor is never named or linked");
  });

  it("donation.received on an unrevealed surprise → the organizer, never the recipient", async () => {
    assert.deepEqual(await who(donation(false), dir(surprise())), ["org:donation_received_named"]);
    assert.deepEqual(await who(donation(false, "org"), dir(surprise())), [], "the organizer's own donation notifies nobody");
  });

  it("wish.funded → owner, organizer and donors (each once); a surprise's recipient is left to surprise.revealed", async () => {
    const event: DomainEvent = { id: "wish.funded:w1", occurredAt: at, type: "wish.funded", wishId: "w1", ownerId: "owner" };
    assert.deepEqual(await who(event, dir(wish(), ["donor1", "donor2", "owner"])), [
      "owner:wish_funded_owner",
      "donor1:wish_funded_supporter",
      "donor2:wish_funded_supporter",
    ]);
    const revealedAndFunded = surprise({ viewerIds: ["org", "donor1", "donor2", "bday"], revealedAt: new Date(at) });
    assert.deepEqual(await who({ ...event, ownerId: "bday" }, dir(revealedAndFunded, ["donor1", "org"])), [
      "org:wish_funded_supporter",
      "donor1:wish_funded_supporter",
    ]);
  });

  it("surprise.revealed → the recipient, only once the wish says it is revealed", async () => {
    const event: DomainEvent = { id: "surprise.revealed:w1", occurredAt: at, type: "surprise.revealed", wishId: "w1", ownerId: "bday", organizerId: "org" };
    const revealed = await planNotifications(event, dir(surprise({ revealedAt: new Date(at), viewerIds: ["org", "bday"] })));
    assert.deepEqual(revealed.planned.map((p) => [p.recipientId, p.messageKey, p.args]), [
      ["bday", "surprise_revealed", [{ text: "Name of org" }, { amount: 500_000, currency: "CZK" }, { text: "Bike" }]],
    ]);
    const early = await planNotifications(event, dir(surprise()));
    assert.deepEqual(early.planned, []);
    assert.deepEqual(early.skipped, [{ recipientId: "bday", reason: "may not know about this wish" }]);
  });

  it("wish.closed / wish.expired → the donors (not who closed it); refund.processed → the donor; payout.sent → the owner", async () => {
    const closed: DomainEvent = { id: "wish.closed:w1", occurredAt: at, type: "wish.closed", wishId: "w1", ownerId: "owner", closedBy: "owner" };
    assert.deepEqual(await who(closed, dir(wish(), ["donor1", "donor2"])), ["donor1:wish_closed", "donor2:wish_closed"]);
    const expired: DomainEvent = { id: "wish.expired:w1", occurredAt: at, type: "wish.expired", wishId: "w1", ownerId: "owner" };
    assert.deepEqual(await who(expired, dir(wish(), ["donor2"])), ["donor2:wish_expired"]);
    const refund: DomainEvent = {
      id: "refund.processed:r1", occurredAt: at, type: "refund.processed", wishId: "w1", donationId: "d1", donorId: "donor1", amount: 20_000, currency: "CZK",
    };
    const refunded = await planNotifications(refund, dir(wish()));
    assert.deepEqual(refunded.planned.map((p) => [p.recipientId, p.category, p.messageKey, p.data]), [
      ["donor1", "payments", "refund_processed", { wishId: "w1", donationId: "d1" }],
    ]);
    const payout: DomainEvent = { id: "payout.sent:w1", occurredAt: at, type: "payout.sent", wishId: "w1", ownerId: "owner", amount: 480_000, currency: "CZK" };
    assert.deepEqual(await who(payout, dir(wish({ status: "funded" }))), ["owner:payout_sent"]);
  });

  it("comment.added → owner and organizer, never the author, never an unrevealed surprise's recipient", async () => {
    const comment = (authorId: string): DomainEvent => ({ id: `comment.added:c-${authorId}`, occurredAt: at, type: "comment.added", wishId: "w1", commentId: "c1", authorId });
    assert.deepEqual(await who(comment("friend"), dir(wish())), ["owner:comment_added"]);
    assert.deepEqual(await who(comment("owner"), dir(wish())), []);
    assert.deepEqual(await who(comment("donor1"), dir(surprise())), ["org:comment_added"]);
    const planned = await planNotifications(comment("friend"), dir(wish()));
    assert.deepEqual(planned.planned[0]?.data, { wishId: "w1", commentId: "c1" });
  });

  it("friend events → the other party / the friends, linking to the user", async () => {
    const received: DomainEvent = { id: "fr:a_b", occurredAt: at, type: "friend_request.received", fromId: "a", toId: "b" };
    const { planned } = await planNotifications(received, dir(undefined));
    assert.deepEqual(planned, [
      {
        recipientId: "b",
        category: "friends",
        messageKey: "friend_request_received",
        args: [{ text: "Name of a" }],
        data: { userId: "a" },
        threadId: "friends",
        collapseKey: "friend-request-a",
      },
    ]);
    const accepted: DomainEvent = { id: "fa:a_b", occurredAt: at, type: "friend_request.accepted", fromId: "a", toId: "b" };
    assert.deepEqual(await who(accepted, dir(undefined)), ["a:friend_request_accepted"]);
    const joined: DomainEvent = { id: "fj:n", occurredAt: at, type: "friend.joined", userId: "n", friendIds: ["a", "b", "n", "a"] };
    assert.deepEqual(await who(joined, dir(undefined)), ["a:friend_joined", "b:friend_joined"]);
  });

  it("wish.created notifies nobody; an event about a missing wish notifies nobody", async () => {
    const created: DomainEvent = { id: "wish.created:w1", occurredAt: at, type: "wish.created", wishId: "w1", ownerId: "owner", organizerId: "owner" };
    assert.deepEqual(await who(created, dir(wish())), []);
    assert.deepEqual(await who(donation(false), dir(undefined)), []);
  });

  it("mayKnowAbout: viewers, owner and organizer; an unrevealed surprise's owner never", () => {
    assert.equal(mayKnowAbout(wish(), "friend"), true);
    assert.equal(mayKnowAbout(wish(), "stranger"), false);
    assert.equal(mayKnowAbout(surprise(), "bday"), false);
    assert.equal(mayKnowAbout(surprise({ viewerIds: ["org", "bday"] }), "bday"), false, "in viewerIds but not yet revealed");
    assert.equal(mayKnowAbout(surprise({ revealedAt: new Date(at) }), "bday"), true);
    assert.equal(mayKnowAbout(surprise(), "org"), true);
  });
});
