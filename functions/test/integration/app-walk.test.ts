// The app walk a mobile team does first, with brand-new people only (issue 15's acceptance): nothing seeded, nothing
// created through the Admin SDK. Two people sign up with Facebook (on-demand fake Graph people), become friends, one
// shares a wish, the other pays through the fake Stripe's payment page in a real headless Chromium (a declined card,
// then 3-D Secure), the owner's push is read back from the fake FCM, a mistake is refused with a readable error, and
// the owner closes the wish and the donor sees the refund. One browser launch; every step the way docs/ tell an app.
import assert from "node:assert/strict";
import { doc, getDoc } from "firebase/firestore";
import type { CardDonateResult } from "../../src/donations/donate";
import { launchBrowser } from "../helpers/browser";
import type { Browser } from "../helpers/browser";
import { facebookSignInClient } from "../../devtools/support/clients";
import type { TestClient } from "../../devtools/support/clients";
import { requireEnv } from "../../devtools/support/emulators";
import { expectCode } from "../helpers/errors";
import { fakeStripe } from "../../devtools/support/fakes";
import { LONG_WAIT, deliverNewEvents, resetDeliveries } from "../helpers/payments";
import { waitFor } from "../helpers/wait";

interface ReadBackPush {
  name: string;
  message: {
    token: string;
    notification: { title: string; body: string };
    data: Record<string, string>;
    android: { notification: { channel_id: string } };
    apns: { payload: { aps: { badge: number } } };
  };
}

/** The fake FCM's read-back (docs/notifications.md): every message it accepted for `token`, full FCM v1 JSON. */
async function pushesTo(token: string): Promise<ReadBackPush[]> {
  const response = await fetch(`${requireEnv("ELATEME_FAKE_FCM_URL")}/messages?token=${encodeURIComponent(token)}`);
  return ((await response.json()) as { messages: ReadBackPush[] }).messages;
}

const pushOfType = (token: string, type: string) =>
  waitFor(`a ${type} push to ${token}`, async () => (await pushesTo(token)).find((push) => push.message.data.type === type), LONG_WAIT);

/** A field of a document as the signed-in client reads it (the rules apply). */
async function read(client: TestClient, path: string, field: string): Promise<unknown> {
  return (await getDoc(doc(client.db, path))).get(field) as unknown;
}

const until = (client: TestClient, path: string, field: string, value: unknown) =>
  waitFor(`${path}.${field} = ${String(value)}`, async () => ((await read(client, path, field)) === value ? true : undefined), LONG_WAIT);

