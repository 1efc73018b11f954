// An in-process FCM stand-in for tests that call the notification worker or the digest fold directly: it records
// every message and answers each as told (delivered by default).
import type { PushMessage, PushResult, PushTransport } from "../../src/notifications/push";

export function recordingTransport(answer: (m: PushMessage) => PushResult = () => ({ ok: true, messageId: "m" })) {
  const sent: PushMessage[] = [];
  const transport: PushTransport = {
    name: "recording",
    sendEach: (messages) => {
      sent.push(...messages);
      return Promise.resolve(messages.map(answer));
    },
  };
  return { transport, sent };
}
