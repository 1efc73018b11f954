// Per-user rate limits on the callables (docs/security.md "Rate limits"), through the client SDK: over the limit the
// answer is resource-exhausted with when to retry, in the message and in details, and nothing is written. The windows
// are seeded at the limit instead of making dozens of calls. (The comments limit is the rules' job: test/rules/trust.test.ts.)
import assert from "node:assert/strict";
import { FunctionsError } from "firebase/functions";
import { RATE_LIMITS } from "../../src/config";
import type { RateLimitedAction } from "../../src/config";
import { admit } from "../../src/lib/admission";
import { systemClock } from "../../src/lib/clock";
import { rateWindowDoc } from "../../src/lib/rate-limit";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import type { TestClient } from "../../devtools/support/clients";
import { befriend, profile, wishInput } from "../helpers/wish-fixtures";

const MINUTE = 60_000;

/** `uid`'s window for `action`, full since `startedAgoMs`. */
async function fullWindow(uid: string, action: RateLimitedAction, startedAgoMs: number): Promise<Date> {
  const windowStart = new Date(Date.now() - startedAgoMs);
  await adminDb().doc(rateWindowDoc(uid, action)).set({ windowStart, count: RATE_LIMITS[action].max, last: new Date(), lastKey: action });
  return windowStart;
}

async function expectLimited(call: Promise<unknown>, action: RateLimitedAction, windowStart: Date): Promise<void> {
  const retryAt = new Date(windowStart.getTime() + RATE_LIMITS[action].windowSeconds * 1000).toISOString();
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof FunctionsError, String(error));
    assert.equal(error.code, "functions/resource-exhausted", error.message);
    assert.match(error.message, new RegExp(`Too many ${RATE_LIMITS[action].noun}: at most ${RATE_LIMITS[action].max} per .*Try again after ${retryAt.replace(/\./g, "\\.")}`));
    const details = error.details as { action: string; retryAt: string; retryAfterSeconds: number; limit: number };
    assert.equal(details.action, action);
    assert.equal(details.retryAt, retryAt);
    assert.equal(details.limit, RATE_LIMITS[action].max);
    assert.ok(details.retryAfterSeconds > 0);
    return true;
  });
}

describe("rate limits on the callables", function () {
  this.timeout(120_000);

  it("friend requests, new wishes, donations and reports: over the limit is resource-exhausted with when to retry, and writes nothing", async () => {
    await befriend("olga", "ann");
    const [olga, ann] = await Promise.all([signedInClient("olga"), signedInClient("ann"), signedInClient("sam")]);
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    const attempts: [RateLimitedAction, TestClient, string, Record<string, unknown>][] = [
      ["friendRequests", olga, "sendFriendRequest", { toUid: "sam" }],
      ["wishes", olga, "createWish", wishInput()],
      ["donations", ann, "donate", { wishId, amount: 5000, currency: "CZK" }],
      ["reports", ann, "reportContent", { wishId, reason: "spam" }],
    ];
    for (const [action, client, name, input] of attempts) {
      const windowStart = await fullWindow(client.uid, action, 5 * MINUTE);
      await expectLimited(client.call(name, input), action, windowStart);
    }
    assert.equal((await adminDb().collection("friendRequests").count().get()).data().count, 0);
    assert.equal((await adminDb().collection("wishes").count().get()).data().count, 1);
    assert.equal((await adminDb().collection("donations").count().get()).data().count, 0);
    assert.equal((await adminDb().collection("ops/moderation/cases").count().get()).data().count, 0);
  });

  it("a new window starts once the old one has ended; refused attempts count too", async () => {
    const olga = await signedInClient("olga");
    await signedInClient("sam");
    const { windowSeconds } = RATE_LIMITS.friendRequests;
    await fullWindow("olga", "friendRequests", windowSeconds * 1000 + MINUTE);
    await olga.call("sendFriendRequest", { toUid: "sam" });
    const window = (await adminDb().doc(rateWindowDoc("olga", "friendRequests")).get()).data();
    assert.equal(window?.count, 1);
    assert.ok(Date.now() - (window?.windowStart as { toMillis(): number }).toMillis() < MINUTE, "the new window starts now");
    // An attempt that fails (no such user) still counts: the limit is on what a client may try.
    await assert.rejects(olga.call("sendFriendRequest", { toUid: "nobody" }), /no such user/);
    assert.equal((await adminDb().doc(rateWindowDoc("olga", "friendRequests")).get()).get("count"), 2);
  });

  it("concurrent calls of one user are each counted once, and exactly the limit get through (no lock, no lost count)", async () => {
    await profile("dana", "Dana");
    const { max } = RATE_LIMITS.donations;
    const results = await Promise.allSettled(Array.from({ length: max + 4 }, () => admit({ db: adminDb(), clock: systemClock }, "dana", "donations")));
    const refused = results.filter((result) => result.status === "rejected");
    assert.equal(results.length - refused.length, max);
    for (const result of refused) assert.equal((result.reason as { code?: string }).code, "resource-exhausted");
    assert.equal((await adminDb().doc(rateWindowDoc("dana", "donations")).get()).get("count"), max);
  });
});
