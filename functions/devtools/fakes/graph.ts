import { createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, readBody, sendJson } from "./http";
import type { RunningServer } from "./http";

/**
 * A small local fake of the Facebook Graph API for tests and `npm start` (never deployed). It answers the calls our
 * GraphClient makes, in Graph's shapes:
 *   GET /vNN.N/debug_token?input_token=…&access_token=APP_ID|APP_SECRET
 *   GET /vNN.N/me?fields=…&access_token=…&appsecret_proof=…
 *   GET /vNN.N/me/friends?limit=…&after=…&access_token=…&appsecret_proof=…   (cursor paging)
 * Tests configure Facebook users, tokens (valid, expired, or issued to another app) and friendships, and can make
 * the next calls to a path fail (HTTP 500) or hang (a timeout).
 *
 * People on demand (docs/client-setup.md, "New people"): any token `fake-fb:<id>` or `fake-fb:<id>:<display name>`,
 * optionally ending in `?friends=<id>,<id>`, is a valid token of our app for the Facebook user `<id>`, who is created
 * on first use; the listed ids become their (mutual) Facebook friends. `POST /_fake/friendships?ids=<id>,<id>,…` makes
 * every listed person a friend of every other (a dev call for people who already signed up).
 *
 * Conversions API (ads attribution, docs/analytics.md): `POST /vNN.N/{dataset_id}/events` with a JSON body
 * (`data`: the server events, `access_token`, optional `test_event_code`), as facebook-nodejs-business-sdk's
 * EventRequest sends it. The fake checks the token and the events' required fields the way Graph does (error 100 on a
 * bad event, 190 on a bad token), records accepted requests (`conversions`, `conversionEvents()`; in `npm start`:
 * `GET /_fake/conversions`), and answers `{events_received, messages, fbtrace_id}`. An outage is
 * `failNext("/events", {kind: "error", status: 503}, n)`.
 */

/** The fake app credentials; they equal FACEBOOK_APP_ID in functions/.env.local and the secret in .secret.local. */
export const LOCAL_FACEBOOK_APP = { id: "100000000000001", secret: "elateme-local-fake-facebook-app-secret" };

/** The fake Conversions API's dataset and token; they equal META_DATASET_ID in .env.local and the secret in .secret.local. */
export const LOCAL_META_CONVERSIONS = { datasetId: "100000000000099", accessToken: "elateme-local-fake-conversions-token" };

/** One accepted Conversions API request, as the fake received it. */
export interface RecordedConversions {
  datasetId: string;
  testEventCode: string | null;
  /** The server events exactly as posted (`event_name`, `event_time`, `event_id`, `action_source`, `user_data`, …). */
  events: Record<string, unknown>[];
  receivedAt: Date;
}

export interface FakeFacebookUser {
  id: string;
  first_name?: string;
  last_name?: string;
  email?: string;
  birthday?: string;
  pictureUrl?: string;
}

interface TokenRecord {
  userId: string;
  appId: string;
  expired: boolean;
}

type Failure = { kind: "error"; status: number } | { kind: "hang" };

/** The prefix of on-demand tokens: `fake-fb:<id>[:<display name>][?friends=<id>,<id>]`. */
export const ON_DEMAND_TOKEN_PREFIX = "fake-fb:";
const ON_DEMAND_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface OnDemandPerson {
  user: FakeFacebookUser;
  /** The token gave a display name (otherwise the name is the id). */
  named: boolean;
  friendIds: string[];
}

/** Parses an on-demand token (see the module comment), or null when `token` is not one. */
export function parseOnDemandToken(token: string): OnDemandPerson | null {
  if (!token.startsWith(ON_DEMAND_TOKEN_PREFIX)) return null;
  const queryAt = token.indexOf("?");
  const body = token.slice(ON_DEMAND_TOKEN_PREFIX.length, queryAt < 0 ? undefined : queryAt);
  const query = new URLSearchParams(queryAt < 0 ? "" : token.slice(queryAt + 1));
  const colon = body.indexOf(":");
  const id = colon < 0 ? body : body.slice(0, colon);
  const displayName = colon < 0 ? "" : body.slice(colon + 1).trim();
  const friendIds = (query.get("friends") ?? "").split(",").map((friend) => friend.trim()).filter(Boolean);
  if (!ON_DEMAND_ID.test(id) || friendIds.some((friend) => !ON_DEMAND_ID.test(friend) || friend === id)) return null;
  const [firstName = id, ...rest] = (displayName || id).split(/\s+/);
  const lastName = rest.join(" ");
  return { user: { id, first_name: firstName, ...(lastName ? { last_name: lastName } : {}), email: `${id.toLowerCase()}@fake-fb.example` }, named: displayName !== "", friendIds };
}

