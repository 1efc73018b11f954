import assert from "node:assert/strict";
import { PLATFORM_FEE_BASIS_POINTS, platformFee } from "../../src/model/payout";
import type { PayoutAccount } from "../../src/model/payout";
import { holdOf, payoutTaskId, transferIdempotencyKey } from "../../src/payouts/payouts";

const t0 = new Date("2026-11-23T09:00:00Z");

function account(transfersActive: boolean): PayoutAccount {
  return {
    uid: "olga",
    provider: "stripe",
    accountId: "acct_olga",
    transfersActive,
    payoutsEnabled: transfersActive,
    detailsSubmitted: transfersActive,
    requirementsDue: transfersActive ? [] : ["external_account"],
    stateAt: t0.getTime(),
    createdAt: t0,
    updatedAt: t0,
  };
}

describe("payouts: platform fee", () => {
  it("the policy is 0 bps: the owner receives everything raised", () => {
    assert.equal(PLATFORM_FEE_BASIS_POINTS, 0);
    for (const gross of [0, 1, 9_999, 150_000, 1_000_000_000]) assert.equal(platformFee(gross), 0);
  });

  it("rounds down, so the owner never receives less than the policy says", () => {
    assert.equal(platformFee(10_001, 250), 250); // 250.025
    assert.equal(platformFee(10_000, 250), 250);
    assert.equal(platformFee(9_999, 250), 249); // 249.975
    assert.equal(platformFee(39, 250), 0); // 0.975
    assert.equal(platformFee(150_000, 10_000), 150_000);
  });

  it("is never negative and never more than the gross", () => {
    for (const bps of [0, 1, 250, 999, 10_000]) {
      for (const gross of [0, 1, 7, 399, 10_001, 123_457]) {
        const fee = platformFee(gross, bps);
        assert.ok(Number.isInteger(fee), `${gross} at ${bps} bps`);
        assert.ok(fee >= 0 && fee <= gross, `${gross} at ${bps} bps gave ${fee}`);
      }
    }
  });
});

describe("payouts: holdOf", () => {
  it("a frozen wish is on hold whatever the account's state (ops' freeze wins over onboarding)", () => {
    const expected = { status: "on_hold", reason: "wish_frozen" };
    assert.deepEqual(holdOf({ frozenAt: t0 }, account(true)), expected);
    assert.deepEqual(holdOf({ frozenAt: t0 }, account(false)), expected);
    assert.deepEqual(holdOf({ frozenAt: t0 }, undefined), expected);
  });

  it("without an account, or one that cannot receive transfers yet, the payout waits for onboarding", () => {
    const expected = { status: "pending_onboarding", reason: "owner_onboarding" };
    assert.deepEqual(holdOf({}, undefined), expected);
    assert.deepEqual(holdOf({ frozenAt: null }, undefined), expected);
    assert.deepEqual(holdOf({ frozenAt: null }, account(false)), expected);
  });

  it("an active account on a wish that is not frozen (never, or unfrozen) has no hold", () => {
    assert.equal(holdOf({}, account(true)), null);
    assert.equal(holdOf({ frozenAt: null }, account(true)), null);
  });
});

describe("payouts: idempotency keys and task ids", () => {
  it("are deterministic: the same (wish, seq, round) is the same request to Stripe", () => {
    assert.equal(transferIdempotencyKey("w1", 0, 0), transferIdempotencyKey("w1", 0, 0));
    assert.equal(payoutTaskId("w1", 3), payoutTaskId("w1", 3));
    assert.match(payoutTaskId("w1", 3), /^po-[0-9a-f]{40}$/);
  });

  it("transfer keys differ by wish, transfer number and round", () => {
    const keys = ["w1", "w2"].flatMap((wishId) => [0, 1, 2].flatMap((seq) => [0, 1, 2].map((round) => transferIdempotencyKey(wishId, seq, round))));
    assert.equal(new Set(keys).size, keys.length);
    // No ambiguity where seq and round meet: transfer 1 of round 11 is not transfer 11 of round 1.
    assert.notEqual(transferIdempotencyKey("w1", 1, 11), transferIdempotencyKey("w1", 11, 1));
  });

  it("task ids differ by wish and round, so a new round is a new task and a repeated enqueue is refused", () => {
    const ids = ["w1", "w2", "w3"].flatMap((wishId) => [0, 1, 2, 10].map((round) => payoutTaskId(wishId, round)));
    assert.equal(new Set(ids).size, ids.length);
  });
});
