import type { Messaging, TokenMessage } from "firebase-admin/messaging";
import type { Category, Rendered } from "./catalog";

/**
 * The one push shape we send: a subset of firebase-admin's `TokenMessage` (so production hands it to
 * `messaging().sendEach` unchanged), with Android and APNs blocks on every message. FCM applies the block that
 * matches the token's platform.
 */
export interface PushMessage {
  token: string;
  notification: { title: string; body: string };
  data: Record<string, string>;
  android: {
    priority: "high" | "normal";
    collapseKey: string;
    notification: {
      channelId: Category;
      tag: string;
      titleLocKey: string;
      bodyLocKey: string;
      bodyLocArgs: string[];
      sound: string;
    };
  };
  apns: {
    headers: Record<string, string>;
    payload: {
      aps: {
        alert: { title: string; body: string; titleLocKey: string; locKey: string; locArgs: string[] };
        badge: number;
        sound: string;
        threadId: string;
      };
    };
  };
}

export interface PushContent {
  notificationId: string;
  type: string;
  category: Category;
  rendered: Rendered;
  data: Record<string, string>;
  threadId: string;
  collapseKey: string;
  badge: number;
}

/** APNs caps `apns-collapse-id` at 64 bytes. */
function apnsCollapseId(key: string): string {
  return Buffer.byteLength(key) <= 64 ? key : Buffer.from(key).subarray(0, 64).toString("utf8").replace(/\uFFFD+$/, "");
}

/** Builds the message for one device token (see docs/notifications.md, "What a push carries"). */
export function buildPushMessage(token: string, content: PushContent): PushMessage {
  const { rendered } = content;
  return {
    token,
    notification: { title: rendered.title, body: rendered.body },
    data: { ...content.data, type: content.type, notificationId: content.notificationId },
    android: {
      priority: "high",
      collapseKey: content.collapseKey,
      notification: {
        channelId: content.category,
        tag: content.collapseKey,
        titleLocKey: rendered.titleKey,
        bodyLocKey: rendered.bodyKey,
        bodyLocArgs: rendered.args,
        sound: "default",
      },
    },
    apns: {
      headers: { "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": apnsCollapseId(content.collapseKey) },
      payload: {
        aps: {
          alert: { title: rendered.title, body: rendered.body, titleLocKey: rendered.titleKey, locKey: rendered.bodyKey, locArgs: rendered.args },
          badge: content.badge,
          sound: "default",
          threadId: content.threadId,
        },
      },
    },
  };
}

/**
 * The FCM HTTP v1 wire JSON of a message: what firebase-admin's `sendEach` puts in `{message: ...}` after its own
 * validation/renaming (camelCase → `collapse_key`, `channel_id`, `title-loc-key`, `thread-id`, ...). The emulator
 * transport POSTs exactly this; test/unit/push-contract.test.ts checks it against firebase-admin's own conversion.
 */
export function toFcmV1Json(message: PushMessage): Record<string, unknown> {
  const { android, apns } = message;
  const { alert, badge, sound, threadId } = apns.payload.aps;
  return {
    token: message.token,
    notification: { ...message.notification },
    data: { ...message.data },
    android: {
      priority: android.priority,
      collapse_key: android.collapseKey,
      notification: {
        channel_id: android.notification.channelId,
        tag: android.notification.tag,
        title_loc_key: android.notification.titleLocKey,
        body_loc_key: android.notification.bodyLocKey,
        body_loc_args: [...android.notification.bodyLocArgs],
        sound: android.notification.sound,
      },
    },
    apns: {
      headers: { ...apns.headers },
      payload: {
        aps: {
          alert: {
            title: alert.title,
            body: alert.body,
            "title-loc-key": alert.titleLocKey,
            "loc-key": alert.locKey,
            "loc-args": [...alert.locArgs],
          },
          badge,
          sound,
          "thread-id": threadId,
        },
      },
    },
  };
}

/** Per message: FCM's message name, or firebase-admin's error code (`messaging/...`) and message. */
export type PushResult = { ok: true; messageId: string } | { ok: false; code: string; message: string };

