// Ads attribution (docs/analytics.md): the Conversions API consumer called in-process with a fixed clock against the
// Firestore emulator, sending through facebook-nodejs-business-sdk to the fake Graph's Conversions API. Each test uses
// its own dataset id, so the emulated consumer (which sends to the local dataset) never claims these queue items.
// The end-to-end path through the real Pub/Sub trigger is in social/facebook.test.ts (a consenting sign-up).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Timestamp } from "firebase-admin/firestore";
import { ADS_CONSUMER, ConversionPendingError, handleConversionsMessage } from "../../src/analytics/conversions";
import type { ConversionsDeps, ConversionsOutcome } from "../../src/analytics/conversions";
import { redriveAdsDeadLetter } from "../../src/analytics/redrive";
import { DomainError } from "../../src/lib/errors";
import { DEAD_LETTERS } from "../../src/events/consume";
import { encodeEventId } from "../../src/events/outbox";
import type { DomainEvent } from "../../src/events/schema";
import { sdkConversionsApi } from "../../src/meta/conversions";
import { deleteAccount } from "../../src/social/account";
import { adminAuth, adminDb } from "../../devtools/support/admin";
import { LOCAL_META_CONVERSIONS } from "../../devtools/fakes/graph";
import { fakeGraph } from "../../devtools/support/fakes";
import { donationData, wishData } from "../helpers/closing";
import { fixedClock } from "../helpers/clock";
import { recordingTasks } from "../helpers/tasks";

const NOW = new Date("2026-11-23T10:00:00.000Z");
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
let datasets = 0;

/** A fresh dataset, clock and consumer per test; `maxAttempts` small so a dead letter takes two failures. */
function world() {
  const datasetId = `ads-test-${process.pid}-${++datasets}`;
  const clock = fixedClock(NOW);
  const api = sdkConversionsApi({ datasetId, accessToken: LOCAL_META_CONVERSIONS.accessToken, baseUrl: fakeGraph().url, timeoutMs: 5000 });
  const deps: ConversionsDeps = { db: adminDb(), clock, api, policy: { maxAttempts: 3, baseDelayMs: 60_000 } };
  let deliveries = 0;
  return {
    datasetId,
    clock,
    deps,
    /** One Pub/Sub delivery of the event (a redelivery is another call with the same event). */
    deliver: (event: DomainEvent): Promise<ConversionsOutcome> =>
      handleConversionsMessage(deps, { messageId: `m-${++deliveries}`, data: Buffer.from(JSON.stringify(event)).toString("base64") }),
    sent: () => fakeGraph().conversionEvents(datasetId),
    requests: () => fakeGraph().conversions.filter((request) => request.datasetId === datasetId).length,
  };
}

async function person(uid: string, options: { consent?: boolean; email?: string | null; platform?: "ios" | "android" } = {}): Promise<void> {
  const settings = { locale: "en", mutedCategories: [], showDonationsInFeed: true, ...(options.consent === undefined ? {} : { adsConsent: options.consent }) };
  const writes = adminDb().batch();
  writes.set(adminDb().doc(`users/${uid}`), { displayName: `${uid} Secretname`, photoUrl: null, facebookLinked: true, createdAt: NOW, updatedAt: NOW });
  writes.set(adminDb().doc(`users/${uid}/private/account`), {
    firstName: `${uid}-first`,
    lastName: "Secretname",
    email: options.email === undefined ? `${uid}@example.com` : options.email,
    birthday: null,
    facebookId: `fb-${uid}`,
    settings,
    facebookSync: null,
  });
  if (options.platform) writes.set(adminDb().doc(`users/${uid}/private/push`), { devices: { phone: { platform: options.platform, token: `tok-${uid}`, locale: "en" } } });
  await writes.commit();
}

const setConsent = (uid: string, consent: boolean) => adminDb().doc(`users/${uid}/private/account`).update({ "settings.adsConsent": consent });

const signedUp = (uid: string): DomainEvent => ({ id: `user.signed_up:${uid}`, type: "user.signed_up", userId: uid, occurredAt: NOW.toISOString() });

/**
 * A donation as the ledger leaves it (donation document, its ledger entries) and the event it published. `received`
 * is what Stripe took: a charge of the amount asked plus a charge adjustment, as src/donations/state.ts books it.
 */
