import assert from "node:assert/strict";
import { HttpsError } from "firebase-functions/v2/https";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { awaitScheduleTime } from "../../src/api/tasks";

// The Cloud Tasks emulator dispatches a task at once, whatever its scheduleTime (src/api/tasks.ts).
const dispatched = (scheduledInMs: number) => ({ scheduledTime: new Date(Date.now() + scheduledInMs).toISOString() }) as TaskRequest;

describe("interval folds and the emulator's early dispatch (awaitScheduleTime)", () => {
  it("runs a task due now or overdue at once", async () => {
    const started = Date.now();
    await awaitScheduleTime(dispatched(0), "q");
    await awaitScheduleTime(dispatched(-5_000), "q");
    assert.ok(Date.now() - started < 100);
  });

  it("waits for a schedule time at most 2 s away (a one-second fold) instead of a retry", async () => {
    const started = Date.now();
    await awaitScheduleTime(dispatched(400), "q");
    assert.ok(Date.now() - started >= 350, `waited ${Date.now() - started} ms`);
  });

  it("refuses a task due later than that with 503 (unavailable), so that Cloud Tasks retries it", async () => {
    await assert.rejects(awaitScheduleTime(dispatched(10_000), "q"), (error: unknown) => error instanceof HttpsError && error.code === "unavailable");
  });
});