/** What the sender needs from FCM: `sendEach` semantics (one result per message, in order, ≤ 500 messages). */
export interface PushTransport {
  readonly name: string;
  sendEach(messages: PushMessage[]): Promise<PushResult[]>;
}

/** Production: firebase-admin's `messaging().sendEach`. */
export function adminMessagingTransport(messaging: () => Messaging): PushTransport {
  return {
    name: "fcm",
    async sendEach(messages) {
      const tokenMessages: TokenMessage[] = messages;
      const batch = await messaging().sendEach(tokenMessages);
      return batch.responses.map((response) =>
        response.success
          ? { ok: true, messageId: response.messageId ?? "" }
          : { ok: false, code: response.error?.code ?? "messaging/unknown-error", message: response.error?.message ?? "" },
      );
    },
  };
}

/**
 * FCM v1 server error codes → firebase-admin's client codes (the same table as firebase-admin's
 * MESSAGING_SERVER_TO_CLIENT_CODE for the v1 API; the contract test compares them).
 */
export const FCM_ERROR_CODES: Record<string, string> = {
  UNREGISTERED: "messaging/registration-token-not-registered",
  NOT_FOUND: "messaging/registration-token-not-registered",
  INVALID_ARGUMENT: "messaging/invalid-argument",
  UNAVAILABLE: "messaging/server-unavailable",
  INTERNAL: "messaging/internal-error",
  QUOTA_EXCEEDED: "messaging/message-rate-exceeded",
  RESOURCE_EXHAUSTED: "messaging/message-rate-exceeded",
  SENDER_ID_MISMATCH: "messaging/mismatched-credential",
  PERMISSION_DENIED: "messaging/mismatched-credential",
  THIRD_PARTY_AUTH_ERROR: "messaging/third-party-auth-error",
  APNS_AUTH_ERROR: "messaging/third-party-auth-error",
  UNAUTHENTICATED: "messaging/third-party-auth-error",
};

const HTTP_STATUS_CODES: Record<number, string> = {
  400: "messaging/invalid-argument",
  401: "messaging/authentication-error",
  403: "messaging/authentication-error",
  500: "messaging/internal-error",
  503: "messaging/server-unavailable",
};

/** Maps an FCM v1 error response to firebase-admin's error code, the way firebase-admin does. */
export function fcmErrorCode(status: number, body: unknown): string {
  const error = (body as { error?: { status?: string; details?: { "@type"?: string; errorCode?: string }[] } } | null)?.error;
  if (!error) return HTTP_STATUS_CODES[status] ?? "messaging/unknown-error";
  const fcm = error.details?.find((detail) => detail["@type"] === "type.googleapis.com/google.firebase.fcm.v1.FcmError")?.errorCode;
  const server = fcm ?? error.status;
  return (server && FCM_ERROR_CODES[server]) ?? "messaging/unknown-error";
}

/**
 * Emulator/tests: POSTs each message as FCM v1 JSON (`POST {base}/v1/projects/{project}/messages:send`,
 * body `{message}`) to our fake FCM (devtools/fakes/fcm.ts). firebase-admin's messaging cannot be pointed at a local
 * server: its host `fcm.googleapis.com` is a constant, it speaks HTTP/2 over TLS and needs Google credentials.
 */
export function httpFcmTransport(baseUrl: string, projectId: string): PushTransport {
  const url = `${baseUrl.replace(/\/$/, "")}/v1/projects/${projectId}/messages:send`;
  const sendOne = async (message: PushMessage): Promise<PushResult> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer emulator" },
        body: JSON.stringify({ message: toFcmV1Json(message) }),
      });
    } catch (error) {
      return { ok: false, code: "messaging/server-unavailable", message: error instanceof Error ? error.message : String(error) };
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    if (response.ok) {
      const name = (body as { name?: unknown } | null)?.name;
      return { ok: true, messageId: typeof name === "string" ? name : "" };
    }
    const errorMessage = (body as { error?: { message?: unknown } } | null)?.error?.message;
    return { ok: false, code: fcmErrorCode(response.status, body), message: typeof errorMessage === "string" ? errorMessage : text.slice(0, 200) };
  };
  return { name: "fcm-http-emulator", sendEach: (messages) => Promise.all(messages.map(sendOne)) };
}
