import assert from "node:assert/strict";
import type { Messaging } from "firebase-admin/messaging";
import { render } from "../../src/notifications/catalog";
import { buildPushMessage } from "../../src/notifications/push";
import { pushTransportFor } from "../../src/notifications/transport";

const neverMessaging = (): Messaging => {
  throw new Error("production messaging must not be touched here");
};

describe("push transport selection", () => {
  it("production uses firebase-admin messaging, even if a fake FCM URL is set", () => {
    assert.equal(pushTransportFor({ ELATEME_FAKE_FCM_URL: "http://127.0.0.1:1" }, neverMessaging).name, "fcm");
  });

  it("the emulator uses the HTTP transport to ELATEME_FAKE_FCM_URL", () => {
    assert.equal(pushTransportFor({ FUNCTIONS_EMULATOR: "true", ELATEME_FAKE_FCM_URL: "http://127.0.0.1:1" }, neverMessaging).name, "fcm-http-emulator");
  });

  it("the emulator without a fake URL sends nothing anywhere and reports a non-retryable failure", async () => {
    const transport = pushTransportFor({ FUNCTIONS_EMULATOR: "true" }, neverMessaging);
    assert.equal(transport.name, "none");
    const message = buildPushMessage("t", {
      notificationId: "n",
      type: "friend.joined",
      category: "friends",
      rendered: render("friend_joined", [{ text: "A" }], "en"),
      data: {},
      threadId: "friends",
      collapseKey: "k",
      badge: 0,
    });
    assert.deepEqual(await transport.sendEach([message]), [{ ok: false, code: "messaging/not-configured", message: "no FCM in this emulator" }]);
  });
});