export interface GraphFake extends RunningServer {
  addUser(user: FakeFacebookUser): void;
  /** A user access token for `userId` (for our app unless `appId` says otherwise). */
  issueToken(userId: string, options?: { appId?: string; expired?: boolean; token?: string }): string;
  /** A mutual Facebook friendship (Graph lists only friends who use the app; here: every configured user). */
  befriend(a: string, b: string): void;
  /** The next `times` calls whose path ends with `pathSuffix` (e.g. "/me/friends") fail with HTTP `status`, or hang. */
  failNext(pathSuffix: string, failure: Failure, times?: number): void;
  setPageSize(size: number): void;
  /** Paths (without query) of every request received, in order: for assertions on paging. */
  readonly requests: string[];
  /** Every accepted Conversions API request, in order. */
  readonly conversions: RecordedConversions[];
  /** The accepted server events of one dataset (or of all), flattened in order. */
  conversionEvents(datasetId?: string): Record<string, unknown>[];
  reset(): void;
}

export async function startGraphFake(port: number, app = LOCAL_FACEBOOK_APP): Promise<GraphFake> {
  const users = new Map<string, FakeFacebookUser>();
  const tokens = new Map<string, TokenRecord>();
  const friends = new Map<string, Set<string>>();
  const failures: { suffix: string; failure: Failure; remaining: number }[] = [];
  const requests: string[] = [];
  const conversions: RecordedConversions[] = [];
  let pageSize: number | null = null;

  const oauthError = (res: ServerResponse, message: string, subcode?: number) =>
    sendJson(res, 400, { error: { message, type: "OAuthException", code: 190, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: "fake" } });

  /** The token's record; an on-demand token (`fake-fb:…`) creates its person (and their friendships) on first use. */
  function tokenRecord(token: string): TokenRecord | undefined {
    const known = tokens.get(token);
    if (known) return known;
    const person = parseOnDemandToken(token);
    if (!person) return undefined;
    const existing = users.has(person.user.id);
    // A display name in the token wins; a bare `fake-fb:<id>` keeps the name the person already has.
    if (!existing || person.named) users.set(person.user.id, person.user);
    for (const friendId of person.friendIds) {
      if (!users.has(friendId)) users.set(friendId, parseOnDemandToken(`${ON_DEMAND_TOKEN_PREFIX}${friendId}`)?.user ?? { id: friendId });
      befriend(person.user.id, friendId);
    }
    const record = { userId: person.user.id, appId: app.id, expired: false };
    tokens.set(token, record);
    return record;
  }

  function befriend(a: string, b: string): void {
    if (!friends.has(a)) friends.set(a, new Set());
    if (!friends.has(b)) friends.set(b, new Set());
    friends.get(a)?.add(b);
    friends.get(b)?.add(a);
  }

  /** Dev call (not a Graph API): `POST /_fake/friendships?ids=a,b,c` befriends every listed person with every other. */
  function control(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    const ids = (query.get("ids") ?? "").split(",").map((id) => id.trim()).filter(Boolean);
    if (req.method !== "POST" || path !== "/_fake/friendships" || ids.length < 2 || ids.some((id) => !ON_DEMAND_ID.test(id))) {
      return sendJson(res, 400, { error: { message: "Fake Graph dev call: POST /_fake/friendships?ids=<id>,<id>[,…] (ids of [A-Za-z0-9_.-])" } });
    }
    for (const id of ids) if (!users.has(id)) users.set(id, parseOnDemandToken(`${ON_DEMAND_TOKEN_PREFIX}${id}`)?.user ?? { id });
    ids.forEach((a, index) => ids.slice(index + 1).forEach((b) => befriend(a, b)));
    sendJson(res, 200, { friendships: ids.flatMap((a, index) => ids.slice(index + 1).map((b) => [a, b])) });
  }

  /** `POST /{dataset_id}/events`: the Conversions API (see the module comment). */
  async function receiveConversions(req: IncomingMessage, res: ServerResponse, datasetId: string): Promise<void> {
    let body: { access_token?: unknown; data?: unknown; test_event_code?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return sendJson(res, 400, { error: { message: "(#100) The request body is not JSON", type: "OAuthException", code: 100, fbtrace_id: "fake" } });
    }
    if (body.access_token !== LOCAL_META_CONVERSIONS.accessToken) return oauthError(res, "Invalid OAuth access token - Cannot parse access token");
    const events = Array.isArray(body.data) ? (body.data as Record<string, unknown>[]) : [];
    const invalid = (event: Record<string, unknown>) =>
      typeof event.event_name !== "string" ||
      !Number.isInteger(event.event_time) ||
      typeof event.action_source !== "string" ||
      typeof event.user_data !== "object" ||
      event.user_data === null ||
      Object.keys(event.user_data).length === 0;
    if (events.length === 0 || events.length > 1000 || events.some(invalid)) {
      return sendJson(res, 400, { error: { message: "(#100) Invalid parameter", type: "OAuthException", code: 100, error_subcode: 2804003, fbtrace_id: "fake" } });
    }
    conversions.push({ datasetId, testEventCode: typeof body.test_event_code === "string" ? body.test_event_code : null, events, receivedAt: new Date() });
    sendJson(res, 200, { events_received: events.length, messages: [], fbtrace_id: `fake-trace-${conversions.length}` });
  }

  function userForToken(res: ServerResponse, query: URLSearchParams): FakeFacebookUser | undefined {
    const token = query.get("access_token") ?? "";
    const record = tokenRecord(token);
    if (!record || record.appId !== app.id) {
      oauthError(res, "Invalid OAuth access token - Cannot parse access token");
      return undefined;
    }
    if (record.expired) {
      oauthError(res, "Error validating access token: Session has expired.", 463);
      return undefined;
    }
    const expectedProof = createHmac("sha256", app.secret).update(token).digest("hex");
    if (query.get("appsecret_proof") !== expectedProof) {
      sendJson(res, 400, { error: { message: "Invalid appsecret_proof provided in the API argument", type: "GraphMethodException", code: 100 } });
      return undefined;
    }
    return users.get(record.userId);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const match = /^\/v\d+\.\d+(\/.*)$/.exec(url.pathname);
    const path = match?.[1] ?? url.pathname;
    requests.push(path);
    const pending = failures.find((entry) => path.endsWith(entry.suffix) && entry.remaining > 0);
    if (pending) {
      pending.remaining -= 1;
      if (pending.failure.kind === "hang") {
        await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
        res.destroy();
        return;
      }
      sendJson(res, pending.failure.status, { error: { message: "An unexpected error has occurred.", type: "OAuthException", code: 2, is_transient: true } });
      return;
    }
    const query = url.searchParams;
    if (req.method === "GET" && path === "/_fake/conversions") return sendJson(res, 200, { conversions });
    if (path.startsWith("/_fake/")) return control(req, res, path, query);
    const conversionsPath = /^\/([^/]+)\/events$/.exec(path);
    if (req.method === "POST" && conversionsPath?.[1]) return receiveConversions(req, res, conversionsPath[1]);
    if (req.method !== "GET") return sendJson(res, 405, { error: { message: "Only GET is faked", code: 100 } });

    if (path === "/debug_token") {
      if (query.get("access_token") !== `${app.id}|${app.secret}`) return oauthError(res, "Invalid OAuth access token signature.");
      const record = tokenRecord(query.get("input_token") ?? "");
      if (!record) {
        return sendJson(res, 200, { data: { is_valid: false, error: { code: 190, message: "Invalid OAuth access token." }, scopes: [] } });
      }
      return sendJson(res, 200, {
        data: {
          app_id: record.appId,
          type: "USER",
          application: "ElateMe",
          is_valid: !record.expired,
          ...(record.expired ? { error: { code: 190, subcode: 463, message: "Session has expired." } } : {}),
          expires_at: Math.floor(Date.now() / 1000) + (record.expired ? -3600 : 3600),
          scopes: ["public_profile", "email", "user_birthday", "user_friends"],
          user_id: record.userId,
        },
      });
    }

    if (path === "/me") {
      const user = userForToken(res, query);
      if (!user) return;
      const fields = (query.get("fields") ?? "id,name").split(",").map((field) => field.replace(/\..*$/, ""));
      const full: Record<string, unknown> = {
        id: user.id,
        name: [user.first_name, user.last_name].filter(Boolean).join(" "),
        first_name: user.first_name,
        last_name: user.last_name,
        email: user.email,
        birthday: user.birthday,
        picture: user.pictureUrl ? { data: { url: user.pictureUrl, is_silhouette: false, height: 200, width: 200 } } : undefined,
      };
      return sendJson(res, 200, Object.fromEntries(fields.filter((field) => full[field] !== undefined).map((field) => [field, full[field]])));
    }

    if (path === "/me/friends") {
      const user = userForToken(res, query);
      if (!user) return;
      const all = [...(friends.get(user.id) ?? [])].sort();
      const limit = pageSize ?? Math.min(Number(query.get("limit") ?? 25) || 25, 5000);
      const after = query.get("after");
      const start = after ? Number(Buffer.from(after, "base64url").toString("utf8")) : 0;
      const slice = all.slice(start, start + limit);
      const end = start + slice.length;
      const nextUrl = new URL(url.toString());
      nextUrl.searchParams.set("after", Buffer.from(String(end)).toString("base64url"));
      return sendJson(res, 200, {
        data: slice.map((id) => ({ id, name: [users.get(id)?.first_name, users.get(id)?.last_name].filter(Boolean).join(" ") })),
        paging: {
          cursors: { before: Buffer.from(String(start)).toString("base64url"), after: Buffer.from(String(end)).toString("base64url") },
          ...(end < all.length ? { next: `${nextUrl.origin}${nextUrl.pathname}?${nextUrl.searchParams.toString()}` } : {}),
        },
        summary: { total_count: all.length },
      });
    }

    sendJson(res, 404, { error: { message: `Unknown path ${path}`, type: "GraphMethodException", code: 100 } });
  }

  const server = await listen(port, handle);
  return {
    ...server,
    requests,
    conversions,
    conversionEvents(datasetId) {
      return conversions.filter((request) => datasetId === undefined || request.datasetId === datasetId).flatMap((request) => request.events);
    },
    addUser(user) {
      users.set(user.id, user);
    },
    issueToken(userId, options = {}) {
      const token = options.token ?? `EAAfake${randomBytes(12).toString("hex")}`;
      tokens.set(token, { userId, appId: options.appId ?? app.id, expired: options.expired ?? false });
      return token;
    },
    befriend,
    failNext(suffix, failure, times = 1) {
      failures.push({ suffix, failure, remaining: times });
    },
    setPageSize(size) {
      pageSize = size;
    },
    reset() {
      users.clear();
      tokens.clear();
      friends.clear();
      failures.length = 0;
      requests.length = 0;
      conversions.length = 0;
      pageSize = null;
    },
  };
}

