import { createHmac } from "node:crypto";
import type { FacebookAdsApi as FacebookAdsApiType } from "facebook-nodejs-business-sdk";
import { z } from "zod";

/**
 * What the social domain needs from the Facebook Graph API. The deployed implementation below goes through
 * facebook-nodejs-business-sdk; in the emulator it is pointed at the local fake Graph server (devtools/fakes/graph.ts).
 */
export interface GraphClient {
  /** `debug_token` with the app access token: who the user token belongs to, for which app, and whether it is valid. */
  inspectToken(userToken: string): Promise<FacebookTokenInfo>;
  /** `/me` with the fields we load at sign-up. */
  fetchProfile(userToken: string): Promise<FacebookProfile>;
  /** `/me/friends`, every page: the app-scoped ids of the user's friends who also use our app. */
  fetchFriendIds(userToken: string): Promise<string[]>;
}

export interface FacebookTokenInfo {
  isValid: boolean;
  appId: string | null;
  userId: string | null;
}

export interface FacebookProfile {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  /** As Facebook sends it: `MM/DD/YYYY`, `MM/DD` or `YYYY`. */
  birthday: string | null;
  pictureUrl: string | null;
}

/**
 * A failed Graph call. `token`: Graph rejected the user token (OAuth error 190 and friends); `unavailable`: network
 * error, timeout, 5xx or an answer we cannot read. Messages never contain tokens.
 */
export class GraphError extends Error {
  constructor(
    readonly kind: "token" | "unavailable",
    message: string,
  ) {
    super(message);
    this.name = "GraphError";
  }
}

export interface SdkGraphOptions {
  appId: string;
  appSecret: string;
  /** Graph host override (the fake in the emulator); undefined = graph.facebook.com. */
  baseUrl?: string;
  timeoutMs?: number;
  pageSize?: number;
  /** Guards against a cursor loop: at most this many friend pages (pageSize each). */
  maxPages?: number;
}

const debugTokenSchema = z.object({
  data: z.object({
    is_valid: z.boolean(),
    app_id: z.string().optional(),
    user_id: z.string().optional(),
  }),
});

const profileSchema = z.object({
  id: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  email: z.string().optional(),
  birthday: z.string().optional(),
  picture: z.object({ data: z.object({ url: z.string().optional() }) }).optional(),
});

const friendsPageSchema = z.object({
  data: z.array(z.object({ id: z.string() })),
  paging: z
    .object({
      cursors: z.object({ after: z.string().optional() }).optional(),
      next: z.string().optional(),
    })
    .optional(),
});

let sdk: Promise<typeof FacebookAdsApiType> | undefined;

/** The SDK is large (~0.8 s to load): loaded on first use, so other functions' cold starts do not pay for it. */
function loadSdk(): Promise<typeof FacebookAdsApiType> {
  sdk ??= import("facebook-nodejs-business-sdk").then((module) => module.FacebookAdsApi);
  return sdk;
}

/** Graph API access through facebook-nodejs-business-sdk, with appsecret_proof on every user-token call. */
export function sdkGraphClient(options: SdkGraphOptions): GraphClient {
  const timeoutMs = options.timeoutMs ?? 5000;
  const pageSize = options.pageSize ?? 100;
  const maxPages = options.maxPages ?? 50;

  async function get<S extends z.ZodType>(schema: S, token: string, path: string[], params: Record<string, string | number>, what: string) {
    // A new API object per call: no process-wide default token, and crash reporting off (third argument).
    const FacebookAdsApi = await loadSdk();
    const api = new FacebookAdsApi(token, "en_US", false);
    const proof = createHmac("sha256", options.appSecret).update(token).digest("hex");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new GraphError("unavailable", `Graph ${what} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const body = await Promise.race([
        api.call("GET", path, { ...params, appsecret_proof: proof }, {}, false, options.baseUrl ?? ""),
        timeout,
      ]);
      const parsed = schema.safeParse(body);
      if (!parsed.success) throw new GraphError("unavailable", `Graph ${what} answered in an unexpected shape`);
      return parsed.data;
    } catch (error) {
      throw toGraphError(error, what);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async inspectToken(userToken) {
      const body = await get(debugTokenSchema, `${options.appId}|${options.appSecret}`, ["debug_token"], { input_token: userToken }, "debug_token");
      return { isValid: body.data.is_valid, appId: body.data.app_id ?? null, userId: body.data.user_id ?? null };
    },
    async fetchProfile(userToken) {
      const body = await get(profileSchema, userToken, ["me"], { fields: "id,first_name,last_name,email,birthday,picture.type(large)" }, "/me");
      return {
        id: body.id,
        firstName: body.first_name ?? null,
        lastName: body.last_name ?? null,
        email: body.email ?? null,
        birthday: body.birthday ?? null,
        pictureUrl: body.picture?.data.url ?? null,
      };
    },
    async fetchFriendIds(userToken) {
      const ids: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        const params: Record<string, string | number> = { fields: "id", limit: pageSize, ...(after ? { after } : {}) };
        const body = await get(friendsPageSchema, userToken, ["me", "friends"], params, "/me/friends");
        ids.push(...body.data.map((friend) => friend.id));
        after = body.paging?.cursors?.after;
        if (!body.paging?.next || !after || body.data.length === 0) return [...new Set(ids)];
      }
      throw new GraphError("unavailable", `Graph /me/friends returned more than ${maxPages} pages`);
    },
  };
}

/** The SDK throws FacebookRequestError ({status, response: Graph's error object}); we classify without its message. */
function toGraphError(error: unknown, what: string): GraphError {
  if (error instanceof GraphError) return error;
  const failure = error as { status?: unknown; response?: unknown };
  const body = (failure.response ?? {}) as { code?: unknown };
  const status = typeof failure.status === "number" ? failure.status : null;
  // 190: invalid/expired/revoked token; 102: session key invalid. Graph sends type "OAuthException" for transient
  // errors (code 1, 2) too, so only the code decides.
  if (body.code === 190 || body.code === 102 || status === 401) {
    return new GraphError("token", `Graph ${what} rejected the access token (HTTP ${status ?? "?"}, code ${String(body.code)})`);
  }
  return new GraphError("unavailable", `Graph ${what} failed (HTTP ${status ?? "no response"})`);
}

/** The Graph host the deployed code talks to: the local fake only inside the emulator, else Facebook's own. */
export function graphBaseUrl(emulator: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return emulator ? env.ELATEME_FAKE_GRAPH_URL : undefined;
}
