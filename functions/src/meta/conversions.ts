import { createHash } from "node:crypto";
import type * as FacebookSdk from "facebook-nodejs-business-sdk";
import { z } from "zod";

/**
 * Meta's Conversions API, the port ads attribution sends through (docs/analytics.md). The deployed adapter below builds
 * the events with facebook-nodejs-business-sdk (`ServerEvent`, `UserData`, `CustomData`, `AppData`, `EventRequest`)
 * and posts them to `POST /{version}/{dataset_id}/events` through the SDK's HTTP-service seam, so it can be pointed at
 * the local fake Graph (devtools/fakes/graph.ts) in the emulator and the tests.
 */

/** One server event, with every identifier already hashed (SHA-256, lower-case hex). */
export interface Conversion {
  eventName: "CompleteRegistration" | "Donate";
  /** Meta deduplicates a server event and the app's SDK event carrying the same `event_id` and event name. */
  eventId: string;
  eventTime: Date;
  /** SHA-256 of the Firebase uid. */
  externalId: string;
  /** SHA-256 of the normalised email, when we have one. */
  email: string | null;
  /** In major units, as Meta expects (19.99, not 1999). */
  value: { amount: number; currency: string } | null;
  /** The platform of the user's app install, for `app_data.extinfo`; null when no phone is registered. */
  platform: "android" | "ios" | null;
}

export interface ConversionsApi {
  /** The dataset (pixel) the events go to. */
  readonly datasetId: string;
  /** Sends the events in one request (at most 1,000). Throws {@link ConversionsError} when they were not accepted. */
  send(conversions: Conversion[]): Promise<{ received: number; traceId: string | null }>;
}

/** The events were not accepted: no answer, a timeout or an HTTP error. The message never holds the access token. */
export class ConversionsError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = "ConversionsError";
  }
}

// ---- hashing, per Meta's customer-information rules: normalise, then SHA-256 as lower-case hex ----
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");
/** Email: trimmed and lower-cased before hashing. */
export const hashEmail = (email: string): string => sha256Hex(email.trim().toLowerCase());
/** External id: the Firebase uid as it is (uids are case-sensitive: lower-casing could merge two people). */
export const hashExternalId = (uid: string): string => sha256Hex(uid);
/**
 * The `event_id` of a domain event's conversion: SHA-256 of the domain event id (`user.signed_up:{uid}`,
 * `donation.received:{donationId}`), so the apps can compute the same value for their SDK event and no raw id of ours
 * reaches Meta.
 */
export const conversionEventId = (domainEventId: string): string => sha256Hex(domainEventId);

/** What Graph answers to an accepted request. */
const acceptedSchema = z.object({ events_received: z.number().int(), fbtrace_id: z.string().optional() });
const errorSchema = z.object({ error: z.object({ code: z.number().optional() }).optional() });

/** Graph's own host: the SDK builds every URL on it; the emulator swaps in the fake's origin. */
const GRAPH_ORIGIN = "https://graph.facebook.com";

/** The SDK's HTTP seam, with fetch: one JSON POST, a timeout, and errors classified without the body's messages. */
class FetchHttpService implements FacebookSdk.HttpServiceInterface {
  constructor(
    private readonly origin: string,
    private readonly timeoutMs: number,
  ) {}

  async executeRequest(url: string, method: string, headers: Record<string, string>, params: Record<string, unknown>): Promise<unknown> {
    const target = url.startsWith(GRAPH_ORIGIN) ? `${this.origin}${url.slice(GRAPH_ORIGIN.length)}` : url;
    let response: Response;
    try {
      response = await fetch(target, { method, headers, body: JSON.stringify(params), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const why = error instanceof Error && error.name === "TimeoutError" ? `timed out after ${this.timeoutMs} ms` : "unreachable";
      throw new ConversionsError(null, `Conversions API ${why}`);
    }
    const body: unknown = await response.json().catch(() => null); // an error page that is not JSON: no code
    if (!response.ok) {
      const code = errorSchema.safeParse(body).data?.error?.code;
      throw new ConversionsError(response.status, `Conversions API answered HTTP ${response.status}${code === undefined ? "" : ` (code ${code})`}`);
    }
    return body;
  }
}

let sdk: Promise<typeof FacebookSdk> | undefined;
/** The SDK is large (~0.8 s to load): loaded on first use, so other functions' cold starts do not pay for it. */
const loadSdk = () => (sdk ??= import("facebook-nodejs-business-sdk"));

export interface SdkConversionsOptions {
  datasetId: string;
  accessToken: string;
  /** Events Manager's "Test events" code: events then show there and are not used for ads. */
  testEventCode?: string | null;
  /** Graph origin override (the fake in the emulator); undefined = graph.facebook.com. */
  baseUrl?: string;
  timeoutMs?: number;
}

/** Meta's extinfo: 16 values in a fixed order, empty strings where we know nothing (we only know the platform). */
function extinfo(facebook: typeof FacebookSdk, platform: "android" | "ios"): FacebookSdk.ExtendedDeviceInfo {
  return new facebook.ExtendedDeviceInfo(platform === "ios" ? "i2" : "a2", ...Array<string>(15).fill(""));
}

function serverEvent(facebook: typeof FacebookSdk, conversion: Conversion): FacebookSdk.ServerEvent {
  const user = new facebook.UserData().setExternalId(conversion.externalId);
  // Already hashed: the SDK passes a SHA-256 hex value through unchanged.
  if (conversion.email) user.setEmail(conversion.email);
  const event = new facebook.ServerEvent()
    .setEventName(conversion.eventName)
    .setEventTime(Math.floor(conversion.eventTime.getTime() / 1000))
    .setEventId(conversion.eventId)
    .setActionSource("app")
    .setUserData(user);
  if (conversion.value) event.setCustomData(new facebook.CustomData().setValue(conversion.value.amount).setCurrency(conversion.value.currency));
  if (conversion.platform) {
    // Sent only for a user who opted in to ads attribution in our app (the only users we send at all).
    const app = new facebook.AppData().setAdvertiserTrackingEnabled(true).setApplicationTrackingEnabled(true).setExtinfo(extinfo(facebook, conversion.platform));
    event.setAppData(app);
  }
  return event;
}

/** The Conversions API through facebook-nodejs-business-sdk. */
export function sdkConversionsApi(options: SdkConversionsOptions): ConversionsApi {
  const http = new FetchHttpService(options.baseUrl ?? GRAPH_ORIGIN, options.timeoutMs ?? 10_000);
  return {
    datasetId: options.datasetId,
    async send(conversions) {
      const facebook = await loadSdk();
      const request = new facebook.EventRequest(options.accessToken, options.datasetId).setEvents(conversions.map((c) => serverEvent(facebook, c))).setHttpService(http);
      // EventRequest's constructor switches on the SDK's crash reporter (a process-wide uncaughtException hook that
      // posts to Graph with the default token): off again at once.
      facebook.CrashReporter.disable();
      if (options.testEventCode) request.setTestEventCode(options.testEventCode);
      const answer = acceptedSchema.safeParse(await request.execute());
      if (!answer.success) throw new ConversionsError(200, "Conversions API answered in an unexpected shape");
      return { received: answer.data.events_received, traceId: answer.data.fbtrace_id ?? null };
    },
  };
}
