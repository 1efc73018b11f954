import type { Messaging } from "firebase-admin/messaging";
import { logger } from "../lib/log";
import { isEmulator } from "../lib/env";
import { adminMessagingTransport, httpFcmTransport } from "./push";
import type { PushTransport } from "./push";

/**
 * Picks how pushes leave: in production firebase-admin's `sendEach`; inside the emulator suite our HTTP transport to
 * the fake FCM at ELATEME_FAKE_FCM_URL (honoured only when `isEmulator()`), so nothing ever reaches Google from a
 * developer machine. In the emulator without that URL, pushes are refused (and the inbox item marked failed).
 */
export function pushTransportFor(env: NodeJS.ProcessEnv, messaging: () => Messaging): PushTransport {
  if (!isEmulator(env)) return adminMessagingTransport(messaging);
  const url = env.ELATEME_FAKE_FCM_URL;
  if (url) return httpFcmTransport(url, env.GCLOUD_PROJECT ?? "demo-elateme");
  return {
    name: "none",
    sendEach(messages) {
      logger.warn("push skipped: ELATEME_FAKE_FCM_URL is not set in the emulator", { messages: messages.length });
      return Promise.resolve(messages.map(() => ({ ok: false, code: "messaging/not-configured", message: "no FCM in this emulator" })));
    },
  };
}
