// Donations end to end through the emulators: the donate callable (client SDK) → the fake Stripe API (real stripe
// SDK) → signed webhook deliveries over HTTP to the emulated stripeWebhook → Firestore state read by clients.
import assert from "node:assert/strict";
import { doc, getDoc } from "firebase/firestore";
import type { Timestamp } from "firebase-admin/firestore";
import type { StripeEventObject } from "../../devtools/fakes/stripe";
import { foldWishCounters } from "../../src/donations/counters";
import { systemClock } from "../../src/lib/clock";
import { ABANDONED_AFTER_MS, cancelAbandonedDonations } from "../../src/donations/cancel";
import type { CardDonateResult } from "../../src/donations/donate";
import { fixedClock } from "../helpers/clock";
import { StripePaymentProvider, stripeClient } from "../../src/payments/stripe";
import { adminDb } from "../../devtools/support/admin";
import { anonymousClient, emulatorAppCheckToken, signedInClient } from "../../devtools/support/clients";
import type { TestClient } from "../../devtools/support/clients";
import { seedWish } from "../helpers/donation-fixtures";
import { functionUrl } from "../../devtools/support/emulators";
import { expectCode } from "../helpers/errors";
import { waitFor } from "../helpers/wait";
import { digestItemId } from "../../src/notifications/digest";
import { recordingTasks } from "../helpers/tasks";
import { fakeStripe } from "../../devtools/support/fakes";

const WISH = "wish-bike";

async function webhook(event: StripeEventObject, options: { secret?: string; signature?: string | null } = {}) {
  const response = await fakeStripe().deliver(await functionUrl("stripeWebhook"), event, options);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body };
}

async function donation(id: string) {
  const snap = await adminDb().collection("donations").doc(id).get();
  return snap.data() ?? {};
}

/** The wish once its counter shards are folded (the emulated fold task may still be a second away). */
async function wishState(wishId = WISH) {
  await foldWishCounters({ db: adminDb(), clock: systemClock }, wishId);
  return (await adminDb().collection("wishes").doc(wishId).get()).data() ?? {};
}

async function countDocs(path: string): Promise<number> {
  return (await adminDb().collection(path).count().get()).data().count;
}

function intentOf(result: CardDonateResult): string {
  const intent = [...fakeStripe().paymentIntents.values()].find(
    (candidate) => (candidate.metadata as Record<string, string>).donationId === result.donationId,
  );
  assert.ok(intent, "the fake Stripe holds the donation's PaymentIntent");
  return String(intent.id);
}