async function donation(
  donorId: string,
  options: { status?: "succeeded" | "failed" | "refunded"; surpriseFor?: string; asked?: number; received?: number } = {},
): Promise<DomainEvent> {
  const asked = options.asked ?? 2_000;
  const received = options.received ?? asked;
  const status = options.status ?? "succeeded";
  const wishId = `wish-${donorId}-${Math.random().toString(36).slice(2, 8)}`;
  const donationId = `don-${donorId}-${Math.random().toString(36).slice(2, 8)}`;
  const owner = options.surpriseFor ?? "olga";
  const paid = status !== "failed";
  const entries: Record<string, { kind: string; amount: number }> = paid ? { [`${donationId}-charge`]: { kind: "charge", amount: asked } } : {};
  if (paid && received !== asked) entries[`${donationId}-adjust`] = { kind: "charge_adjustment", amount: received - asked };
  if (status === "refunded") entries[`${donationId}-refund`] = { kind: "refund", amount: -received };
  const writes = adminDb().batch();
  writes.set(adminDb().doc(`wishes/${wishId}`), wishData({ ownerId: owner, organizerId: options.surpriseFor ? "organizer" : owner, isSurprise: Boolean(options.surpriseFor), currency: "CZK" }));
  writes.set(
    adminDb().doc(`donations/${donationId}`),
    donationData(wishId, {
      donorId,
      amount: asked,
      currency: "CZK",
      status,
      paymentStatus: paid ? "succeeded" : "failed",
      amountReceived: paid ? received : null,
      ledgerEntryIds: Object.keys(entries),
      netAmount: Object.values(entries).reduce((sum, entry) => sum + entry.amount, 0),
    }),
  );
  for (const [id, entry] of Object.entries(entries)) {
    writes.set(adminDb().doc(`ledger/${id}`), { ...entry, wishId, donationId, donorId, currency: "CZK", provider: "stripe", providerObjectId: "pi_test", eventId: "evt_test", createdAt: NOW });
  }
  await writes.commit();
  return { id: `donation.received:${donationId}`, type: "donation.received", wishId, donationId, donorId, amount: received, currency: "CZK", anonymous: false, occurredAt: NOW.toISOString() };
}

const item = (uid: string, event: DomainEvent) => adminDb().doc(`users/${uid}/adsEvents/${encodeEventId(event.id)}`).get();
const outage = (times: number) => fakeGraph().failNext("/events", { kind: "error", status: 503 }, times);

/** Two consenting users sign up during an outage: each delivery's own send fails (the second flush claims only its own). */
async function bothSignUpsFail(w: ReturnType<typeof world>, first: string, second: string): Promise<void> {
  await person(first, { consent: true });
  await person(second, { consent: true });
  outage(2);
  await assert.rejects(w.deliver(signedUp(first)), ConversionPendingError);
  await assert.rejects(w.deliver(signedUp(second)), ConversionPendingError);
}

