// The deployed exports themselves (src/index.ts), driven offline with firebase-functions-test's wrap(): each test
// enters through the trigger as Cloud Functions would call it (App Check wrapper, auth, input, the api handler, the
// composition of settlement), against the Firestore emulator and the fake Stripe. Cheap: no Functions-emulator round
// trip, one or two documents per test. Trigger chains end to end stay in the feature tests.
import assert from "node:assert/strict";
import functionsTest from "firebase-functions-test";
import type { DocumentSnapshot } from "firebase-admin/firestore";
import type { CallableRequest } from "firebase-functions/v2/https";
import { HttpsError } from "firebase-functions/v2/https";
import * as deployed from "../../src/index";
import { RECONCILIATION_DOC } from "../../src/settlement/reconcile";
import { adminAuth, adminDb } from "../../devtools/support/admin";
import { seedWish } from "../helpers/closing";
import { PROJECT_ID } from "../../devtools/support/emulators";
import { createHash } from "node:crypto";
import { LOCAL_META_CONVERSIONS } from "../../devtools/fakes/graph";
import { fakeFio, fakeGraph } from "../../devtools/support/fakes";
import { FAKE_FIO_TOKEN } from "../../devtools/fakes/fio";

const fft = functionsTest({ projectId: PROJECT_ID });
// The Stripe key the deployed functions read from their secret (the fake Stripe accepts any test key).
process.env.STRIPE_SECRET_KEY ??= "sk_test_elateme_tests";

const app = { appId: "1:1:ios:1", token: { app_id: "1:1:ios:1" }, alreadyConsumed: false } as unknown as CallableRequest["app"];
const call = (auth: string | undefined, data: unknown, withApp = true) =>
  ({ data, app: withApp ? app : undefined, auth: auth ? { uid: auth, token: { uid: auth } } : undefined, rawRequest: {} }) as unknown as CallableRequest;

async function rejection(promise: Promise<unknown>): Promise<HttpsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HttpsError, String(error));
    return error;
  }
  return assert.fail("expected the call to be refused");
}

