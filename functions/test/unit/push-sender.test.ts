import assert from "node:assert/strict";
import { render } from "../../src/notifications/catalog";
import { buildPushMessage } from "../../src/notifications/push";
import type { PushMessage, PushResult, PushTransport } from "../../src/notifications/push";
import { MAX_BATCH, sendAll } from "../../src/notifications/sender";
import type { RetryPolicy } from "../../src/notifications/sender";

const message = (token: string): PushMessage =>
  buildPushMessage(token, {
    notificationId: "n1",
    type: "friend.joined",
    category: "friends",
    rendered: render("friend_joined", [{ text: "Jana" }], "en"),
    data: { userId: "u" },
    threadId: "friends",
    collapseKey: "friend-joined-u",
    badge: 1,
  });

/** A transport that answers per token from a script (consumed per call), recording each batch. */
function scriptedTransport(script: Record<string, (PushResult | "throw")[]>) {
  const batches: string[][] = [];
  const transport: PushTransport = {
    name: "scripted",
    sendEach(messages) {
      batches.push(messages.map((m) => m.token));
      const answers = messages.map((m) => script[m.token]?.shift() ?? { ok: true as const, messageId: `id-${m.token}` });
      if (answers.includes("throw")) return Promise.reject(new Error("socket hang up"));
      return Promise.resolve(answers.filter((a): a is PushResult => a !== "throw"));
    },
  };
  return { transport, batches };
}

function recordingPolicy(maxAttempts = 3): RetryPolicy & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { maxAttempts, baseDelayMs: 100, sleeps, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) };
}

const fail = (code: string, msg = ""): PushResult => ({ ok: false, code, message: msg });

describe("push sender: batches, retries, dead tokens", () => {
  it("sends at most 500 messages per sendEach call", async () => {
    const { transport, batches } = scriptedTransport({});
    const report = await sendAll(transport, Array.from({ length: 1201 }, (_, i) => message(`t${i}`)), recordingPolicy());
    assert.deepEqual(batches.map((b) => b.length), [MAX_BATCH, MAX_BATCH, 201]);
    assert.equal(report.delivered, 1201);
    assert.equal(report.attempts, 1);
  });

  it("retries only the transient failures, with growing backoff, and reports dead tokens", async () => {
    const { transport, batches } = scriptedTransport({
      flaky: [fail("messaging/server-unavailable"), fail("messaging/internal-error")],
      dead: [fail("messaging/registration-token-not-registered")],
      bad: [fail("messaging/invalid-argument", "The registration token is not a valid FCM registration token")],
      payload: [fail("messaging/invalid-argument", "Invalid JSON payload received.")],
    });
    const policy = recordingPolicy(3);
    const report = await sendAll(transport, ["ok", "flaky", "dead", "bad", "payload"].map(message), policy);
    assert.deepEqual(batches, [["ok", "flaky", "dead", "bad", "payload"], ["flaky"], ["flaky"]]);
    assert.equal(report.delivered, 2);
    assert.deepEqual(report.staleTokens, ["dead", "bad"]);
    assert.deepEqual(report.failed, [{ token: "payload", code: "messaging/invalid-argument" }]);
    assert.equal(policy.sleeps.length, 2);
    assert.ok(policy.sleeps[0]! >= 100 && policy.sleeps[0]! < 150, `first backoff ${policy.sleeps[0]}`);
    assert.ok(policy.sleeps[1]! >= 200 && policy.sleeps[1]! < 300, `second backoff ${policy.sleeps[1]}`);
  });

  it("gives up after maxAttempts and reports the last transient code", async () => {
    const unavailable = () => fail("messaging/server-unavailable");
    const { transport, batches } = scriptedTransport({ down: [unavailable(), unavailable(), unavailable(), unavailable()] });
    const report = await sendAll(transport, [message("down")], recordingPolicy(3));
    assert.equal(batches.length, 3);
    assert.deepEqual(report.failed, [{ token: "down", code: "messaging/server-unavailable" }]);
    assert.equal(report.delivered, 0);
  });

  it("treats a transport that throws as transient for the whole batch", async () => {
    const { transport, batches } = scriptedTransport({ a: ["throw"] });
    const report = await sendAll(transport, [message("a"), message("b")], recordingPolicy(3));
    assert.deepEqual(batches, [["a", "b"], ["a", "b"]]);
    assert.equal(report.delivered, 2);
  });
});