describe("app walk: brand-new people, payment page in Chromium, pushes read back, close and refund", function () {
  this.timeout(300_000);
  let browser: Browser | undefined;

  beforeEach(() => {
    fakeStripe().reset();
    resetDeliveries();
  });
  after(() => browser?.close());

  it("sign up two new people, befriend, wish, pay (decline, then 3-D Secure), push, error, close, refund", async () => {
    const run = Date.now().toString(36);
    // 1. Two people nobody has heard of sign up: Facebook sign-in, then syncFacebookProfile with an on-demand token.
    const erinFacebookId = `erin-${run}`;
    const frankFacebookId = `frank-${run}`;
    const erin = await facebookSignInClient(erinFacebookId, "Erin Walker");
    const erinSync = await erin.call<{ status: string; firstSignUp: boolean }>("syncFacebookProfile", { accessToken: `fake-fb:${erinFacebookId}:Erin Walker` });
    assert.deepEqual([erinSync.status, erinSync.firstSignUp], ["complete", true]);
    assert.equal(await read(erin, `users/${erin.uid}`, "displayName"), "Erin Walker");
    const erinPushToken = `fcm-erin-${run}`;
    await erin.call("registerDevice", { deviceId: `erin-iphone-${run}`, platform: "ios", token: erinPushToken, locale: "en-GB", appVersion: "1.0.0" });

    // 2. Frank's Facebook friends include Erin (the token's ?friends=): his sign-up makes them friends in the app.
    const frank = await facebookSignInClient(frankFacebookId, "Frank Walker");
    const frankSync = await frank.call<{ newFriendIds: string[] }>("syncFacebookProfile", {
      accessToken: `fake-fb:${frankFacebookId}:Frank Walker?friends=${erinFacebookId}`,
    });
    assert.deepEqual(frankSync.newFriendIds, [erin.uid]);
    assert.equal(await read(erin, `users/${erin.uid}/friends/${frank.uid}`, "friendId"), frank.uid);
    const frankPushToken = `fcm-frank-${run}`;
    await frank.call("registerDevice", { deviceId: `frank-pixel-${run}`, platform: "android", token: frankPushToken, locale: "en-GB", appVersion: "1.0.0" });

    // 3. Erin shares a wish with her friends; Frank sees it.
    const deadline = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const { wishId } = await erin.call<{ wishId: string }>("createWish", {
      title: "Walking boots",
      amount: 300_000,
      currency: "CZK",
      deadline,
      audience: { kind: "friends" },
      requestId: `walk-wish-${run}`,
    });
    assert.equal(await read(frank, `wishes/${wishId}`, "title"), "Walking boots");

    // 4. A mistake gets a readable error naming the field.
    await expectCode(frank.call("donate", { wishId, amount: 0, currency: "CZK", requestId: `walk-bad-${run}` }), "invalid-argument", /amount/);
    // …and one an app can handle by code: details.reason from the catalogue (src/lib/errors.ts), and the field.
    const tooSmall = await frank.call("donate", { wishId, amount: 1, currency: "CZK", requestId: `walk-small-${run}` }).then(
      () => assert.fail("a donation below the currency's minimum was accepted"),
      (error: { code?: string; details?: { reason?: string; field?: string; min?: number } }) => error,
    );
    assert.equal(tooSmall.code, "functions/invalid-argument");
    assert.deepEqual([tooSmall.details?.reason, tooSmall.details?.field, typeof tooSmall.details?.min], ["amount_too_small", "amount", "number"]);

    // 5. Frank donates and pays on the fake Stripe's payment page (the documented URL: <fake Stripe>/pay/<client secret>).
    const donation = await frank.call<CardDonateResult>("donate", { wishId, amount: 120_000, currency: "CZK", requestId: `walk-tap-${run}` });
    const pageUrl = `${requireEnv("ELATEME_FAKE_STRIPE_URL")}/pay/${encodeURIComponent(donation.paymentIntentClientSecret)}`;
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await page.goto(pageUrl);
    assert.match((await page.textContent("h1")) ?? "", /1200\.00 CZK/);
    // His first card has insufficient funds: the sheet says so, Stripe's payment_failed reaches our webhook.
    await page.click("#outcome-insufficient_funds");
    assert.equal(await page.getAttribute("#result", "data-sheet-result"), "failed");
    await deliverNewEvents();
    const donationPath = `donations/${donation.donationId}`;
    await until(frank, donationPath, "status", "failed");
    assert.equal(await read(frank, donationPath, "failureCode"), "insufficient_funds");
    // He tries again on the same sheet with a card that needs 3-D Secure, and authenticates.
    await page.goto(pageUrl);
    await page.click("#outcome-3ds");
    await page.click("#outcome-3ds_succeed");
    assert.equal(await page.getAttribute("#result", "data-sheet-result"), "completed");
    await deliverNewEvents();
    await until(frank, donationPath, "status", "succeeded");
    await until(erin, `wishes/${wishId}`, "raised", 120_000);

    // 6. Erin's phone got the donation push: read it back, full FCM JSON, from the fake FCM.
    const received = await pushOfType(erinPushToken, "donation.received");
    assert.equal(received.message.token, erinPushToken);
    assert.equal(received.message.data.wishId, wishId);
    assert.match(received.message.notification.body, /Frank Walker/);
    assert.equal(received.message.android.notification.channel_id, "donations");
    assert.equal(typeof received.message.apns.payload.aps.badge, "number");

    // 7. Erin closes the wish: Frank's payment is refunded (Stripe's refund events delivered), and his phone hears it.
    assert.deepEqual(await erin.call("closeWish", { wishId }), { status: "closed" });
    await waitFor(
      "Frank's donation to be refunded",
      async () => {
        await deliverNewEvents();
        return (await read(frank, donationPath, "status")) === "refunded" ? true : undefined;
      },
      LONG_WAIT,
    );
    assert.equal(await read(frank, donationPath, "refundedAmount"), 120_000);
    // His contribution: nothing left, one payment that succeeded (refunds do not decrement the count, docs/donations.md).
    assert.equal(await read(frank, `users/${frank.uid}/contributions/${wishId}`, "amount"), 0);
    assert.equal(await read(frank, `users/${frank.uid}/contributions/${wishId}`, "donationCount"), 1);
    const refunded = await pushOfType(frankPushToken, "refund.processed");
    assert.equal(refunded.message.data.wishId, wishId);
  });
});
