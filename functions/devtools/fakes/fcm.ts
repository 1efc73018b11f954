// A local fake of FCM's HTTP v1 send API (`POST /v1/projects/{project}/messages:send`, body `{message}`), for the
// emulator suite (`npm start` logs every push) and the tests (which inspect what was sent and script token errors).
// It checks the wire shape the way FCM does where it matters to us: one target, string-only data and APNs headers,
// and no unknown (e.g. camelCase) field names — FCM rejects those with INVALID_ARGUMENT.
// Read-back (not an FCM API, docs/notifications.md "Reading pushes locally"): `GET /messages?token=<token>` answers
// `{token, messages: [{name, deviceId, receivedAt, message}]}`, every message accepted for that token, oldest first,
// with the full FCM v1 JSON; without `token`, every accepted message.
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody, sendJson } from "./http";
import type { RunningServer } from "./http";

export interface RecordedPush {
  projectId: string;
  /** FCM's answer: `projects/{project}/messages/{id}`. */
  name: string;
  token: string;
  /** The device registration the token belongs to, when the fake was given a `deviceOf` lookup (npm start). */
  deviceId: string | null;
  /** The `message` object exactly as received (FCM v1 JSON). */
  message: Record<string, unknown>;
  receivedAt: Date;
}

/** FCM error answers the fake can give for a token. */
export type FcmFailure = "UNREGISTERED" | "INVALID_ARGUMENT" | "UNAVAILABLE" | "INTERNAL";

export interface FakeFcm extends RunningServer {
  /** Successfully accepted messages, in arrival order. */
  readonly sent: RecordedPush[];
  /** Every request that was answered with an error (scripted or validation). */
  readonly rejected: { token: string | null; status: number; errorCode: string }[];
  /** Makes `token` fail with `failure` for the next `times` sends (default: always). */
  failToken(token: string, failure: FcmFailure, times?: number): void;
  sentTo(token: string): RecordedPush[];
  reset(): void;
}

const FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

