// The developer-facing parts of the local fakes, over HTTP as an app or a developer reaches them (no emulator needed):
// Facebook people on demand, the fake Stripe's payment page and its outcomes, the fake FCM's read-back.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { startGraphFake, LOCAL_FACEBOOK_APP, parseOnDemandToken } from "../../devtools/fakes/graph";
import type { GraphFake } from "../../devtools/fakes/graph";
import { startFakeStripe } from "../../devtools/fakes/stripe";
import type { RunningFakeStripe } from "../../devtools/fakes/stripe";
import { startFakeFcm } from "../../devtools/fakes/fcm";

describe("dev fakes: Facebook people on demand", () => {
  let graph: GraphFake;
  before(async () => {
    graph = await startGraphFake(0);
  });
  after(() => graph.close());

  const proof = (token: string) => createHmac("sha256", LOCAL_FACEBOOK_APP.secret).update(token).digest("hex");
  async function me(token: string, path = "/me"): Promise<{ status: number; body: Record<string, unknown> }> {
    const query = new URLSearchParams({ access_token: token, appsecret_proof: proof(token), fields: "id,first_name,last_name,email" });
    const response = await fetch(`${graph.url}/v21.0${path}?${query.toString()}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  const friendIds = async (token: string) => ((await me(token, "/me/friends")).body.data as { id: string }[]).map((friend) => friend.id);

  it("parses fake-fb:<id>, fake-fb:<id>:<name> and ?friends=, and refuses ids outside [A-Za-z0-9_.-]", () => {
    assert.deepEqual(parseOnDemandToken("fake-fb:erin:Erin van Example?friends=frank,gina"), {
      user: { id: "erin", first_name: "Erin", last_name: "van Example", email: "erin@fake-fb.example" },
      named: true,
      friendIds: ["frank", "gina"],
    });
    assert.equal(parseOnDemandToken("fake-fb:42")?.user.first_name, "42");
    for (const bad of ["fake-fb:", "fake-fb:a/b", "fake-fb:a?friends=a", "fake-fb:a?friends=x/y", "EAAsomething", "fake-fb:../x"]) {
      assert.equal(parseOnDemandToken(bad), null, bad);
    }
  });

  it("answers an on-demand token as a new person of our app, with the friends it names, mutually", async () => {
    const debug = await fetch(
      `${graph.url}/v21.0/debug_token?${new URLSearchParams({ input_token: "fake-fb:erin:Erin Example?friends=frank", access_token: `${LOCAL_FACEBOOK_APP.id}|${LOCAL_FACEBOOK_APP.secret}` }).toString()}`,
    );
    const data = ((await debug.json()) as { data: Record<string, unknown> }).data;
    assert.equal(data.is_valid, true);
    assert.equal(data.user_id, "erin");
    assert.equal(data.app_id, LOCAL_FACEBOOK_APP.id);
    assert.deepEqual((await me("fake-fb:erin:Erin Example?friends=frank")).body, { id: "erin", first_name: "Erin", last_name: "Example", email: "erin@fake-fb.example" });
    // Frank signs in later with a bare token: Erin is already his friend, and his name is his id.
    assert.deepEqual(await friendIds("fake-fb:frank"), ["erin"]);
    // A bare token of a named person keeps the name.
    assert.equal((await me("fake-fb:erin")).body.first_name, "Erin");
  });

  it("befriends people by the dev call, and refuses a malformed one; other tokens stay invalid", async () => {
    const made = await fetch(`${graph.url}/_fake/friendships?ids=erin,gina,hal`, { method: "POST" });
    assert.equal(made.status, 200);
    assert.deepEqual(await friendIds("fake-fb:erin"), ["frank", "gina", "hal"]);
    assert.deepEqual(await friendIds("fake-fb:hal"), ["erin", "gina"]);
    assert.equal((await fetch(`${graph.url}/_fake/friendships?ids=erin`, { method: "POST" })).status, 400);
    assert.equal((await me("EAAnot-a-known-token")).status, 400);
  });
});

describe("dev fakes: the fake Stripe's payment page", () => {
  let fake: RunningFakeStripe;
  before(async () => {
    fake = await startFakeStripe({ ...process.env }, 0);
    fake.stripe.baseUrl = fake.url;
  });
  after(() => fake.close());

  function intent(): { id: string; secret: string } {
    const created = fake.stripe.paymentIntents;
    const id = `pi_page_${created.size + 1}`;
    created.set(id, { id, object: "payment_intent", amount: 25000, currency: "czk", status: "requires_payment_method", client_secret: `${id}_secret_abc`, metadata: { wishId: "w1" } });
    return { id, secret: `${id}_secret_abc` };
  }
  const play = (secret: string, outcome: string) =>
    fetch(`${fake.url}/pay/${secret}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `outcome=${outcome}` });
  const status = (id: string) => fake.stripe.paymentIntents.get(id)?.status;
  const lastEvent = () => fake.stripe.events.at(-1);

  it("a hold released before any request came is disarmed: a later hold, not it, stops the next request", async () => {
    const stale = fake.stripe.hold("POST", "/v1/customers");
    stale.release();
    const live = fake.stripe.hold("POST", "/v1/customers");
    const request = fetch(`${fake.url}/v1/customers`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_fake", "content-type": "application/x-www-form-urlencoded" },
      body: "email=dana%40example.com",
    });
    const stopped = await Promise.race([live.arrived.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000))]);
    live.release();
    assert.equal(stopped, true, "the live hold stopped the request");
    assert.equal((await request).status, 200);
  });

  it("shows the sheet for a pending intent, by the client secret only", async () => {
    const { id, secret } = intent();
    const page = await fetch(`${fake.url}/pay/${secret}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    for (const button of ["succeed", "card_declined", "insufficient_funds", "expired_card", "3ds", "abandon"]) assert.match(html, new RegExp(`id="outcome-${button}"`));
    assert.match(html, /250\.00 CZK/);
    assert.equal((await fetch(`${fake.url}/pay/${id}_secret_wrong`)).status, 404);
    const dev = (await (await fetch(`${fake.url}/_fake/payment_intents/${id}/page`)).json()) as { url: string };
    assert.equal(dev.url, `${fake.url}/pay/${secret}`);
  });

  it("declines as Stripe does, then 3-D Secure fails, then 3-D Secure succeeds; each emits Stripe's event", async () => {
    const { id, secret } = intent();
    const expected: [string, string, string, Record<string, unknown> | null][] = [
      ["card_declined", "payment_intent.payment_failed", "requires_payment_method", { code: "card_declined", decline_code: "generic_decline" }],
      ["insufficient_funds", "payment_intent.payment_failed", "requires_payment_method", { code: "card_declined", decline_code: "insufficient_funds" }],
      ["expired_card", "payment_intent.payment_failed", "requires_payment_method", { code: "expired_card" }],
      ["3ds", "payment_intent.requires_action", "requires_action", null],
      ["3ds_fail", "payment_intent.payment_failed", "requires_payment_method", { code: "payment_intent_authentication_failure" }],
      ["3ds", "payment_intent.requires_action", "requires_action", null],
      ["3ds_succeed", "payment_intent.succeeded", "succeeded", null],
    ];
    for (const [outcome, eventType, intentStatus, error] of expected) {
      const answer = await play(secret, outcome);
      assert.equal(answer.status, 200, outcome);
      assert.equal(status(id), intentStatus, outcome);
      assert.equal(lastEvent()?.type, eventType, outcome);
      const lastError = lastEvent()?.data.object.last_payment_error as Record<string, unknown> | undefined;
      for (const [key, value] of Object.entries(error ?? {})) assert.equal(lastError?.[key], value, `${outcome}: ${key}`);
    }
    // Signed like Stripe: the SDK's constructEvent accepts the payload with the endpoint's secret.
    const event = lastEvent();
    assert.ok(event);
    const { payload, signature } = fake.stripe.signed(event);
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}/);
    assert.equal((JSON.parse(payload) as { id: string }).id, event.id);
    // Paid: the sheet now says so, and no outcome can be played again.
    assert.match(await (await fetch(`${fake.url}/pay/${secret}`)).text(), /data-sheet-result="completed"/);
    assert.equal((await play(secret, "succeed")).status, 409);
  });

  it("abandon sends nothing and leaves the intent payable; 3-D Secure answers are refused before 3-D Secure", async () => {
    const { id, secret } = intent();
    const events = fake.stripe.events.length;
    assert.match(await (await play(secret, "abandon")).text(), /data-sheet-result="canceled"/);
    assert.equal(fake.stripe.events.length, events);
    assert.equal(status(id), "requires_payment_method");
    assert.equal((await play(secret, "3ds_succeed")).status, 409);
    assert.equal((await play(secret, "nonsense")).status, 400);
  });
});

describe("dev fakes: reading pushes back from the fake FCM", () => {
  it("answers every accepted message for a token, full JSON, with the device the lookup names", async () => {
    const fcm = await startFakeFcm(0, { deviceOf: (token) => Promise.resolve(token === "tok-a" ? { uid: "u1", deviceId: "dev-a" } : null) });
    try {
      const send = (token: string, type: string) =>
        fetch(`${fcm.url}/v1/projects/demo-elateme/messages:send`, {
          method: "POST",
          body: JSON.stringify({ message: { token, notification: { title: "t", body: "b" }, data: { type }, apns: { payload: { aps: { badge: 2 } } } } }),
        });
      for (const [token, type] of [["tok-a", "donation.received"], ["tok-b", "x"], ["tok-a", "wish.funded"]] as const) assert.equal((await send(token, type)).status, 200);
      const answer = (await (await fetch(`${fcm.url}/messages?token=tok-a`)).json()) as { token: string; messages: { name: string; deviceId: string | null; message: { data: { type: string }; apns: unknown } }[] };
      assert.equal(answer.token, "tok-a");
      assert.deepEqual(answer.messages.map((entry) => [entry.deviceId, entry.message.data.type]), [["dev-a", "donation.received"], ["dev-a", "wish.funded"]]);
      assert.deepEqual(answer.messages[0]?.message.apns, { payload: { aps: { badge: 2 } } });
      assert.match(answer.messages[0]?.name ?? "", /^projects\/demo-elateme\/messages\//);
      const all = (await (await fetch(`${fcm.url}/messages`)).json()) as { messages: { deviceId: string | null }[] };
      assert.deepEqual(all.messages.map((entry) => entry.deviceId), ["dev-a", null, "dev-a"]);
    } finally {
      await fcm.close();
    }
  });
});