describe("donations (emulators + fake Stripe)", function () {
  this.timeout(60_000);
  let dana: TestClient;

  beforeEach(async () => {
    fakeStripe().reset();
    await seedWish(adminDb(), WISH);
    await adminDb().doc("users/dana").set({ displayName: "Dana D.", photoUrl: null, facebookLinked: false });
    // The wish's owner has an account: donation digests reach only existing accounts (docs/notifications.md).
    await adminDb().doc("users/olga/private/account").set({ settings: { locale: "en", mutedCategories: [] } });
    dana = await signedInClient("dana");
  });

  it("donate → signed payment_intent.succeeded → the wish's progress, the supporter and the contribution", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 50_000, currency: "CZK", message: "Enjoy!" });
    assert.match(result.paymentIntentClientSecret, /^pi_\w+_secret_\w+$/);
    assert.match(result.customerId, /^cus_/);
    assert.match(result.ephemeralKeySecret, /^ek_test_/);

    const created = fakeStripe().callsTo("POST", "/v1/payment_intents");
    assert.equal(created.length, 1);
    assert.equal(created[0]?.idempotencyKey, `elateme_donation_${result.donationId}`);
    assert.deepEqual(created[0]?.params, {
      amount: "50000",
      currency: "czk",
      customer: result.customerId,
      automatic_payment_methods: { enabled: "true" },
      metadata: { donationId: result.donationId, wishId: WISH, donorId: "dana" },
    });
    const pending = await getDoc(doc(dana.db, "donations", result.donationId));
    assert.equal(pending.get("status"), "pending");

    const pi = intentOf(result);
    const answer = await webhook(fakeStripe().succeed(pi));
    assert.deepEqual(answer, { status: 200, body: { received: true, outcome: "applied" } });

    await wishState();
    const dave = await signedInClient("dave");
    const wish = await getDoc(doc(dave.db, "wishes", WISH));
    assert.equal(wish.get("raised"), 50_000);
    assert.equal(wish.get("donorCount"), 1);
    assert.equal(wish.get("hasSucceededDonation"), true);
    assert.equal(wish.get("status"), "open");

    const mine = await getDoc(doc(dana.db, "donations", result.donationId));
    assert.equal(mine.get("status"), "succeeded");
    assert.equal(mine.get("netAmount"), 50_000);
    const supporter = await getDoc(doc(dave.db, "wishes", WISH, "supporters", result.donationId));
    assert.equal(supporter.get("displayName"), "Dana D.");
    assert.equal(supporter.get("amount"), 50_000);
    assert.equal(supporter.get("message"), "Enjoy!");
    const contribution = await getDoc(doc(dana.db, "users", "dana", "contributions", WISH));
    assert.equal(contribution.get("amount"), 50_000);
    assert.equal(contribution.get("donationCount"), 1);

    const ledger = await adminDb().collection("ledger").doc(`charge_${pi}`).get();
    assert.equal(ledger.get("amount"), 50_000);
    assert.equal(ledger.get("kind"), "charge");
    // donation.received: published by the trigger on the donation's write (no outbox document), it reaches olga's
    // inbox through Pub/Sub, the notification worker and her wish's digest fold task.
    assert.equal((await adminDb().collection("events").doc(`donation.received:${result.donationId}`).get()).exists, false);
    const digest = await waitFor("olga's donation digest", async () => {
      const item = await adminDb().doc(`users/olga/notifications/${digestItemId(WISH, 1)}`).get();
      return item.exists ? item : undefined;
    });
    assert.equal(digest.get("type"), "donation.received");
    assert.equal(digest.get("digest.donations"), 1);
  });

  it("a donation made while its wish is busy (folds of several donors) carries busyWish on the donation and its PaymentIntent", async () => {
    const quiet = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 10_000, currency: "CZK" });
    const metadataOf = (result: CardDonateResult) => {
      const intent = [...fakeStripe().paymentIntents.values()].find((candidate) => (candidate.metadata as Record<string, string>).donationId === result.donationId);
      return intent?.metadata as Record<string, string>;
    };
    assert.equal(metadataOf(quiet).busyWish, undefined);
    assert.equal((await adminDb().doc(`donations/${quiet.donationId}`).get()).get("busyWish"), undefined);
    // As a fold of a viral wish leaves it: folded a moment ago, 12 new donors in that fold.
    await adminDb().doc(`wishes/${WISH}`).update({ raisedAsOf: new Date(), lastFoldDonors: 12 });
    const busy = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 10_000, currency: "CZK" });
    assert.equal(metadataOf(busy).busyWish, "1");
    assert.equal((await adminDb().doc(`donations/${busy.donationId}`).get()).get("busyWish"), true);
    // Confirmed, it is counted like any other (through a shard and the fold).
    await webhook(fakeStripe().succeed(intentOf(busy)));
    await waitFor("the busy-wish donation in raised", async () => ((await adminDb().doc(`wishes/${WISH}`).get()).get("raised") === 10_000 ? true : undefined));
  });

  it("an anonymous donation shows neither name nor amount to viewers", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 20_000, currency: "CZK", anonymous: true });
    await webhook(fakeStripe().succeed(intentOf(result)));
    const dave = await signedInClient("dave");
    const supporter = await getDoc(doc(dave.db, "wishes", WISH, "supporters", result.donationId));
    assert.equal(supporter.get("anonymous"), true);
    assert.equal(supporter.get("displayName"), null);
    assert.equal(supporter.get("amount"), null);
    assert.equal(supporter.get("donorId"), null);
  });

  it("a failed payment leaves the wish untouched and tells the donor why", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 30_000, currency: "CZK" });
    const answer = await webhook(fakeStripe().fail(intentOf(result), "insufficient_funds"));
    assert.equal(answer.status, 200);
    const failed = await donation(result.donationId);
    assert.equal(failed.status, "failed");
    assert.equal(failed.failureCode, "insufficient_funds");
    assert.equal((await wishState()).raised, 0);
    assert.equal(await countDocs("ledger"), 0);
    assert.equal(await countDocs(`wishes/${WISH}/supporters`), 0);
  });

  it("duplicate and out-of-order deliveries: a late processing/failed never overwrites succeeded; money counted once", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 40_000, currency: "CZK" });
    const pi = intentOf(result);
    const processing = fakeStripe().processing(pi);
    const failed = fakeStripe().fail(pi);
    const succeeded = fakeStripe().succeed(pi);

    assert.equal((await webhook(succeeded)).body.outcome, "applied");
    assert.equal((await webhook(succeeded)).body.outcome, "duplicate");
    assert.equal((await webhook(failed)).body.outcome, "no_change");
    assert.equal((await webhook(processing)).body.outcome, "no_change");
    assert.equal((await webhook(failed)).body.outcome, "duplicate");

    const final = await donation(result.donationId);
    assert.equal(final.status, "succeeded");
    assert.deepEqual(final.ledgerEntryIds, [`charge_${pi}`]);
    const wish = await wishState();
    assert.equal(wish.raised, 40_000);
    assert.equal(wish.donorCount, 1);
    assert.equal(await countDocs("ledger"), 1);
    // The event that changed the donation is recorded on it; the two that changed nothing in providerEvents.
    assert.deepEqual(final.providerEventIds, [succeeded.id]);
    assert.equal(await countDocs("providerEvents"), 2);
  });

  it("a refund that arrives before the succeeded event still counts the charge once and the refund once", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 40_000, currency: "CZK" });
    const pi = intentOf(result);
    const succeeded = fakeStripe().succeed(pi);
    const refunded = fakeStripe().refund(pi, 15_000);
    assert.equal((await webhook(refunded)).status, 200);
    // The late succeeded event adds only what Stripe received (the same amount): no new ledger entry.
    assert.equal((await webhook(succeeded)).body.outcome, "applied");
    const final = await donation(result.donationId);
    assert.equal(final.amountReceived, 40_000);
    assert.equal(final.status, "succeeded");
    assert.equal(final.refundedAmount, 15_000);
    assert.equal(final.netAmount, 25_000);
    assert.equal((await wishState()).raised, 25_000);
    assert.equal(await countDocs("ledger"), 2);
    const contribution = await adminDb().doc(`users/dana/contributions/${WISH}`).get();
    assert.equal(contribution.get("amount"), 25_000);
  });

  it("a dispute withdraws the money; a won dispute reinstates it; a lost one keeps it out", async () => {
    const first = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 30_000, currency: "CZK" });
    const second = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 20_000, currency: "CZK" });
    const [pi1, pi2] = [intentOf(first), intentOf(second)];
    await webhook(fakeStripe().succeed(pi1));
    await webhook(fakeStripe().succeed(pi2));
    assert.equal((await wishState()).raised, 50_000);

    const opened1 = fakeStripe().dispute(pi1);
    const opened2 = fakeStripe().dispute(pi2);
    await webhook(opened1);
    await webhook(opened2);
    assert.equal((await donation(first.donationId)).status, "disputed");
    assert.equal((await wishState()).raised, 0);
    assert.equal(await countDocs(`wishes/${WISH}/supporters`), 0, "a fully withdrawn donation is no longer shown");

    const won = fakeStripe().closeDispute(String(opened1.data.object.id), "won");
    const lost = fakeStripe().closeDispute(String(opened2.data.object.id), "lost");
    await webhook(won);
    await webhook(lost);
    await webhook(opened1); // a redelivered "created" cannot reopen a closed dispute
    assert.equal((await donation(first.donationId)).status, "succeeded");
    assert.equal((await donation(second.donationId)).status, "disputed");
    const wish = await wishState();
    assert.equal(wish.raised, 30_000);
    assert.equal(wish.donorCount, 1, "donorCount counts donors with a charge; dana is one donor");
    assert.equal(await countDocs("ledger"), 5); // 2 charges, 2 withdrawals, 1 reinstatement
  });

  it("funds the wish exactly once and reveals a surprise to its recipient", async () => {
    const SURPRISE = "wish-surprise";
    await seedWish(adminDb(), SURPRISE, {
      ownerId: "rita",
      organizerId: "oscar",
      isSurprise: true,
      amount: 60_000,
      audience: { kind: "people", groupIds: [], userIds: ["dana"] },
      viewerIds: ["oscar", "dana"],
    });
    const oscar = await signedInClient("oscar");
    const a = await dana.call<CardDonateResult>("donate", { wishId: SURPRISE, amount: 40_000, currency: "CZK" });
    const b = await oscar.call<CardDonateResult>("donate", { wishId: SURPRISE, amount: 20_000, currency: "CZK" });
    const [ea, eb] = [fakeStripe().succeed(intentOf(a)), fakeStripe().succeed(intentOf(b))];
    await Promise.all([webhook(ea), webhook(eb), webhook(ea), webhook(eb)]);

    const wish = await wishState(SURPRISE);
    assert.equal(wish.status, "funded");
    assert.equal(wish.raised, 60_000);
    assert.ok(wish.fundedAt);
    assert.ok(wish.revealedAt);
    const rita = await signedInClient("rita");
    const seen = await getDoc(doc(rita.db, "wishes", SURPRISE));
    assert.equal(seen.get("status"), "funded");
    const events = await adminDb().collection("events").where("wishId", "==", SURPRISE).get();
    // The fold's outbox events (donation.received is published by the donations' trigger: no outbox document).
    assert.deepEqual(events.docs.map((event) => event.get("type") as string).sort(), [
      "surprise.revealed",
      "wish.funded",
    ]);
    await expectCode(dana.call("donate", { wishId: SURPRISE, amount: 1_500, currency: "CZK" }), "failed-precondition", /funded/);
  });

  it("bad, missing or stale signatures and tampered payloads → 400 with nothing written", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 20_000, currency: "CZK" });
    const event = fakeStripe().succeed(intentOf(result));
    assert.equal((await webhook(event, { secret: "whsec_wrong" })).status, 400);
    assert.equal((await webhook(event, { signature: null })).status, 400);
    assert.equal((await webhook(event, { signature: "t=1,v1=deadbeef" })).status, 400);
    const { signature } = fakeStripe().signed(event);
    const tampered = JSON.stringify({ ...event, data: { object: { ...event.data.object, amount_received: 99_999_999 } } });
    const response = await fetch(await functionUrl("stripeWebhook"), {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: tampered,
    });
    assert.equal(response.status, 400);
    assert.equal(await countDocs("providerEvents"), 0);
    assert.equal(await countDocs("ledger"), 0);
    assert.equal((await donation(result.donationId)).status, "pending");
    assert.equal((await wishState()).raised, 0);
  });

  it("verified events of types we do not handle get 2xx and change nothing", async () => {
    const answer = await webhook(fakeStripe().unrelated("customer.created"));
    assert.deepEqual(answer, { status: 200, body: { received: true, outcome: "ignored" } });
    assert.equal(await countDocs("providerEvents"), 0);
  });

  it("tampered or invalid input → invalid-argument naming the field, and no PaymentIntent", async () => {
    await expectCode(dana.call("donate", { wishId: WISH, amount: 50_000, currency: "EUR" }), "invalid-argument", /currency/);
    await expectCode(dana.call("donate", { wishId: WISH, amount: 1_000, currency: "CZK" }), "invalid-argument", /amount/);
    await expectCode(dana.call("donate", { wishId: WISH, amount: 1_500.5, currency: "CZK" }), "invalid-argument", /amount/);
    await expectCode(dana.call("donate", { wishId: WISH, amount: "50000", currency: "CZK" }), "invalid-argument", /amount/);
    await expectCode(
      dana.call("donate", { wishId: WISH, amount: 50_000, currency: "CZK", status: "succeeded" }),
      "invalid-argument",
      /status|Unrecognized/i,
    );
    await expectCode(dana.call("donate", { amount: 50_000, currency: "CZK" }), "invalid-argument", /wishId/);
    assert.equal(fakeStripe().callsTo("POST", "/v1/payment_intents").length, 0);
    assert.equal(await countDocs("donations"), 0);
  });

  it("closed, funded, expired, missing, invisible (surprise for me) and own wishes → clear errors, no PaymentIntent", async () => {
    await seedWish(adminDb(), "w-closed", { status: "closed", closedAt: new Date() });
    await seedWish(adminDb(), "w-expired", { deadline: new Date(Date.now() - 60_000) });
    await seedWish(adminDb(), "w-hidden", { viewerIds: ["olga", "dave"] });
    await seedWish(adminDb(), "w-surprise-for-dana", { ownerId: "dana", organizerId: "oscar", isSurprise: true, viewerIds: ["oscar", "dave"] });
    await seedWish(adminDb(), "w-own", { ownerId: "dana", organizerId: "dana", viewerIds: ["dana", "dave"] });
    const attempt = (wishId: string) => dana.call("donate", { wishId, amount: 10_000, currency: "CZK" });
    await expectCode(attempt("w-closed"), "failed-precondition", /closed/);
    await expectCode(attempt("w-expired"), "failed-precondition", /deadline/);
    await expectCode(attempt("w-missing"), "permission-denied", /^No such wish, or you cannot see it\./);
    await expectCode(attempt("w-hidden"), "permission-denied", /^No such wish, or you cannot see it\./);
    await expectCode(attempt("w-surprise-for-dana"), "permission-denied", /^No such wish, or you cannot see it\./);
    await expectCode(attempt("w-own"), "permission-denied", /own wish/);
    const anonymous = await anonymousClient();
    await expectCode(anonymous.call("donate", { wishId: WISH, amount: 10_000, currency: "CZK" }), "unauthenticated");
    assert.equal(fakeStripe().callsTo("POST", "/v1/payment_intents").length, 0);
    assert.equal(await countDocs("donations"), 0);
  });

  it("a wish ops froze → failed-precondition 'on hold' before any Stripe call; a lifted freeze (frozenAt null) accepts again", async () => {
    await seedWish(adminDb(), "w-frozen", { frozenAt: new Date() });
    await seedWish(adminDb(), "w-unfrozen", { frozenAt: null });
    await expectCode(dana.call("donate", { wishId: "w-frozen", amount: 10_000, currency: "CZK" }), "failed-precondition", /on hold/);
    assert.equal(fakeStripe().callsTo("POST", "/v1/customers").length, 0);
    assert.equal(fakeStripe().callsTo("POST", "/v1/payment_intents").length, 0);
    assert.equal(await countDocs("donations"), 0);

    const result = await dana.call<CardDonateResult>("donate", { wishId: "w-unfrozen", amount: 10_000, currency: "CZK" });
    assert.equal((await donation(result.donationId)).wishId, "w-unfrozen");
    assert.equal(fakeStripe().callsTo("POST", "/v1/payment_intents").length, 1);
  });

  it("overfunding policy: at most the remaining amount (but never below the currency minimum)", async () => {
    await seedWish(adminDb(), "w-almost", { amount: 100_000, raised: 99_000, hasSucceededDonation: true, donorCount: 1 });
    await expectCode(dana.call("donate", { wishId: "w-almost", amount: 2_000, currency: "CZK" }), "failed-precondition", { reason: "amount_over_remaining", field: "amount", max: 1_500, currency: "CZK" });
    const ok = await dana.call<CardDonateResult>("donate", { wishId: "w-almost", amount: 1_500, currency: "CZK" });
    assert.ok(ok.donationId);
    await expectCode(dana.call("donate", { wishId: WISH, amount: 150_001, currency: "CZK" }), "failed-precondition", { reason: "amount_over_remaining", max: 150_000 });
  });

  it("errors answer in the caller's language (Accept-Language, then settings.locale); details do not change", async () => {
    // A raw callable request, as an app's HTTP stack sends it, asking for Czech.
    const user = dana.auth.currentUser;
    assert.ok(user);
    const response = await fetch(await functionUrl("closeWish"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await user.getIdToken()}`,
        "x-firebase-appcheck": emulatorAppCheckToken(),
        "accept-language": "cs-CZ,cs;q=0.9,en;q=0.5",
      },
      body: JSON.stringify({ data: { wishId: "a/b" } }),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { status: string; message: string; details: unknown } };
    assert.deepEqual(error, {
      status: "INVALID_ARGUMENT",
      message: "Pole 'wishId': musí být id bez znaku '/'",
      details: { reason: "invalid_input", field: "wishId", problem: "id_has_slash" },
    });

    // The SDK sends no language of ours: the account's settings decide.
    await expectCode(dana.call("donate", { wishId: WISH, amount: 150_001, currency: "CZK" }), "failed-precondition", /^Field 'amount': at most CZK\s1,500\.00 can be given/);
    const settings = { locale: "cs-CZ", mutedCategories: [], showDonationsInFeed: true };
    await adminDb().doc("users/dana/private/account").set({ firstName: null, lastName: null, email: null, birthday: null, facebookId: null, settings, facebookSync: null });
    await expectCode(dana.call("donate", { wishId: WISH, amount: 150_001, currency: "CZK" }), "failed-precondition", /^Pole 'amount': na toto přání teď lze dát nejvýše 1\s500,00\sKč\./);
    await expectCode(dana.call("donate", { wishId: WISH, amount: 150_001, currency: "CZK" }), "failed-precondition", { reason: "amount_over_remaining", field: "amount", max: 150_000, currency: "CZK" });
  });

  it("Stripe failing → unavailable; the pending donation is marked provider_unavailable; nothing when the customer step fails", async () => {
    // Stripe down for every attempt of the PaymentIntent call (the SDK retries twice with the same idempotency key).
    fakeStripe().failNext(3, "/v1/payment_intents");
    await expectCode(dana.call("donate", { wishId: WISH, amount: 20_000, currency: "CZK" }), "unavailable", /payment service is unavailable/);
    const donations = await adminDb().collection("donations").get();
    assert.equal(donations.size, 1);
    assert.equal(donations.docs[0]?.get("status"), "failed");
    assert.equal(donations.docs[0]?.get("failureCode"), "provider_unavailable");
    const attempts = fakeStripe().callsTo("POST", "/v1/payment_intents");
    assert.equal(attempts.length, 3);
    assert.equal(new Set(attempts.map((call) => call.idempotencyKey)).size, 1, "every retry reused the idempotency key");

    fakeStripe().failNext(3, "/v1/customers");
    const eve = await signedInClient("dave");
    await expectCode(eve.call("donate", { wishId: WISH, amount: 20_000, currency: "CZK" }), "unavailable");
    assert.equal(await countDocs("donations"), 1, "no donation document when the customer could not be created");
  });

  it("a transient Stripe error is retried by the SDK with the same idempotency key: one PaymentIntent", async () => {
    fakeStripe().failNext(1, "/v1/payment_intents");
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 20_000, currency: "CZK" });
    assert.ok(result.paymentIntentClientSecret);
    assert.equal(fakeStripe().paymentIntents.size, 1);
    assert.equal((await donation(result.donationId)).status, "pending");
  });

  it("concurrent first donations by one user create exactly one Stripe Customer", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 10_000, currency: "CZK" })),
    );
    assert.equal(fakeStripe().customers.size, 1);
    assert.equal(new Set(results.map((result) => result.customerId)).size, 1);
    const record = await adminDb().doc("paymentCustomers/dana").get();
    assert.equal(record.get("stripeCustomerId"), results[0]?.customerId);
    assert.equal(fakeStripe().paymentIntents.size, 6);
  });

  it("reconcileWishLedger (admin) re-derives totals from the ledger, reports drift and repairs it; every call audited with its reason", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 50_000, currency: "CZK" });
    await webhook(fakeStripe().succeed(intentOf(result)));
    await wishState();
    const admin = await signedInClient("ada", {}, { admin: true });
    const reason = "donor asked about the total";
    // Like the ops command reconcileWish: a reason is required, for the read-only check too.
    await expectCode(admin.call("reconcileWishLedger", { wishId: WISH }), "invalid-argument", { field: "reason" });
    await expectCode(admin.call("reconcileWishLedger", { wishId: WISH, repair: true }), "invalid-argument", { field: "reason" });
    const clean = await admin.call<{ result: string; drift: boolean }>("reconcileWishLedger", { wishId: WISH, reason });
    assert.deepEqual([clean.result, clean.drift], ["in_order", false]);

    // Drift as it can happen now: the counter shards disagree with the ledger (and the wish shows what they say).
    await adminDb().doc(`wishes/${WISH}/raisedShards/adjustment`).set({ raised: 7 - 50_000, donorCount: 2 });
    assert.equal((await wishState()).raised, 7);
    const report = await admin.call<{ drift: boolean; repaired: boolean }>("reconcileWishLedger", { wishId: WISH, reason });
    assert.deepEqual(report, {
      result: "drift",
      drift: true,
      repaired: false,
      expected: { raised: 50_000, donorCount: 1, hasSucceededDonation: true },
      actual: { raised: 7, donorCount: 3, hasSucceededDonation: true },
      paidAmount: null,
    });
    const stored = await adminDb().doc(`ops/ledger/drift/${WISH}`).get();
    assert.equal(stored.get("drift"), true);
    assert.equal((await wishState()).raised, 7, "report-only by default");

    const repaired = await admin.call<{ result: string; repaired: boolean }>("reconcileWishLedger", { wishId: WISH, repair: true, reason: "repair after the check" });
    assert.deepEqual([repaired.result, repaired.repaired], ["repaired", true]);
    assert.equal((await wishState()).raised, 50_000);
    assert.equal((await wishState()).donorCount, 1);
    assert.deepEqual((await adminDb().doc(`wishes/${WISH}/raisedShards/adjustment`).get()).data(), { raised: 0, donorCount: 0 }, "the correction went into the shards");
    await expectCode(admin.call("reconcileWishLedger", { wishId: "no-such-wish", reason }), "not-found");
    await expectCode(dana.call("reconcileWishLedger", { wishId: WISH, reason }), "permission-denied");

    // The audit log, as for the ops command: calls that passed validation, refusals included; none for dana's call.
    const entries = (await adminDb().collection("auditLog").where("action", "==", "reconcileWish").get()).docs
      .sort((a, b) => (a.get("at") as Timestamp).toMillis() - (b.get("at") as Timestamp).toMillis())
      .map((entry) => ["actorId", "target", "reason", "result"].map((field) => String(entry.get(field))));
    assert.deepEqual(entries, [
      ["ada", `wishes/${WISH}`, reason, "in_order"],
      ["ada", `wishes/${WISH}`, reason, "drift"],
      ["ada", `wishes/${WISH}`, "repair after the check", "repaired"],
      ["ada", "wishes/no-such-wish", reason, "refused: not-found"],
    ]);
  });

  it("refunds as Stripe reports them today: refund.created / refund.updated / refund.failed / charge.refund.updated; charge.refunded without its list changes nothing", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 40_000, currency: "CZK" });
    const pi = intentOf(result);
    await webhook(fakeStripe().succeed(pi));
    fakeStripe().refundsApi.nextStatus = "pending";
    const created = fakeStripe().refund(pi, 10_000);
    const chargeRefunded = fakeStripe().events.find((event) => event.type === "charge.refunded");
    assert.ok(chargeRefunded && !("refunds" in chargeRefunded.data.object), "today's charge carries no refunds list");
    assert.deepEqual((await webhook(chargeRefunded)).body, { received: true, outcome: "ignored" });
    assert.equal((await webhook(created)).body.outcome, "applied");
    let current = await donation(result.donationId);
    assert.equal(current.netAmount, 40_000, "a pending refund is not money back yet");
    assert.deepEqual(current.refunds, { [String(created.data.object.id)]: { amount: 10_000, status: "pending" } });

    const [updated, legacy] = fakeStripe().refundsApi.settle(String(created.data.object.id), "succeeded") as StripeEventObject[];
    assert.ok(updated && legacy);
    assert.equal((await webhook(legacy)).body.outcome, "applied", "charge.refund.updated carries the refund too");
    assert.equal((await webhook(updated)).body.outcome, "no_change");
    current = await donation(result.donationId);
    assert.equal(current.netAmount, 30_000);
    assert.equal(current.refundedAmount, 10_000);

    // The card was closed: Stripe fails the refund after it succeeded, and the money comes back to us.
    const failedEvents = fakeStripe().refundsApi.settle(String(created.data.object.id), "failed") as StripeEventObject[];
    for (const event of failedEvents.reverse()) await webhook(event); // refund.failed first, out of order
    current = await donation(result.donationId);
    assert.equal(current.netAmount, 40_000);
    assert.equal(current.refundedAmount, 0);
    assert.equal(current.status, "succeeded");
    const ledger = (await adminDb().collection("ledger").get()).docs.map((entry) => `${String(entry.get("kind"))}:${String(entry.get("amount"))}`).sort();
    assert.deepEqual(ledger, ["charge:40000", "refund:-10000", "refund_failed:10000"]);
    assert.equal((await wishState()).raised, 40_000);
  });

  it("the ledger books what Stripe received (amount_received) and flags a mismatch for ops at once", async () => {
    const result = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 40_000, currency: "CZK" });
    const pi = intentOf(result);
    assert.equal((await webhook(fakeStripe().succeed(pi, { amountReceived: 39_000 }))).status, 200);
    const current = await donation(result.donationId);
    assert.equal(current.amountReceived, 39_000);
    assert.equal(current.netAmount, 39_000);
    assert.equal((await wishState()).raised, 39_000);
    const finding = (await adminDb().doc(`ops/reconciliation/findings/payment_amount_mismatch_${pi}`).get()).data();
    assert.equal(finding?.donationId, result.donationId);
    assert.equal(finding?.amount, 39_000);
    assert.equal(finding?.resolvedAt, null);
    assert.match(String(finding?.detail), /received 39000 CZK; the donation asked for 40000/);
    const ledger = (await adminDb().collection("ledger").get()).docs.map((entry) => `${String(entry.get("kind"))}:${String(entry.get("amount"))}`).sort();
    assert.deepEqual(ledger, ["charge:40000", "charge_adjustment:-1000"]);
  });

  it("donate with a requestId: a retry answers the same donation and PaymentIntent; a reused id for another donation is refused", async () => {
    const input = { wishId: WISH, amount: 20_000, currency: "CZK", requestId: "tap-2026-11-30-a1" };
    const [first, concurrent] = await Promise.all([dana.call<CardDonateResult>("donate", input), dana.call<CardDonateResult>("donate", input)]);
    const again = await dana.call<CardDonateResult>("donate", input);
    assert.equal(concurrent.donationId, first.donationId);
    assert.equal(again.donationId, first.donationId);
    assert.equal(again.paymentIntentClientSecret, first.paymentIntentClientSecret);
    assert.equal(await countDocs("donations"), 1);
    assert.equal(fakeStripe().paymentIntents.size, 1, "one PaymentIntent");
    await expectCode(dana.call("donate", { ...input, amount: 25_000 }), "already-exists", /requestId/);
    await expectCode(dana.call("donate", { ...input, requestId: "a/b" }), "invalid-argument", /requestId/);
    // Another donor's identical requestId is another donation.
    await adminDb().doc("users/dave").set({ displayName: "Dave", photoUrl: null, facebookLinked: false });
    const dave = await signedInClient("dave");
    assert.notEqual((await dave.call<CardDonateResult>("donate", input)).donationId, first.donationId);
    // Paid: a late retry cannot pay twice.
    await webhook(fakeStripe().succeed(intentOf(first)));
    await expectCode(dana.call("donate", input), "failed-precondition", /already succeeded/);
  });

  it("a retried donate passes the wish checks again: frozen, no longer visible or closed → refused as a new donation; the payment is left as it was", async () => {
    const input = { wishId: WISH, amount: 20_000, currency: "CZK", requestId: "tap-2026-12-01-b2" };
    const first = await dana.call<CardDonateResult>("donate", input);
    const wishDoc = adminDb().collection("wishes").doc(WISH);
    const viewerIds = ((await wishDoc.get()).get("viewerIds") as string[]).slice();
    const retryRefused = async (code: string, expected: RegExp | Record<string, unknown>) => {
      await expectCode(dana.call("donate", input), code, expected);
      // Nothing new, and the payment already handed out is neither canceled nor changed.
      assert.equal(fakeStripe().paymentIntents.size, 1, "one PaymentIntent");
      assert.equal(fakeStripe().paymentIntents.get(intentOf(first))?.status, "requires_payment_method");
      assert.equal((await donation(first.donationId)).paymentStatus, "pending");
    };

    // Ops froze the wish: the retry is refused like a new donation; once the freeze is lifted, the same payment again.
    await wishDoc.update({ frozenAt: new Date() });
    await retryRefused("failed-precondition", { reason: "wish_frozen" });
    await wishDoc.update({ frozenAt: null });
    const resumed = await dana.call<CardDonateResult>("donate", input);
    assert.equal(resumed.donationId, first.donationId);
    assert.equal(resumed.paymentIntentClientSecret, first.paymentIntentClientSecret);

    // Dana left the wish's audience (or moderation hid it): the same answer as for a wish that does not exist.
    await wishDoc.update({ viewerIds: viewerIds.filter((uid) => uid !== "dana") });
    await retryRefused("permission-denied", /^No such wish, or you cannot see it\./);
    await wishDoc.update({ viewerIds });

    // The wish closed meanwhile.
    await wishDoc.update({ status: "closed", closedAt: new Date() });
    await retryRefused("failed-precondition", { reason: "wish_not_open", status: "closed" });
    assert.equal(await countDocs("donations"), 1);
  });

  it("cancelDonation: the donor cancels an unpaid donation at Stripe; not theirs → not-found; paid → failed-precondition", async () => {
    const unpaid = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 20_000, currency: "CZK" });
    const paid = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 15_000, currency: "CZK" });
    await webhook(fakeStripe().succeed(intentOf(paid)));
    await adminDb().doc("users/dave").set({ displayName: "Dave", photoUrl: null, facebookLinked: false });
    const dave = await signedInClient("dave");
    await expectCode(dave.call("cancelDonation", { donationId: unpaid.donationId }), "not-found", /No such donation/);
    await expectCode(dana.call("cancelDonation", { donationId: "nope" }), "not-found", /No such donation/);
    await expectCode(dana.call("cancelDonation", {}), "invalid-argument", /donationId/);
    await expectCode(anonymousClient().then((client) => client.call("cancelDonation", { donationId: unpaid.donationId })), "unauthenticated");
    await expectCode(dana.call("cancelDonation", { donationId: paid.donationId }), "failed-precondition", /already paid/);

    assert.deepEqual(await dana.call("cancelDonation", { donationId: unpaid.donationId }), { status: "canceled" });
    assert.deepEqual(await dana.call("cancelDonation", { donationId: unpaid.donationId }), { status: "canceled" }, "twice: the same answer");
    assert.equal(fakeStripe().paymentIntents.get(intentOf(unpaid))?.status, "canceled");
    const canceled = await donation(unpaid.donationId);
    assert.equal(canceled.status, "canceled");
    assert.equal(canceled.cancellationReason, "requested_by_customer");
    // Stripe's payment_intent.canceled arrives later and changes nothing.
    const event = fakeStripe().events.find((candidate) => candidate.type === "payment_intent.canceled");
    assert.ok(event);
    assert.equal((await webhook(event)).body.outcome, "no_change");
  });

  it("abandoned donations: the hourly sweep cancels those unpaid for a day at Stripe; a payment that succeeded meanwhile is booked", async () => {
    const abandoned = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 20_000, currency: "CZK" });
    const declined = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 16_000, currency: "CZK" });
    await webhook(fakeStripe().fail(intentOf(declined)));
    const paidLate = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 15_000, currency: "CZK" });
    fakeStripe().succeed(intentOf(paidLate)); // its webhook has not arrived
    const fresh = await dana.call<CardDonateResult>("donate", { wishId: WISH, amount: 17_000, currency: "CZK" });
    await adminDb().doc(`donations/${fresh.donationId}`).update({ createdAt: new Date(Date.now() + ABANDONED_AFTER_MS) });

    const deps = { db: adminDb(), clock: fixedClock(new Date(Date.now() + ABANDONED_AFTER_MS + 60_000)), provider: new StripePaymentProvider(stripeClient("sk_test_elateme_tests")), tasks: recordingTasks() };
    assert.deepEqual(await cancelAbandonedDonations(deps), { canceled: 2, checked: 3 });
    for (const id of [abandoned.donationId, declined.donationId]) {
      const current = await donation(id);
      assert.equal(current.status, "canceled");
      assert.equal(current.cancellationReason, "abandoned");
    }
    assert.equal(fakeStripe().paymentIntents.get(intentOf(abandoned))?.cancellation_reason, "abandoned");
    assert.equal((await donation(paidLate.donationId)).status, "succeeded", "Stripe refused the cancel: it was paid, and that is booked");
    assert.equal((await wishState()).raised, 15_000);
    assert.equal((await donation(fresh.donationId)).status, "pending", "younger than a day: left alone");
    assert.deepEqual(await cancelAbandonedDonations(deps), { canceled: 0, checked: 0 });
  });
});
