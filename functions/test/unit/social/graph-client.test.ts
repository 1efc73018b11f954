// Contract test of the deployed Graph adapter (facebook-nodejs-business-sdk underneath) against the fake Graph server
// over real HTTP. The fake is what the emulator suite uses, so this pins that both speak Graph's shapes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { LOCAL_FACEBOOK_APP, startGraphFake } from "../../../devtools/fakes/graph";
import type { GraphFake } from "../../../devtools/fakes/graph";
import { GraphError, graphBaseUrl, sdkGraphClient } from "../../../src/social/graph-client";
import type { GraphClient } from "../../../src/social/graph-client";
import { normalizeBirthday } from "../../../src/social/facebook";

describe("social: Graph client against the fake Graph API", () => {
  let fake: GraphFake;
  let graph: GraphClient;

  before(async () => {
    fake = await startGraphFake(0);
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    graph = sdkGraphClient({ appId: LOCAL_FACEBOOK_APP.id, appSecret: LOCAL_FACEBOOK_APP.secret, baseUrl: fake.url, timeoutMs: 500, pageSize: 2 });
    fake.addUser({ id: "fb-ann", first_name: "Ann", last_name: "Lee", email: "ann@example.com", birthday: "04/12/1994", pictureUrl: "https://pics/ann.jpg" });
  });

  it("debug_token reports a valid token's app and user", async () => {
    const token = fake.issueToken("fb-ann");
    assert.deepEqual(await graph.inspectToken(token), { isValid: true, appId: LOCAL_FACEBOOK_APP.id, userId: "fb-ann" });
  });

  it("debug_token reports unknown and expired tokens as invalid, and a foreign app's token with its app id", async () => {
    assert.equal((await graph.inspectToken("garbage")).isValid, false);
    assert.equal((await graph.inspectToken(fake.issueToken("fb-ann", { expired: true }))).isValid, false);
    const foreign = await graph.inspectToken(fake.issueToken("fb-ann", { appId: "999" }));
    assert.deepEqual(foreign, { isValid: true, appId: "999", userId: "fb-ann" });
  });

  it("a wrong app secret is refused by Graph (app token and appsecret_proof both depend on it)", async () => {
    const wrong = sdkGraphClient({ appId: LOCAL_FACEBOOK_APP.id, appSecret: "not-the-secret", baseUrl: fake.url, timeoutMs: 500 });
    const token = fake.issueToken("fb-ann");
    await assert.rejects(wrong.inspectToken(token), (error: unknown) => error instanceof GraphError && error.kind === "token");
    await assert.rejects(wrong.fetchProfile(token), (error: unknown) => error instanceof GraphError);
  });

  it("/me returns the sign-up fields", async () => {
    const profile = await graph.fetchProfile(fake.issueToken("fb-ann"));
    assert.deepEqual(profile, {
      id: "fb-ann",
      firstName: "Ann",
      lastName: "Lee",
      email: "ann@example.com",
      birthday: "04/12/1994",
      pictureUrl: "https://pics/ann.jpg",
    });
  });

  it("/me with an expired token is a token error", async () => {
    await assert.rejects(graph.fetchProfile(fake.issueToken("fb-ann", { expired: true })), (error: unknown) => error instanceof GraphError && error.kind === "token");
  });

  it("/me/friends follows the cursor over every page", async () => {
    for (const id of ["fb-b", "fb-c", "fb-d", "fb-e", "fb-f"]) {
      fake.addUser({ id, first_name: id });
      fake.befriend("fb-ann", id);
    }
    const ids = await graph.fetchFriendIds(fake.issueToken("fb-ann"));
    assert.deepEqual(ids.sort(), ["fb-b", "fb-c", "fb-d", "fb-e", "fb-f"]);
    assert.equal(fake.requests.filter((request) => request === "/me/friends").length, 3, "pages of 2: 2 + 2 + 1");
  });

  it("a Graph 5xx and a hanging Graph are both 'unavailable' (the timeout fires)", async () => {
    const token = fake.issueToken("fb-ann");
    fake.failNext("/me/friends", { kind: "error", status: 500 });
    await assert.rejects(graph.fetchFriendIds(token), (error: unknown) => error instanceof GraphError && error.kind === "unavailable");
    fake.failNext("/me", { kind: "hang" });
    const started = Date.now();
    await assert.rejects(graph.fetchProfile(token), (error: unknown) => error instanceof GraphError && error.kind === "unavailable" && /timed out/.test(error.message));
    assert.ok(Date.now() - started < 5000, "gave up at the timeout, not when the server gave up");
  });

  it("error messages never carry the access token", async () => {
    const token = fake.issueToken("fb-ann", { expired: true });
    await assert.rejects(graph.fetchProfile(token), (error: unknown) => error instanceof Error && !error.message.includes(token));
  });

  it("points at the fake only inside the emulator", () => {
    const env = { ELATEME_FAKE_GRAPH_URL: "http://127.0.0.1:1" };
    assert.equal(graphBaseUrl(true, env), "http://127.0.0.1:1");
    assert.equal(graphBaseUrl(false, env), undefined);
  });

  it("the fake's app credentials are the ones in functions/.env.local and .secret.local", () => {
    const root = path.resolve(__dirname, "..", "..", "..");
    assert.match(readFileSync(path.join(root, ".env.local"), "utf8"), new RegExp(`^FACEBOOK_APP_ID=${LOCAL_FACEBOOK_APP.id}$`, "m"));
    assert.match(readFileSync(path.join(root, ".secret.local"), "utf8"), new RegExp(`^FACEBOOK_APP_SECRET=${LOCAL_FACEBOOK_APP.secret}$`, "m"));
  });
});

describe("social: Facebook birthday normalisation", () => {
  it("turns Facebook's three formats into ISO 8601 and rejects the rest", () => {
    assert.equal(normalizeBirthday("04/12/1994"), "1994-04-12");
    assert.equal(normalizeBirthday("04/12"), "--04-12");
    assert.equal(normalizeBirthday("1994"), "1994");
    assert.equal(normalizeBirthday("12 April"), null);
    assert.equal(normalizeBirthday(null), null);
  });
});
