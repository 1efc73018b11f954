// Typed handles on the local fakes that the root hook starts in-process for the test run (see devtools/fakes/).
// Each domain adds its fake here and starts it in test/setup/root-hooks.ts on the port its ELATEME_FAKE_*_URL names.
import type { FakeFcm } from "../../devtools/fakes/fcm";
import { startFakeFcm } from "../../devtools/fakes/fcm";
import { portOf } from "../../devtools/fakes/http";

// ---- notifications: the fake FCM (the emulated functions push to it through ELATEME_FAKE_FCM_URL) ----
let fcm: FakeFcm | undefined;

export async function startFcmFake(): Promise<void> {
  fcm ??= await startFakeFcm(portOf(process.env.ELATEME_FAKE_FCM_URL, 12113));
}

export async function stopFcmFake(): Promise<void> {
  await fcm?.close();
  fcm = undefined;
}

/** The running fake FCM: `.sent`, `.sentTo(token)`, `.failToken(token, "UNREGISTERED")`, `.reset()`. */
export function fakeFcm(): FakeFcm {
  if (!fcm) throw new Error("The fake FCM is not running: run the tests through the emulators (root hook).");
  return fcm;
}
