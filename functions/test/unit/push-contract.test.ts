// Contract between our two push transports: production hands a PushMessage to firebase-admin's sendEach; the
// emulator transport POSTs toFcmV1Json(message) to the fake FCM. Both must put the same FCM v1 JSON on the wire, and
// map FCM's error answers to the same `messaging/...` codes.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { FirebaseMessagingError } from "firebase-admin/messaging";
import { fcmErrorBody, startFakeFcm } from "../../devtools/fakes/fcm";
import type { FakeFcm, FcmFailure } from "../../devtools/fakes/fcm";
import { render } from "../../src/notifications/catalog";
import { FCM_ERROR_CODES, buildPushMessage, fcmErrorCode, httpFcmTransport, toFcmV1Json } from "../../src/notifications/push";
import type { PushMessage } from "../../src/notifications/push";
import { isStaleTokenError } from "../../src/notifications/sender";

// firebase-admin's own conversion (the step sendEach runs before it sends `{message}`); not a public export.
const requireFromHere = createRequire(__filename);
const adminInternal = requireFromHere(path.join(path.dirname(requireFromHere.resolve("firebase-admin")), "messaging", "messaging-internal.js")) as {
  validateMessage(message: unknown): void;
};
const adminErrors = FirebaseMessagingError as unknown as { fromServerError(code: string, message?: string, raw?: object): { code: string } };

function adminWireJson(message: PushMessage): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(message));
  adminInternal.validateMessage(copy);
  return copy;
}

function sample(token: string, locale: "en" | "cs"): PushMessage {
  return buildPushMessage(token, {
    notificationId: "donation.received:d1",
    type: "donation.received",
    category: "donations",
    rendered: render("donation_received_named", [{ text: "Jana" }, { amount: 150_000, currency: "CZK" }, { text: "Kolo" }], locale),
    data: { wishId: "w1", donationId: "d1" },
    threadId: "w1",
    collapseKey: "donations-w1",
    badge: 3,
  });
}

describe("push contract: our FCM v1 JSON = firebase-admin's", () => {
  it("toFcmV1Json equals what firebase-admin's sendEach sends for the same message", () => {
    for (const message of [sample("tok-a", "en"), sample("tok-b", "cs")]) {
      assert.deepEqual(toFcmV1Json(message), adminWireJson(message));
    }
  });

  it("a long collapse key is cut to APNs' 64-byte limit (Android keeps it whole)", () => {
    const message = buildPushMessage("t", {
      notificationId: "n",
      type: "comment.added",
      category: "comments",
      rendered: render("comment_added", [{ text: "A" }, { text: "B" }], "en"),
      data: {},
      threadId: "w",
      collapseKey: `comments-${"ž".repeat(60)}`,
      badge: 0,
    });
    assert.ok(Buffer.byteLength(message.apns.headers["apns-collapse-id"] ?? "") <= 64);
    assert.equal(message.android.collapseKey, `comments-${"ž".repeat(60)}`);
    assert.deepEqual(toFcmV1Json(message), adminWireJson(message));
  });

  it("maps FCM v1 error answers to the codes firebase-admin reports", () => {
    for (const [server, client] of Object.entries(FCM_ERROR_CODES)) {
      assert.equal(adminErrors.fromServerError(server).code, client, server);
    }
    for (const failure of ["UNREGISTERED", "INVALID_ARGUMENT", "UNAVAILABLE", "INTERNAL"] as FcmFailure[]) {
      const { status, body } = fcmErrorBody(failure);
      assert.equal(fcmErrorCode(status, body), adminErrors.fromServerError(failure).code, failure);
    }
    assert.equal(fcmErrorCode(503, null), "messaging/server-unavailable");
  });

  it("classifies dead tokens: not-registered, invalid-registration-token, and FCM v1's invalid token argument only", () => {
    assert.equal(isStaleTokenError({ code: "messaging/registration-token-not-registered", message: "" }), true);
    assert.equal(isStaleTokenError({ code: "messaging/invalid-registration-token", message: "" }), true);
    assert.equal(
      isStaleTokenError({ code: "messaging/invalid-argument", message: "The registration token is not a valid FCM registration token" }),
      true,
    );
    assert.equal(isStaleTokenError({ code: "messaging/invalid-argument", message: "Invalid JSON payload received." }), false);
    assert.equal(isStaleTokenError({ code: "messaging/server-unavailable", message: "" }), false);
  });
});

describe("push contract: HTTP transport against the fake FCM", () => {
  let fake: FakeFcm;
  before(async () => {
    fake = await startFakeFcm(0);
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it("POSTs {message: toFcmV1Json(m)} to /v1/projects/{p}/messages:send and returns FCM's message name", async () => {
    const transport = httpFcmTransport(fake.url, "demo-elateme");
    const message = sample("tok-ok", "cs");
    const [result] = await transport.sendEach([message]);
    assert.equal(result?.ok, true);
    assert.match(result?.ok ? result.messageId : "", /^projects\/demo-elateme\/messages\//);
    assert.equal(fake.sent.length, 1);
    assert.equal(fake.sent[0]?.projectId, "demo-elateme");
    assert.deepEqual(fake.sent[0]?.message, adminWireJson(message));
  });

  it("reports FCM's token errors with firebase-admin's codes, per message, in order", async () => {
    fake.failToken("tok-dead", "UNREGISTERED");
    fake.failToken("tok-bad", "INVALID_ARGUMENT");
    fake.failToken("tok-flaky", "UNAVAILABLE", 1);
    const transport = httpFcmTransport(fake.url, "demo-elateme");
    const results = await transport.sendEach([sample("tok-dead", "en"), sample("tok-bad", "en"), sample("tok-flaky", "en"), sample("tok-ok", "en")]);
    assert.deepEqual(
      results.map((r) => (r.ok ? "ok" : r.code)),
      ["messaging/registration-token-not-registered", "messaging/invalid-argument", "messaging/server-unavailable", "ok"],
    );
    assert.equal(results[1] && !results[1].ok && isStaleTokenError(results[1]), true);
    const [retry] = await transport.sendEach([sample("tok-flaky", "en")]);
    assert.equal(retry?.ok, true, "the scripted UNAVAILABLE was for one send only");
  });

  it("the fake rejects what FCM rejects: camelCase fields, non-string data, two targets", async () => {
    const post = (message: unknown) =>
      fetch(`${fake.url}/v1/projects/p/messages:send`, { method: "POST", body: JSON.stringify({ message }) }).then((r) => r.status);
    assert.equal(await post({ token: "t", android: { collapseKey: "x" } }), 400);
    assert.equal(await post({ token: "t", data: { n: 1 } }), 400);
    assert.equal(await post({ token: "t", topic: "news" }), 400);
    assert.equal(await post(sample("t", "en")), 400, "the un-renamed admin message is not wire JSON");
    assert.equal(await post(toFcmV1Json(sample("t", "en"))), 200);
    assert.equal(fake.sent.length, 1);
  });
});
