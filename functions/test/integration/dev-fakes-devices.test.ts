// npm start's fake FCM names the device a push went to: it looks the token up in the Firestore emulator.
import assert from "node:assert/strict";
import { deviceOfToken } from "../../devtools/fakes/all";
import { adminDb } from "../../devtools/support/admin";
import { requireEnv } from "../../devtools/support/emulators";

describe("dev fakes: the fake FCM's device lookup (npm start)", () => {
  it("finds the device registration holding a token, and null for an unknown token", async () => {
    const now = new Date();
    await adminDb().doc("users/ann/devices/ann-pixel-01").set({ platform: "android", token: "tok-ann", locale: "en", appVersion: "1.0", lastSeenAt: now });
    await adminDb().doc("users/bob/devices/bob-iphone-01").set({ platform: "ios", token: "tok-bob", locale: "en", appVersion: "1.0", lastSeenAt: now });
    const firestore = `http://${requireEnv("FIRESTORE_EMULATOR_HOST")}`;
    assert.deepEqual(await deviceOfToken(firestore, "tok-bob"), { uid: "bob", deviceId: "bob-iphone-01" });
    assert.equal(await deviceOfToken(firestore, "tok-nobody"), null);
  });
});