/** FCM's real error bodies (status code, canonical status, message, FcmError detail). */
export function fcmErrorBody(failure: FcmFailure, message?: string): { status: number; body: unknown } {
  const table: Record<FcmFailure, [number, string, string]> = {
    UNREGISTERED: [404, "NOT_FOUND", "Requested entity was not found."],
    INVALID_ARGUMENT: [400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"],
    UNAVAILABLE: [503, "UNAVAILABLE", "The service is currently unavailable."],
    INTERNAL: [500, "INTERNAL", "Internal error encountered."],
  };
  const [status, canonical, defaultMessage] = table[failure];
  const details: unknown[] = [{ "@type": FCM_ERROR_TYPE, errorCode: failure }];
  if (failure === "INVALID_ARGUMENT" && !message) {
    details.push({
      "@type": "type.googleapis.com/google.rpc.BadRequest",
      fieldViolations: [{ field: "message.token", description: defaultMessage }],
    });
  }
  return { status, body: { error: { code: status, message: message ?? defaultMessage, status: canonical, details } } };
}

const ALLOWED: Record<string, readonly string[]> = {
  message: ["name", "token", "topic", "condition", "data", "notification", "android", "webpush", "apns", "fcm_options"],
  notification: ["title", "body", "image"],
  android: ["collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification", "fcm_options", "direct_boot_ok"],
  "android.notification": [
    "title", "body", "icon", "color", "sound", "tag", "click_action", "body_loc_key", "body_loc_args", "title_loc_key",
    "title_loc_args", "channel_id", "ticker", "sticky", "event_time", "local_only", "notification_priority",
    "default_sound", "default_vibrate_timings", "default_light_settings", "vibrate_timings", "visibility",
    "notification_count", "light_settings", "image",
  ],
  apns: ["headers", "payload", "fcm_options", "live_activity_token"],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** FCM-like validation of the parts we use; returns the problem, or null. */
export function validateFcmMessage(message: unknown): string | null {
  if (!isRecord(message)) return "Invalid JSON payload received. 'message' must be an object";
  const unknownKey = (where: string, value: unknown): string | null => {
    if (value === undefined) return null;
    if (!isRecord(value)) return `Invalid value at '${where}'`;
    const allowed = ALLOWED[where.replace(/^message\./, "")] ?? ALLOWED[where];
    const bad = Object.keys(value).find((key) => allowed && !allowed.includes(key));
    return bad ? `Invalid JSON payload received. Unknown name "${bad}" at '${where}': Cannot find field.` : null;
  };
  const android = isRecord(message.android) ? message.android : undefined;
  const problem =
    unknownKey("message", message) ??
    unknownKey("message.notification", message.notification) ??
    unknownKey("message.android", message.android) ??
    unknownKey("message.android.notification", android?.notification) ??
    unknownKey("message.apns", message.apns);
  if (problem) return problem;
  const targets = ["token", "topic", "condition"].filter((key) => typeof message[key] === "string" && message[key] !== "");
  if (targets.length !== 1) return "Exactly one of token, topic or condition must be set";
  const strings = (where: string, value: unknown) =>
    value === undefined || (isRecord(value) && Object.values(value).every((v) => typeof v === "string")) ? null : `Invalid value at '${where}': values must be strings`;
  const apns = isRecord(message.apns) ? message.apns : undefined;
  return strings("message.data", message.data) ?? strings("message.apns.headers", apns?.headers);
}

export interface FakeFcmOptions {
  log?: (line: string) => void;
  /** Which device (and user) a token is registered for, for the log and the read-back (null: unknown). */
  deviceOf?: (token: string) => Promise<{ uid: string; deviceId: string } | null>;
}

export async function startFakeFcm(port: number, options: FakeFcmOptions = {}): Promise<FakeFcm> {
  const sent: RecordedPush[] = [];
  const rejected: FakeFcm["rejected"] = [];
  const failures = new Map<string, { failure: FcmFailure; remaining: number }>();
  let counter = 0;

  const reject = (res: ServerResponse, token: string | null, failure: FcmFailure, message?: string) => {
    const { status, body } = fcmErrorBody(failure, message);
    rejected.push({ token, status, errorCode: failure });
    options.log?.(`[fake-fcm] ${failure} for token ${token ? `${token.slice(0, 12)}…` : "(none)"}${message ? `: ${message}` : ""}`);
    sendJson(res, status, body);
  };

  const server = await listen(port, async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake-fcm");
    if (req.method === "GET" && url.pathname === "/messages") {
      const token = url.searchParams.get("token");
      const messages = (token === null ? sent : sent.filter((push) => push.token === token)).map(({ name, deviceId, receivedAt, message }) => ({
        name,
        deviceId,
        receivedAt: receivedAt.toISOString(),
        message,
      }));
      sendJson(res, 200, { token, messages });
      return;
    }
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match?.[1]) {
      sendJson(res, 404, { error: { code: 404, message: "Not found", status: "NOT_FOUND" } });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      reject(res, null, "INVALID_ARGUMENT", "Invalid JSON payload received.");
      return;
    }
    const message = isRecord(body) ? body.message : undefined;
    const problem = validateFcmMessage(message);
    if (problem || !isRecord(message)) {
      reject(res, null, "INVALID_ARGUMENT", problem ?? "missing message");
      return;
    }
    const token = typeof message.token === "string" ? message.token : "";
    const scripted = failures.get(token);
    if (scripted && scripted.remaining > 0) {
      scripted.remaining--;
      reject(res, token, scripted.failure);
      return;
    }
    const device = options.deviceOf ? await options.deviceOf(token).catch(() => null) : null;
    const name = `projects/${match[1]}/messages/0:${Date.now()}%fake${++counter}`;
    sent.push({ projectId: match[1], name, token, deviceId: device?.deviceId ?? null, message, receivedAt: new Date() });
    const notification = isRecord(message.notification) ? message.notification : {};
    const data = isRecord(message.data) ? message.data : {};
    const target = device ? `device ${device.deviceId} of ${device.uid}` : `token ${token.slice(0, 12)}…`;
    options.log?.(`[fake-fcm] push → ${target} type=${String(data.type)} title="${String(notification.title)}" body="${String(notification.body)}" (full JSON: GET /messages?token=…)`);
    sendJson(res, 200, { name });
  });

  return {
    ...server,
    sent,
    rejected,
    failToken(token, failure, times = Number.POSITIVE_INFINITY) {
      failures.set(token, { failure, remaining: times });
    },
    sentTo: (token) => sent.filter((push) => push.token === token),
    reset() {
      sent.length = 0;
      rejected.length = 0;
      failures.clear();
    },
  };
}
