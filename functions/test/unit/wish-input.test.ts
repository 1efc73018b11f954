// createWish / setWishAudience input validation (pure: no emulators).
import assert from "node:assert/strict";
import fc from "fast-check";
import { DomainError, parseInput } from "../../src/lib/errors";
import { CURRENCIES } from "../../src/model/money";
import { audienceInputSchema, createWishInput } from "../../src/wishes/input";
import { chunk, inParallel } from "../../src/lib/pool";
import { decodeDomainEvent } from "../../src/events/consume";

const NOW = new Date("2026-11-23T10:00:00Z");
const DAY = 86_400_000;

function valid(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: "Bike",
    amount: 150_000,
    currency: "CZK",
    deadline: new Date(NOW.getTime() + 10 * DAY).toISOString(),
    audience: { kind: "friends" },
    ...over,
  };
}

function errorOf(data: unknown): string {
  try {
    parseInput(createWishInput(NOW), data);
  } catch (error) {
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, "invalid-argument");
    return error.message;
  }
  return assert.fail("expected invalid-argument");
}

describe("createWish input", () => {
  it("accepts a minimal wish and fills the defaults", () => {
    const input = parseInput(createWishInput(NOW), valid());
    assert.equal(input.description, "");
    assert.equal(input.imageUrl, null);
    assert.deepEqual(input.audience, { kind: "friends", groupIds: [], userIds: [] });
    assert.ok(input.deadline instanceof Date);
    assert.equal(input.recipientId, undefined);
  });

  it("trims the title and de-duplicates audience ids", () => {
    const input = parseInput(createWishInput(NOW), valid({ title: "  Bike  ", audience: { kind: "people", userIds: ["a", "a", "b"] } }));
    assert.equal(input.title, "Bike");
    assert.deepEqual(input.audience.userIds, ["a", "b"]);
  });

  it("deadline: strictly in the future and at most a year ahead", () => {
    assert.match(errorOf(valid({ deadline: NOW.toISOString() })), /Field 'deadline': must be in the future/);
    assert.match(errorOf(valid({ deadline: new Date(NOW.getTime() + 367 * DAY).toISOString() })), /Field 'deadline': must be at most one year ahead/);
    assert.doesNotThrow(() => parseInput(createWishInput(NOW), valid({ deadline: new Date(NOW.getTime() + 365 * DAY).toISOString() })));
    assert.match(errorOf(valid({ deadline: "2027-01-01" })), /Field 'deadline'/);
  });

  it("amount: accepted exactly within each currency's min..max, rejected outside, naming the field", () => {
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(CURRENCIES) as (keyof typeof CURRENCIES)[])), fc.integer({ min: 0, max: 20_000_000 }), (currency, amount) => {
        const { minMinor, maxMinor } = CURRENCIES[currency];
        const data = valid({ currency, amount });
        if (amount >= minMinor && amount <= maxMinor) parseInput(createWishInput(NOW), data);
        else assert.match(errorOf(data), /Field 'amount': must be between/);
      }),
    );
  });

  it("rejects each bad field with a message naming it", () => {
    assert.match(errorOf(valid({ currency: "BTC" })), /Field 'currency'/);
    assert.match(errorOf(valid({ amount: "100" })), /Field 'amount'/);
    assert.match(errorOf(valid({ title: "" })), /Field 'title'/);
    assert.match(errorOf(valid({ imageUrl: "ftp://x.com/a.png" })), /Field 'imageUrl': must be an https URL/);
    assert.match(errorOf(valid({ recipientId: "" })), /Field 'recipientId'/);
    assert.match(errorOf(valid({ raised: 5 })), /raised/);
    assert.match(errorOf(undefined), /Field 'title'/);
  });
});

describe("audience input", () => {
  it("requires ids for groups/people and forbids them otherwise", () => {
    assert.equal(audienceInputSchema.safeParse({ kind: "groups" }).success, false);
    assert.equal(audienceInputSchema.safeParse({ kind: "people", userIds: [] }).success, false);
    assert.equal(audienceInputSchema.safeParse({ kind: "friends", userIds: ["a"] }).success, false);
    assert.equal(audienceInputSchema.safeParse({ kind: "people", groupIds: ["g"], userIds: ["a"] }).success, false);
    assert.equal(audienceInputSchema.safeParse({ kind: "groups", groupIds: ["g"] }).success, true);
    assert.equal(audienceInputSchema.safeParse({ kind: "people", userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`) }).success, false);
  });
});

describe("feed helpers", () => {
  it("chunk splits into batches of at most 500", () => {
    const sizes = chunk(Array.from({ length: 1201 }, (_, i) => i), 500).map((c) => c.length);
    assert.deepEqual(sizes, [500, 500, 201]);
    assert.deepEqual(chunk([], 500), []);
  });

  it("inParallel visits every item once with bounded concurrency", async () => {
    let active = 0;
    let peak = 0;
    const seen: number[] = [];
    await inParallel(Array.from({ length: 50 }, (_, i) => i), 4, async (i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(i);
      active--;
    });
    assert.equal(peak, 4);
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  });

  it("decodeDomainEvent (the one policy of every consumer) names why a message is not JSON or not a domain event", () => {
    const encode = (text: string) => Buffer.from(text, "utf8").toString("base64");
    assert.deepEqual(decodeDomainEvent(encode("{nope")), { ok: false, reason: "message data is not JSON", raw: "{nope" });
    const wrong = decodeDomainEvent(encode(JSON.stringify({ type: "nope" })));
    assert.equal(wrong.ok, false);
    assert.match(wrong.ok ? "" : wrong.reason, /^not a domain event: Field '/);
    const event = decodeDomainEvent(encode(JSON.stringify({ id: "wish.created:w", type: "wish.created", wishId: "w", ownerId: "o", organizerId: "o", occurredAt: NOW.toISOString() })));
    assert.equal(event.ok && event.event.type, "wish.created");
  });
});