describe("ads attribution: Conversions API events (in-process consumer, fake Graph)", function () {
  this.timeout(60_000);

  it("a consenting user's sign-up: exactly one CompleteRegistration, hashed identifiers only; a redelivery sends nothing more", async () => {
    const w = world();
    await person("ann", { consent: true, email: "  Ann.Lee@Example.COM ", platform: "ios" });

    const first = await w.deliver(signedUp("ann"));
    assert.equal(first.outcome === "done" && first.state, "sent");
    const again = await w.deliver(signedUp("ann"));
    assert.deepEqual(again.outcome === "done" && [again.state, again.flush.claimed], ["sent", 0]);

    const events = w.sent();
    assert.equal(events.length, 1);
    const event = events[0] ?? {};
    assert.equal(event.event_name, "CompleteRegistration");
    assert.equal(event.action_source, "app");
    assert.equal(event.event_time, NOW.getTime() / 1000);
    assert.equal(event.event_id, sha256("user.signed_up:ann"), "the id the app computes for its SDK event");
    assert.deepEqual(event.user_data, { em: [sha256("ann.lee@example.com")], external_id: [sha256("ann")] });
    assert.deepEqual((event.app_data as { extinfo: Record<string, string> }).extinfo["0"], "i2");
    assert.equal(event.custom_data, undefined);
    const raw = JSON.stringify(fakeGraph().conversions.filter((request) => request.datasetId === w.datasetId));
    for (const secret of ["Secretname", "ann-first", "Example.COM", "example.com", "\"ann\""]) assert.ok(!raw.includes(secret), `nothing raw like ${secret} is sent`);
    assert.equal((await item("ann", signedUp("ann"))).get("state"), "sent");
  });

  it("a consenting donor's succeeded donation: one Donate, its value from the ledger in major units; a duplicate sends nothing more", async () => {
    const w = world();
    await person("dora", { consent: true, email: null });
    // Stripe took 19.99 CZK of the 20.00 asked: the ledger's charge plus its adjustment.
    const event = await donation("dora", { asked: 2_000, received: 1_999 });

    assert.equal((await w.deliver(event)).outcome, "done");
    await w.deliver(event);

    const events = w.sent();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event_name, "Donate");
    assert.equal(events[0]?.event_id, sha256(event.id));
    assert.deepEqual(events[0]?.custom_data, { value: 19.99, currency: "CZK" }, "no wish, message or donation id: only value and currency");
    assert.deepEqual(events[0]?.user_data, { external_id: [sha256("dora")] }, "no email on file: the external id only");
  });

  it("nothing is sent for a non-consenting user, a failed or refunded donation, or anything about a surprise (donor or recipient)", async () => {
    const w = world();
    await person("nora"); // never chose: off
    await person("ned", { consent: false });
    await person("carl", { consent: true });
    await person("rita", { consent: true }); // a surprise's recipient
    await person("sam", { consent: true }); // gives to rita's surprise

    assert.equal((await w.deliver(signedUp("nora"))).outcome, "no-consent");
    assert.equal((await w.deliver(signedUp("ned"))).outcome, "no-consent");
    const refusals: [DomainEvent, string][] = [
      [await donation("carl", { status: "failed" }), "donation_failed"],
      [await donation("carl", { status: "refunded" }), "donation_refunded"],
      [await donation("sam", { surpriseFor: "rita" }), "surprise_wish"],
    ];
    for (const [event, reason] of refusals) {
      const outcome = await w.deliver(event);
      assert.deepEqual(outcome.outcome === "done" && [outcome.state, outcome.flush.skipped], ["skipped", { [reason]: 1 }]);
    }
    const surpriseWishId = refusals[2]?.[0].type === "donation.received" ? refusals[2][0].wishId : "";
    for (const event of [
      { id: `wish.funded:${surpriseWishId}`, type: "wish.funded", wishId: surpriseWishId, ownerId: "rita", occurredAt: NOW.toISOString() },
      { id: `surprise.revealed:${surpriseWishId}`, type: "surprise.revealed", wishId: surpriseWishId, ownerId: "rita", organizerId: "organizer", occurredAt: NOW.toISOString() },
    ] satisfies DomainEvent[]) {
      assert.equal((await w.deliver(event)).outcome, "not-an-ads-event");
    }
    assert.deepEqual(w.sent(), []);
    assert.equal(w.requests(), 0);
    assert.equal((await adminDb().collection("users/rita/adsEvents").get()).size, 0, "nothing is even queued for the recipient");
  });

  it("an outage is retried with backoff, then sent once; due conversions go out together as one batch", async () => {
    const w = world();
    await bothSignUpsFail(w, "ann", "bea");
    const failed = await item("ann", signedUp("ann"));
    assert.deepEqual([failed.get("state"), failed.get("attempts"), failed.get("lastError")], ["pending", 1, "Conversions API answered HTTP 503 (code 2)"]);
    assert.equal((failed.get("nextAttemptAt") as Timestamp).toMillis(), NOW.getTime() + 60_000, "backs off a minute after the first failure");

    // Pub/Sub redelivers early: nothing is due yet, no request is made, the message fails again.
    await assert.rejects(w.deliver(signedUp("ann")), ConversionPendingError);
    assert.equal(fakeGraph().requests.filter((path) => path === `/${w.datasetId}/events`).length, 2);

    w.clock.advance(60_000);
    const recovered = await w.deliver(signedUp("ann"));
    assert.deepEqual(recovered.outcome === "done" && [recovered.state, recovered.flush.claimed, recovered.flush.sent], ["sent", 2, 2]);
    const beaAgain = await w.deliver(signedUp("bea"));
    assert.deepEqual(beaAgain.outcome === "done" && [beaAgain.state, beaAgain.flush.claimed], ["sent", 0]);
    assert.equal(w.requests(), 1, "one accepted request carried both");
    assert.deepEqual(w.sent().map((event) => (event.user_data as { external_id: string[] }).external_id[0]).sort(), [sha256("ann"), sha256("bea")].sort());
  });

  it("a conversion queued for a dataset ops since replaced ends skipped (dataset_changed) instead of failing its message for ever", async () => {
    const old = world();
    await person("cleo", { consent: true });
    outage(1);
    await assert.rejects(old.deliver(signedUp("cleo")), ConversionPendingError);
    // Ops point META_DATASET_ID at another dataset; the redelivery reaches a consumer configured with it.
    const next = world();
    next.clock.advance(60_000);
    const outcome = await next.deliver(signedUp("cleo"));
    assert.deepEqual(outcome.outcome === "done" && outcome.state, "skipped");
    const queued = await item("cleo", signedUp("cleo"));
    assert.deepEqual([queued.get("state"), queued.get("skippedReason")], ["skipped", "dataset_changed"]);
    assert.equal(next.sent().length + old.sent().length, 0, "sent to neither dataset");
  });

  it("a consent withdrawn while the event waits for a retry stops it at once; so does deleting the account", async () => {
    const w = world();
    await bothSignUpsFail(w, "wil", "del");

    await setConsent("wil", false);
    await deleteAccount({ db: adminDb(), auth: adminAuth(), clock: w.clock, tasks: recordingTasks() }, "del");
    w.clock.advance(60_000);

    const withdrawn = await w.deliver(signedUp("wil"));
    assert.deepEqual(withdrawn.outcome === "done" && [withdrawn.state, withdrawn.flush.skipped], ["skipped", { no_consent: 1 }]);
    assert.equal((await item("wil", signedUp("wil"))).get("skippedReason"), "no_consent");
    // The deleted account's queue went with it; a redelivery finds no consent and queues nothing.
    assert.equal((await w.deliver(signedUp("del"))).outcome, "no-consent");
    assert.equal((await item("del", signedUp("del"))).exists, false);
    assert.deepEqual(w.sent(), []);
  });

  it("after every retry failed, the conversion is dead and ops get a dead letter", async () => {
    const w = world();
    await person("ann", { consent: true });
    outage(3);
    await assert.rejects(w.deliver(signedUp("ann")), ConversionPendingError);
    w.clock.advance(60_000);
    await assert.rejects(w.deliver(signedUp("ann")), ConversionPendingError);
    w.clock.advance(120_000);
    const last = await w.deliver(signedUp("ann"));
    assert.deepEqual(last.outcome === "done" && [last.state, last.flush.dead], ["dead", 1]);

    const letter = await adminDb().collection(DEAD_LETTERS).doc(`${ADS_CONSUMER}-${encodeEventId("user.signed_up:ann")}`).get();
    assert.equal(letter.get("consumer"), ADS_CONSUMER);
    assert.match(letter.get("reason") as string, /failed 3 times: Conversions API answered HTTP 503/);
    assert.equal((JSON.parse(letter.get("data") as string) as { id: string }).id, "user.signed_up:ann");
    // A later redelivery leaves it dead (acknowledged): nothing is sent behind ops' back.
    assert.equal((await w.deliver(signedUp("ann"))).outcome, "done");
    assert.deepEqual(w.sent(), []);

    // Ops re-drive the letter once Meta is back (the ops command's action): the item is due again, the letter gone,
    // and the next delivery sends it once. A second re-drive finds no letter; an item that is not dead is refused.
    assert.deepEqual(await redriveAdsDeadLetter(w.deps, letter.id), { result: "redriven", outcome: "queued" });
    assert.equal((await letter.ref.get()).exists, false);
    assert.deepEqual([(await item("ann", signedUp("ann"))).get("state"), (await item("ann", signedUp("ann"))).get("attempts")], ["pending", 0]);
    const resent = await w.deliver(signedUp("ann"));
    assert.deepEqual(resent.outcome === "done" && resent.state, "sent");
    assert.deepEqual(w.sent().map((event) => event.event_name), ["CompleteRegistration"]);
    await assert.rejects(redriveAdsDeadLetter(w.deps, letter.id), (error: unknown) => error instanceof DomainError && error.reason === "dead_letter_not_found");
    await letter.ref.set(letter.data() ?? {});
    await assert.rejects(
      redriveAdsDeadLetter(w.deps, letter.id),
      (error: unknown) => error instanceof DomainError && error.reason === "dead_letter_item_not_dead" && error.params.state === "sent",
    );
  });

  it("switched off (no dataset or token configured): nothing is queued or sent", async () => {
    const w = world();
    await person("ann", { consent: true });
    const outcome = await handleConversionsMessage({ ...w.deps, api: null }, { messageId: "m-off", data: Buffer.from(JSON.stringify(signedUp("ann"))).toString("base64") });
    assert.equal(outcome.outcome, "off");
    assert.equal((await item("ann", signedUp("ann"))).exists, false);
  });
});
