import assert from "node:assert/strict";
import { adminDb } from "../../devtools/support/admin";
import { anonymousClient, signedInClient } from "../../devtools/support/clients";
import { outboxEvent, seedWish } from "../helpers/closing";

async function wish(wishId: string) {
  return (await adminDb().collection("wishes").doc(wishId).get()).data();
}

/** The callable's error code ("functions/permission-denied" → "permission-denied"). */
async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: string }).code).replace(/^functions\//, "");
  }
  assert.fail("expected the call to fail");
}

describe("closing: closeWish callable (F9)", function () {
  this.timeout(300_000);

  it("the owner closes an open wish: status closed, closedAt, one wish.closed event", async () => {
    const wishId = await seedWish();
    const owner = await signedInClient("owner");
    assert.deepEqual(await owner.call("closeWish", { wishId }), { status: "closed" });
    const data = await wish(wishId);
    assert.equal(data?.status, "closed");
    assert.ok(data?.closedAt);
    const event = await outboxEvent(`wish.closed:${wishId}`);
    assert.equal(event?.type, "wish.closed");
    assert.equal(event?.closedBy, "owner");
  });

  it("closing twice, or a funded/expired wish, is failed-precondition and changes nothing", async () => {
    const wishId = await seedWish();
    const owner = await signedInClient("owner");
    await owner.call("closeWish", { wishId });
    const closedAt = (await wish(wishId))?.closedAt as unknown;
    assert.equal(await errorCode(owner.call("closeWish", { wishId })), "failed-precondition");
    assert.deepEqual((await wish(wishId))?.closedAt, closedAt);

    const funded = await seedWish({ status: "funded", raised: 100_000 });
    assert.equal(await errorCode(owner.call("closeWish", { wishId: funded })), "failed-precondition");
    assert.equal((await wish(funded))?.status, "funded");
    const expired = await seedWish({ status: "expired" });
    assert.equal(await errorCode(owner.call("closeWish", { wishId: expired })), "failed-precondition");
  });

  it("a surprise is closed by its organizer; its hidden recipient gets the same answer as for a missing wish", async () => {
    const wishId = await seedWish({ ownerId: "recipient", organizerId: "organizer", isSurprise: true, viewerIds: ["organizer", "friend"] });
    const recipient = await signedInClient("recipient");
    const recipientCode = await errorCode(recipient.call("closeWish", { wishId }));
    const missingCode = await errorCode(recipient.call("closeWish", { wishId: "no-such-wish" }));
    assert.equal(recipientCode, "permission-denied");
    assert.equal(missingCode, recipientCode);
    assert.equal((await wish(wishId))?.status, "open");
    const organizer = await signedInClient("organizer");
    await organizer.call("closeWish", { wishId });
    assert.equal((await wish(wishId))?.status, "closed");
  });

  it("a viewer who is not the organizer, or a stranger, cannot close it", async () => {
    const wishId = await seedWish();
    const friend = await signedInClient("friend");
    assert.equal(await errorCode(friend.call("closeWish", { wishId })), "permission-denied");
    const stranger = await signedInClient("stranger");
    assert.equal(await errorCode(stranger.call("closeWish", { wishId })), "permission-denied");
    assert.equal((await wish(wishId))?.status, "open");
    assert.equal(await outboxEvent(`wish.closed:${wishId}`), undefined);
  });

  it("rejects bad input and anonymous callers", async () => {
    const owner = await signedInClient("owner");
    assert.equal(await errorCode(owner.call("closeWish", {})), "invalid-argument");
    assert.equal(await errorCode(owner.call("closeWish", { wishId: "x", extra: 1 })), "invalid-argument");
    const anonymous = await anonymousClient();
    assert.equal(await errorCode(anonymous.call("closeWish", { wishId: "x" })), "unauthenticated");
  });
});
