import assert from "node:assert/strict";
import { MAX_HOP_MS, deadlineTaskId, nextHopTime } from "../../src/closing/deadline";
import { closingActions } from "../../src/closing/trigger";

/**
 * Every hop time from `now` to `deadline`, assuming each task runs exactly when scheduled: a deadline 75 days out
 * gives +29 d, +58 d, then the deadline. The chain the deadline task walks, hop by hop (nextHopTime).
 */
function planHops(deadline: Date, now: Date): Date[] {
  const hops: Date[] = [];
  let at = now;
  do {
    at = nextHopTime(deadline, at);
    hops.push(at);
  } while (at.getTime() < deadline.getTime());
  return hops;
}

const DAY = 24 * 60 * 60 * 1000;
const t0 = new Date("2026-11-23T09:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("closing: deadline hop planning", () => {
  it("a deadline 75 days out is reached in hops at +29 d, +58 d, then the deadline", () => {
    const deadline = at(75 * DAY);
    assert.deepEqual(
      planHops(deadline, t0).map((d) => d.toISOString()),
      [at(29 * DAY), at(58 * DAY), deadline].map((d) => d.toISOString()),
    );
  });

  it("never schedules further than 29 days ahead (Cloud Tasks refuses more than 30)", () => {
    const deadline = at(365 * DAY);
    let previous = t0;
    for (const hop of planHops(deadline, t0)) {
      assert.ok(hop.getTime() - previous.getTime() <= MAX_HOP_MS);
      assert.ok(hop.getTime() - previous.getTime() < 30 * DAY);
      previous = hop;
    }
    assert.equal(previous.toISOString(), deadline.toISOString());
  });

  it("a near or past deadline is a single hop at the deadline", () => {
    assert.deepEqual(planHops(at(5_000), t0), [at(5_000)]);
    assert.equal(nextHopTime(at(-5_000), t0).toISOString(), at(-5_000).toISOString());
  });

  it("task ids are deterministic, hashed, and differ by wish, deadline and hop", () => {
    const id = deadlineTaskId("w1", at(DAY), 0);
    assert.equal(id, deadlineTaskId("w1", at(DAY), 0));
    assert.match(id, /^wd-[0-9a-f]{40}$/);
    const others = [deadlineTaskId("w2", at(DAY), 0), deadlineTaskId("w1", at(2 * DAY), 0), deadlineTaskId("w1", at(DAY), 1)];
    assert.equal(new Set([id, ...others]).size, 4);
  });
});

describe("closing: what a wish write asks for", () => {
  const open = { status: "open" as const, deadline: at(DAY), raised: 0, frozen: false };
  it("a created open wish schedules its deadline", () => {
    assert.deepEqual(closingActions(undefined, open, t0), [{ kind: "schedule-deadline", deadline: open.deadline }]);
  });
  it("a moved deadline reschedules; an unrelated update does nothing", () => {
    assert.deepEqual(closingActions(open, { ...open, deadline: at(2 * DAY) }, t0), [{ kind: "schedule-deadline", deadline: at(2 * DAY) }]);
    assert.deepEqual(closingActions(open, { ...open }, t0), []);
  });
  it("open → closed or expired refunds everyone, once", () => {
    assert.deepEqual(closingActions(open, { ...open, status: "closed" }, t0), [{ kind: "refund-all", reason: "closed" }]);
    assert.deepEqual(closingActions(open, { ...open, status: "expired" }, t0), [{ kind: "refund-all", reason: "expired" }]);
    assert.deepEqual(closingActions({ ...open, status: "closed" }, { ...open, status: "closed" }, t0), []);
  });
  it("a deadline already past when the wish was written is left to the sweep", () => {
    assert.deepEqual(closingActions(undefined, open, at(2 * DAY)), []);
  });
  it("a deleted wish asks for nothing", () => {
    assert.deepEqual(closingActions(open, undefined, t0), []);
  });
  it("open → funded pays out (no refunds); so does a funded wish whose total changes or that ops unfreeze", () => {
    const funded = { ...open, status: "funded" as const, raised: 100_000 };
    assert.deepEqual(closingActions({ ...open, raised: 100_000 }, funded, t0), [{ kind: "pay-out" }]);
    assert.deepEqual(closingActions(funded, { ...funded, raised: 120_000 }, t0), [{ kind: "pay-out" }]);
    assert.deepEqual(closingActions({ ...funded, frozen: true }, funded, t0), [{ kind: "pay-out" }]);
    // Anything else on a funded wish (a redelivered write, a freeze, a title edit) asks for nothing.
    assert.deepEqual(closingActions(funded, { ...funded }, t0), []);
    assert.deepEqual(closingActions(funded, { ...funded, frozen: true }, t0), []);
  });
});
