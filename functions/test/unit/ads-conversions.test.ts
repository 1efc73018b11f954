// Ads attribution (docs/analytics.md): the pure parts of the Conversions API consumer.
import assert from "node:assert/strict";
import { DEFAULT_SEND_POLICY, backoffMs, conversionOf, toMajorUnits } from "../../src/analytics/conversions";
import { conversionEventId, hashEmail, hashExternalId } from "../../src/meta/conversions";

describe("ads attribution: amounts, ids and hashes", () => {
  it("minor units become Meta's major units exactly, per the currency's exponent", () => {
    assert.equal(toMajorUnits(1999, 2), 19.99);
    assert.equal(toMajorUnits(1, 2), 0.01);
    assert.equal(toMajorUnits(150_000, 2), 1500);
    assert.equal(toMajorUnits(10_000_000, 2), 100_000);
    assert.equal(toMajorUnits(500, 0), 500, "a zero-decimal currency (JPY) is already major");
    assert.equal(toMajorUnits(12_345, 3), 12.345, "a three-decimal currency (KWD)");
    assert.equal(toMajorUnits(-250, 2), -2.5);
    // Every cent of the first 20 units prints as its two-decimal string.
    for (let minor = 0; minor < 2_000; minor++) assert.equal(String(toMajorUnits(minor, 2)), String(Number((minor / 100).toFixed(2))));
    assert.throws(() => toMajorUnits(19.99, 2), /not a minor-unit amount/);
  });

  it("event ids and identifiers are SHA-256 hex, normalised as Meta asks (known vectors the apps can check against)", () => {
    // The same vectors are in docs/analytics.md for the apps' own implementation.
    assert.equal(conversionEventId("user.signed_up:uid-1"), "19ef6af813487f63e83f1ceeb5bf9e6cee31a0d7a17fcc4470967f4f0b1f66ef");
    assert.equal(conversionEventId("donation.received:abc"), "7269bb7bf92bb747f58302a1f930192a6214ad6e61abd35204f825a44968b1bc");
    assert.equal(hashExternalId("uid-1"), "4a49acf8a6bd727728495d1e541a840898fcc36747cdcdb9e8e68effc62bb15c");
    assert.equal(hashEmail("  Ann@Example.COM "), "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476");
    assert.notEqual(hashExternalId("Uid"), hashExternalId("uid"), "uids are case-sensitive: not lower-cased");
    assert.match(conversionEventId("user.signed_up:x"), /^[0-9a-f]{64}$/);
  });

  it("only a sign-up and a donation are conversions, each of the person it is about", () => {
    const at = "2026-11-23T10:00:00.000Z";
    assert.deepEqual(conversionOf({ id: "user.signed_up:u", type: "user.signed_up", userId: "u", occurredAt: at }), { uid: "u", eventName: "CompleteRegistration", donationId: null });
    assert.deepEqual(
      conversionOf({ id: "donation.received:d", type: "donation.received", wishId: "w", donationId: "d", donorId: "g", amount: 100, currency: "CZK", anonymous: true, occurredAt: at }),
      { uid: "g", eventName: "Donate", donationId: "d" },
    );
    assert.equal(conversionOf({ id: "wish.funded:w", type: "wish.funded", wishId: "w", ownerId: "o", occurredAt: at }), null);
  });

  it("backoff doubles from a minute up to an hour", () => {
    assert.deepEqual([1, 2, 3, 7, 8, 20].map((n) => backoffMs(DEFAULT_SEND_POLICY, n) / 60_000), [1, 2, 4, 60, 60, 60]);
  });
});
