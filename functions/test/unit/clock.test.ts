import assert from "node:assert/strict";
import { fixedClock } from "../helpers/clock";

describe("fixedClock", () => {
  it("moves only when told to", () => {
    const clock = fixedClock(new Date("2026-01-01T00:00:00Z"));
    assert.equal(clock.now().toISOString(), "2026-01-01T00:00:00.000Z");
    clock.advance(90_000);
    assert.equal(clock.now().toISOString(), "2026-01-01T00:01:30.000Z");
    clock.set(new Date("2027-05-05T05:05:05Z"));
    assert.equal(clock.now().getUTCFullYear(), 2027);
  });
});