/**
 * Demo Facebook accounts for `npm start`: sign in to the Auth emulator with a fake Facebook credential whose `sub` is
 * the id below, then call syncFacebookProfile with the matching token (docs/social.md, "Local development").
 */
export const DEMO_FACEBOOK_USERS: (FakeFacebookUser & { token: string })[] = [
  { id: "fb-demo-alice", first_name: "Alice", last_name: "Nováková", email: "alice@example.com", birthday: "04/12/1994", token: "EAAdemo-alice" },
  { id: "fb-demo-bob", first_name: "Bob", last_name: "Svoboda", email: "bob@example.com", birthday: "11/02", token: "EAAdemo-bob" },
  { id: "fb-demo-cyril", first_name: "Cyril", last_name: "Dvořák", birthday: "1990", token: "EAAdemo-cyril" },
  { id: "fb-demo-dana", first_name: "Dana", last_name: "Horáková", email: "dana@example.com", birthday: "07/30/1988", token: "EAAdemo-dana" },
];

export function seedDemoGraph(fake: GraphFake): void {
  for (const { token, ...user } of DEMO_FACEBOOK_USERS) {
    fake.addUser(user);
    fake.issueToken(user.id, { token });
  }
  fake.befriend("fb-demo-alice", "fb-demo-bob");
  fake.befriend("fb-demo-alice", "fb-demo-cyril");
  fake.befriend("fb-demo-alice", "fb-demo-dana");
}
