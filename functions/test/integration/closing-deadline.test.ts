import assert from "node:assert/strict";
import { EARLY_DELIVERY_TOLERANCE_MS, WISH_DEADLINE_QUEUE, deadlineTaskId, deadlineTaskPayload, runDeadlineTask, sweepExpiredWishes } from "../../src/closing/deadline";
import { fixedClock } from "../helpers/clock";
import { adminDb } from "../../devtools/support/admin";
import { recordingTasks } from "../helpers/tasks";
import { outboxEvent, seedWish } from "../helpers/closing";
import { PROJECT_ID, REGION, emulatorAddress } from "../../devtools/support/emulators";
import { staysAbsent, waitFor } from "../helpers/wait";

const DAY = 24 * 60 * 60 * 1000;

async function wishStatus(wishId: string): Promise<string | undefined> {
  return (await adminDb().collection("wishes").doc(wishId).get()).get("status") as string | undefined;
}

describe("closing: wish deadlines (Cloud Tasks hops, sweep)", function () {
  // End-to-end cases wait for triggers and tasks in the shared, loaded emulator suite.
  this.timeout(300_000);

  it("a deadline 75 days out fires after its hops at +29 d and +58 d (injected clock)", async () => {
    const t0 = new Date(Date.now() + 60_000);
    const deadline = new Date(t0.getTime() + 75 * DAY);
    const wishId = await seedWish({ deadline });
    const clock = fixedClock(t0);
    const tasks = recordingTasks();
    const deps = { db: adminDb(), clock, tasks };
    const payload = (hop: number) => ({ wishId, deadline: deadline.toISOString(), hop });

    // Hop 0 was scheduled for t0 + 29 d; it runs then, before the deadline, and enqueues hop 1.
    clock.set(new Date(t0.getTime() + 29 * DAY));
    assert.equal(await runDeadlineTask(deps, deadlineTaskPayload.parse(payload(0)), clock.now()), "rescheduled");
    assert.equal(tasks.calls.length, 1);
    assert.equal(tasks.calls[0]?.queue, WISH_DEADLINE_QUEUE);
    assert.deepEqual(tasks.calls[0]?.payload, payload(1));
    assert.equal(tasks.calls[0]?.options.id, deadlineTaskId(wishId, deadline, 1));
    assert.equal(tasks.calls[0]?.options.scheduleTime?.toISOString(), new Date(t0.getTime() + 58 * DAY).toISOString());

    clock.set(new Date(t0.getTime() + 58 * DAY));
    assert.equal(await runDeadlineTask(deps, deadlineTaskPayload.parse(payload(1)), clock.now()), "rescheduled");
    assert.equal(tasks.calls[1]?.options.scheduleTime?.toISOString(), deadline.toISOString());
    assert.equal(await wishStatus(wishId), "open");

    clock.set(deadline);
    assert.equal(await runDeadlineTask(deps, deadlineTaskPayload.parse(payload(2)), clock.now()), "expired");
    const wish = await adminDb().collection("wishes").doc(wishId).get();
    assert.equal(wish.get("status"), "expired");
    assert.ok(wish.get("closedAt"));
    const event = await outboxEvent(`wish.expired:${wishId}`);
    assert.equal(event?.type, "wish.expired");
    assert.equal(event?.wishId, wishId);

    // The same last hop delivered again: nothing more happens.
    assert.equal(await runDeadlineTask(deps, deadlineTaskPayload.parse(payload(2)), clock.now()), "not-open");
    assert.equal(tasks.calls.length, 2);
  });

  it("a task delivered far too early stops the chain (the sweep covers it); a moved deadline makes old tasks stale", async () => {
    const t0 = new Date(Date.now() + 60_000);
    const deadline = new Date(t0.getTime() + 75 * DAY);
    const wishId = await seedWish({ deadline });
    const clock = fixedClock(t0);
    const tasks = recordingTasks();
    const deps = { db: adminDb(), clock, tasks };
    const scheduled = new Date(t0.getTime() + EARLY_DELIVERY_TOLERANCE_MS + 60_000);
    assert.equal(await runDeadlineTask(deps, { wishId, deadline: deadline, hop: 0 }, scheduled), "early-delivery");
    assert.equal(tasks.calls.length, 0);

    const moved = new Date(deadline.getTime() + DAY);
    await adminDb().collection("wishes").doc(wishId).update({ deadline: moved });
    clock.set(deadline);
    assert.equal(await runDeadlineTask(deps, { wishId, deadline: deadline, hop: 2 }, deadline), "stale");
    assert.equal(await wishStatus(wishId), "open");
    assert.equal(await runDeadlineTask(deps, { wishId: "no-such-wish", deadline: deadline, hop: 0 }), "missing");
  });

  it("end to end: an open wish whose deadline passes expires through the wishDeadline task chain", async () => {
    const wishId = await seedWish({ deadline: new Date(Date.now() + 3_000) });
    await waitFor("the wish to expire", async () => ((await wishStatus(wishId)) === "expired" ? true : undefined), { timeoutMs: 150_000 });
    assert.ok(await outboxEvent(`wish.expired:${wishId}`));
  });

  it("end to end: a wish funded before its deadline is not expired when the deadline passes", async () => {
    const deadline = new Date(Date.now() + 3_000);
    const wishId = await seedWish({ deadline });
    const control = await seedWish({ deadline });
    await adminDb().collection("wishes").doc(wishId).update({ status: "funded", raised: 100_000, fundedAt: new Date() });
    // The control wish (same deadline, still open) expiring proves the deadline chains ran past the deadline.
    await waitFor("the open control wish to expire", async () => ((await wishStatus(control)) === "expired" ? true : undefined), { timeoutMs: 150_000 });
    await staysAbsent("wish.expired for a funded wish", () => outboxEvent(`wish.expired:${wishId}`), 2_000);
    assert.equal(await wishStatus(wishId), "funded");
  });

  it("the sweep expires exactly the open wishes past their deadline", async () => {
    const now = Date.now();
    const due1 = await seedWish({ deadline: new Date(now + DAY) });
    const due2 = await seedWish({ deadline: new Date(now + 2 * DAY) });
    const later = await seedWish({ deadline: new Date(now + 10 * DAY) });
    const funded = await seedWish({ deadline: new Date(now + DAY), status: "funded" });
    const closed = await seedWish({ deadline: new Date(now + DAY), status: "closed", closedAt: new Date(now) });
    const clock = fixedClock(new Date(now + 3 * DAY));
    const result = await sweepExpiredWishes({ db: adminDb(), clock });
    assert.deepEqual([...result.expired].sort(), [due1, due2].sort());
    assert.equal(await wishStatus(due1), "expired");
    assert.equal(await wishStatus(later), "open");
    assert.equal(await wishStatus(funded), "funded");
    assert.equal(await wishStatus(closed), "closed");
    assert.deepEqual((await sweepExpiredWishes({ db: adminDb(), clock })).expired, [], "a second sweep finds nothing");
  });

  it("end to end: the scheduled sweep function, triggered through the emulator, expires a wish past its deadline", async () => {
    // Written with a deadline already past, the wish gets no deadline task (that is the sweep's case).
    const wishId = await seedWish({ deadline: new Date(Date.now() - 60_000) });
    await staysAbsent("a deadline task for an already-past deadline", async () => ((await wishStatus(wishId)) === "expired" ? true : undefined), 1_500);
    // "-0": the first generation of the emulator's trigger keys (a focused run that puts a rules test first reloads
    // the triggers as "-1"; `npm test` runs the rules tests last, see test/setup/root-hooks.ts).
    const url = `http://${await emulatorAddress("functions")}/functions/projects/${PROJECT_ID}/triggers/${REGION}-wishDeadlineSweep-0`;
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.ok(response.ok, `sweep trigger answered HTTP ${response.status}`);
    await waitFor("the sweep to expire the wish", async () => ((await wishStatus(wishId)) === "expired" ? true : undefined), { timeoutMs: 150_000 });
  });
});