describe("the deployed exports (firebase-functions-test: offline wrap() for callables and Firestore triggers, run() for tasks and schedules)", () => {
  after(() => fft.cleanup());

  it("closeWish: App Check, then auth and input refused with the catalogue's reason and field, then the organizer closes", async () => {
    const closeWish = fft.wrap(deployed.closeWish);
    assert.equal((await rejection(closeWish(call("olga", { wishId: "w" }, false)))).code, "unauthenticated");
    const anonymous = await rejection(closeWish(call(undefined, { wishId: "w" })));
    assert.deepEqual([anonymous.code, anonymous.details], ["unauthenticated", { reason: "sign_in_required" }]);
    const bad = await rejection(closeWish(call("olga", { wishId: "a/b" })));
    assert.equal(bad.code, "invalid-argument");
    assert.deepEqual(bad.details, { reason: "invalid_input", field: "wishId", problem: "id_has_slash" });

    await adminDb().doc("users/olga").set({ displayName: "Olga" });
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga"] });
    await closeWish(call("olga", { wishId }));
    assert.equal((await adminDb().doc(`wishes/${wishId}`).get()).get("status"), "closed");
    const again = await rejection(closeWish(call("olga", { wishId })));
    assert.deepEqual([again.code, (again.details as { reason: string }).reason], ["failed-precondition", "wish_not_open"]);
  });

  it("retryRefund: admins only (admin_only), and the refusal is the same HttpsError a client sees", async () => {
    const refused = await rejection(fft.wrap(deployed.retryRefund)(call("dana", { donationId: "d1", reason: "dispute won" })));
    assert.deepEqual([refused.code, refused.message, refused.details], ["permission-denied", "Admins only.", { reason: "admin_only" }]);
  });

  it("wishAudienceOnFriendChange: an update of an existing friendship changes no access (the api's filter)", async () => {
    await adminDb().doc("users/olga").set({ displayName: "Olga" });
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "stale-viewer"], audience: { kind: "friends", groupIds: [], userIds: [] } });
    const friend = (since: string): DocumentSnapshot => fft.firestore.makeDocumentSnapshot({ friendId: "gus", source: "app", since }, "users/olga/friends/gus") as DocumentSnapshot;
    await fft.wrap(deployed.wishAudienceOnFriendChange)({ data: fft.makeChange(friend("a"), friend("b")), params: { uid: "olga", friendId: "gus" } });
    assert.deepEqual((await adminDb().doc(`wishes/${wishId}`).get()).get("viewerIds"), ["olga", "stale-viewer"], "nothing recomputed");
    // A friendship that ended does recompute: the wish's audience is read again from olga's friends (none).
    const gone = fft.firestore.makeDocumentSnapshot({}, "users/olga/friends/gus") as DocumentSnapshot;
    await fft.wrap(deployed.wishAudienceOnFriendChange)({ data: fft.makeChange(friend("a"), gone), params: { uid: "olga", friendId: "gus" } });
    assert.deepEqual((await adminDb().doc(`wishes/${wishId}`).get()).get("viewerIds"), ["olga"]);
  });

  it("payoutAccountOnWrite: only the edge to transfersActive releases held payouts", async () => {
    await adminDb().doc("payouts/w-held").set({ ownerId: "olga", status: "pending_onboarding" });
    const account = (transfersActive: boolean): DocumentSnapshot => fft.firestore.makeDocumentSnapshot({ transfersActive }, "payoutAccounts/olga") as DocumentSnapshot;
    for (const [before, after] of [
      [true, true],
      [false, false],
      [true, false],
    ] as const) {
      await fft.wrap(deployed.payoutAccountOnWrite)({ data: fft.makeChange(account(before), account(after)), params: { uid: "olga" } });
    }
    assert.equal((await adminDb().doc("payouts/w-held").get()).get("status"), "pending_onboarding");
  });

  it("refundDonation (task): a task for a donation that is gone is acknowledged without a Stripe call", async () => {
    await deployed.refundDonation.run({ data: { donationId: "gone", generation: 0 }, retryCount: 0 } as unknown as Parameters<typeof deployed.refundDonation.run>[0]);
    assert.equal((await adminDb().collection("refundRequests").count().get()).data().count, 0);
  });

  it("sweepDeletedAccount (task): what was written under a deleted account goes, a live account's stays; a bad payload is refused", async () => {
    // A delivery that raced deleteAccount left gus's unread count behind; olga's account is live (Auth user).
    await adminDb().doc("users/gus/private/inbox").set({ unread: 1 });
    await adminAuth().createUser({ uid: "olga" });
    await adminDb().doc("users/olga/private/inbox").set({ unread: 2 });
    const sweep = async (data: unknown, scheduledTime?: Date): Promise<void> => {
      const request = { data, retryCount: 0, ...(scheduledTime ? { scheduledTime: scheduledTime.toISOString() } : {}) };
      await deployed.sweepDeletedAccount.run(request as unknown as Parameters<typeof deployed.sweepDeletedAccount.run>[0]);
    };
    // Dispatched at once, as the Cloud Tasks emulator does with a task for 15 minutes later: nothing is swept.
    await sweep({ uid: "gus" }, new Date(Date.now() + 15 * 60_000));
    assert.equal((await adminDb().doc("users/gus/private/inbox").get()).get("unread"), 1);
    await sweep({ uid: "gus" });
    await sweep({ uid: "olga" });
    assert.equal((await adminDb().doc("users/gus/private/inbox").get()).exists, false);
    assert.equal((await adminDb().doc("users/olga/private/inbox").get()).get("unread"), 2);
    await assert.rejects(sweep({ uid: "gus/private" }), /id_has_slash/);
  });

  it("adsConversionsOnDomainEvent (Pub/Sub): the params switch the Conversions API on, and a consenting sign-up reaches the fake once", async () => {
    // Its own dataset, so the emulated consumer (local dataset) never claims this queue item.
    const datasetId = "wiring-dataset";
    const saved = { dataset: process.env.META_DATASET_ID, token: process.env.META_CONVERSIONS_ACCESS_TOKEN };
    process.env.META_DATASET_ID = datasetId;
    process.env.META_CONVERSIONS_ACCESS_TOKEN = LOCAL_META_CONVERSIONS.accessToken;
    try {
      await adminDb().doc("users/wanda").set({ displayName: "Wanda" });
      await adminDb().doc("users/wanda/private/account").set({ email: "wanda@example.com", settings: { locale: "en", mutedCategories: [], showDonationsInFeed: true, adsConsent: true } });
      const event = { id: "user.signed_up:wanda", type: "user.signed_up", userId: "wanda", occurredAt: new Date().toISOString() };
      const message = { messageId: "wiring-1", data: Buffer.from(JSON.stringify(event)).toString("base64"), attributes: {} };
      const run = async (m: typeof message): Promise<void> => {
        await deployed.adsConversionsOnDomainEvent.run({ data: { message: m, subscription: "s" } } as unknown as Parameters<typeof deployed.adsConversionsOnDomainEvent.run>[0]);
      };
      await run(message);
      await run({ ...message, messageId: "wiring-2" }); // a redelivery
      const sent = fakeGraph().conversionEvents(datasetId);
      assert.deepEqual(sent.map((e) => [e.event_name, e.event_id]), [["CompleteRegistration", createHash("sha256").update(event.id).digest("hex")]]);
      fakeGraph().conversions.splice(0); // leave the shared fake as it was
    } finally {
      if (saved.dataset === undefined) delete process.env.META_DATASET_ID;
      else process.env.META_DATASET_ID = saved.dataset;
      if (saved.token === undefined) delete process.env.META_CONVERSIONS_ACCESS_TOKEN;
      else process.env.META_CONVERSIONS_ACCESS_TOKEN = saved.token;
    }
  });

  it("reconcileStripe (schedule): runs the settlement composition and records its summary", async () => {
    // wrap() has no schedule or task-queue form: the export's own run() is what Cloud Scheduler invokes.
    await deployed.reconcileStripe.run({ scheduleTime: new Date().toISOString() });
    const summary = (await adminDb().doc(RECONCILIATION_DOC).get()).data();
    assert.ok(summary, "the run is recorded");
    assert.equal(typeof summary.paymentsChecked, "number");
  });

  it("fioPoll (schedule): downloads the Fio account through the lease, records the movement and files an unknown symbol for ops", async () => {
    // The deployed function reads its params as deployed code does; inside the emulator its client calls the fake Fio.
    process.env.FIO_TOKEN ??= FAKE_FIO_TOKEN;
    process.env.FIO_ACCOUNT_NUMBER ??= fakeFio().account.accountId;
    fakeFio().reset();
    const stranger = fakeFio().addIncoming({ amount: 12_300, variableSymbol: "4242" });
    await deployed.fioPoll.run({ scheduleTime: new Date().toISOString() });
    assert.equal((await adminDb().doc(`fioTransactions/${stranger.id}`).get()).get("source"), "last");
    assert.equal((await adminDb().doc(`ops/reconciliation/findings/bank_transfer_unmatched_${stranger.id}`).get()).get("amount"), 12_300);
    assert.equal((await adminDb().doc("fioState/poller").get()).get("lastCall"), "download");
    // A second run within 30 s does not call the bank.
    await deployed.fioPoll.run({ scheduleTime: new Date().toISOString() });
    assert.equal(fakeFio().calls.length, 1);
  });
});
