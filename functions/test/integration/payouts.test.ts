import assert from "node:assert/strict";
import { collection, doc, getDoc, getDocs, query, where } from "firebase/firestore";
import { runDeadlineTask } from "../../src/closing/deadline";
import { fixedClock } from "../helpers/clock";
import { StripePayoutProvider, transferGroupOf } from "../../src/payments/transfers";
import { RECONCILE_GRACE_MS, reconcileTransfers } from "../../src/settlement/reconcile";
import type { TransferEvent } from "../../src/payments/provider";
import { newPayout, payoutLedgerId, processPayoutEvent, runPayoutTask, transferIdempotencyKey } from "../../src/payouts/payouts";
import { adminDb } from "../../devtools/support/admin";
import { recordingTasks } from "../helpers/tasks";
import { signedInClient } from "../../devtools/support/clients";
import { outboxEvent, seedWish } from "../helpers/closing";
import { fakeStripe } from "../../devtools/support/fakes";
import { LONG_WAIT, deliver, deliverNewEvents, paidDonation, resetDeliveries, testStripe } from "../helpers/payments";
import { staysAbsent, waitFor } from "../helpers/wait";

const payout = async (wishId: string) => (await adminDb().collection("payouts").doc(wishId).get()).data();
const payoutAccount = async (uid: string) => (await adminDb().collection("payoutAccounts").doc(uid).get()).data();
const transfersOf = (wishId: string) => fakeStripe().connect.transfersOf(transferGroupOf(wishId));

/** The owner onboards through the app's path: the callable, then Stripe's hosted page (the fake's link URL). */
async function onboard(uid: string): Promise<string> {
  const owner = await signedInClient(uid);
  const link = await owner.call<{ url: string; transfersActive: boolean }>("createPayoutAccountLink", {});
  assert.equal(link.transfersActive, false);
  const page = await fetch(link.url);
  assert.equal(page.status, 200, "the fake's onboarding page completes onboarding");
  await deliverNewEvents(["account.updated"]);
  await waitFor(`${uid}'s account to be able to receive transfers`, async () => ((await payoutAccount(uid))?.transfersActive === true ? true : undefined), LONG_WAIT);
  return String((await payoutAccount(uid))?.accountId);
}

/** Waits for the payout to reach `status`, delivering Stripe's transfer events as they appear. */
async function payoutReaches(wishId: string, status: string): Promise<Record<string, unknown>> {
  return waitFor(
    `payouts/${wishId} to be ${status}`,
    async () => {
      await deliverNewEvents(["transfer.created", "transfer.reversed"]);
      const current = await payout(wishId);
      return current?.status === status ? current : undefined;
    },
    LONG_WAIT,
  );
}

const taskDeps = () => ({ db: adminDb(), clock: fixedClock(new Date()), tasks: recordingTasks(), provider: new StripePayoutProvider(testStripe()) });

describe("payouts: Stripe Connect onboarding and transfers of funded wishes", function () {
  this.timeout(300_000);

  beforeEach(() => {
    fakeStripe().reset();
    resetDeliveries();
  });

  it("onboarding: one Express account per user even under concurrent first calls; the link leads to Stripe's hosted page", async () => {
    const olga = await signedInClient("olga", { email: "olga@example.com" });
    const links = await Promise.all([1, 2, 3].map(() => olga.call<{ url: string; expiresAt: string; requirementsDue: string[] }>("createPayoutAccountLink", {})));
    assert.equal(fakeStripe().connect.accounts.size, 1, "one Connect account");
    const stored = await payoutAccount("olga");
    assert.ok(String(stored?.accountId).startsWith("acct_"));
    assert.equal(stored?.transfersActive, false);
    assert.ok((stored?.requirementsDue as string[]).length > 0);
    for (const link of links) {
      assert.equal(link.url, `${fakeStripe().baseUrl}/_fake/onboarding/${String(stored?.accountId)}`);
      assert.ok(Date.parse(link.expiresAt) > Date.now());
    }
    const accountCreations = fakeStripe().callsTo("POST", "/v1/accounts");
    assert.ok(accountCreations.every((call) => call.idempotencyKey === "connect-account-olga" && call.params.type === "express"));
    // The owner reads their own payout account through the rules; bad input names the field.
    assert.equal((await getDoc(doc(olga.db, "payoutAccounts/olga"))).get("accountId"), stored?.accountId);
    await assert.rejects(olga.call("createPayoutAccountLink", { returnUrl: "https://evil.example" }), (error: { code?: string; message?: string }) => {
      assert.equal(error.code, "functions/invalid-argument");
      assert.match(String(error.message), /returnUrl/);
      return true;
    });
  });

  it("funded at its deadline → paid out once to the onboarded owner, no refunds; payout.sent and a payout ledger entry", async () => {
    await onboard("olga");
    const deadline = new Date(Date.now() + 60 * 60 * 1000);
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana", "dave"], amount: 50_000, deadline });
    await paidDonation(wishId, "dana", 20_000);
    await paidDonation(wishId, "dave", 35_000);
    const paid = await payoutReaches(wishId, "paid");

    const transfers = transfersOf(wishId);
    assert.equal(transfers.length, 1);
    assert.equal(transfers[0]?.amount, 55_000, "everything raised (overfunding included), fee policy 0");
    assert.equal(transfers[0]?.destination, (await payoutAccount("olga"))?.accountId);
    assert.equal(paid.paidAmount, 55_000);
    assert.equal(paid.feeAmount, 0);
    const transferId = String(transfers[0]?.id);
    const entry = (await adminDb().collection("ledger").doc(payoutLedgerId.transfer(transferId)).get()).data();
    assert.equal(entry?.kind, "payout");
    assert.equal(entry?.amount, -55_000);
    assert.equal((await outboxEvent(`payout.sent:${transferId}`))?.amount, 55_000);

    // The deadline passes: the funded wish does not expire and nobody is refunded.
    const clock = fixedClock(new Date(deadline.getTime() + 1000));
    assert.equal(await runDeadlineTask({ db: adminDb(), clock, tasks: recordingTasks() }, { wishId, deadline: deadline, hop: 0 }, deadline), "not-open");
    assert.equal((await adminDb().collection("wishes").doc(wishId).get()).get("status"), "funded");
    assert.equal(fakeStripe().callsTo("POST", "/v1/refunds").length, 0);
    assert.equal((await adminDb().collection("refundRequests").where("wishId", "==", wishId).get()).size, 0);

    // Stripe redelivers transfer.created: nothing changes.
    const created = fakeStripe().events.find((event) => event.type === "transfer.created");
    assert.ok(created);
    await deliver(created);
    assert.equal((await payout(wishId))?.paidAmount, 55_000);
    assert.equal((await adminDb().collection("ledger").where("kind", "==", "payout").get()).size, 1);
  });

  it("an owner who has not onboarded: the payout waits in pending_onboarding and goes out when Stripe reports the account active", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana"], amount: 20_000 });
    await paidDonation(wishId, "dana", 20_000);
    const held = await waitFor("the payout to be held", async () => {
      const current = await payout(wishId);
      return current?.status === "pending_onboarding" ? current : undefined;
    }, LONG_WAIT);
    assert.equal(held.reason, "owner_onboarding");
    assert.equal(fakeStripe().callsTo("POST", "/v1/transfers").length, 0);
    // The owner sees it through the rules (a query that names them); a donor does not.
    const olga = await signedInClient("olga");
    assert.equal((await getDocs(query(collection(olga.db, "payouts"), where("ownerId", "==", "olga")))).size, 1);
    const dana = await signedInClient("dana");
    await assert.rejects(getDoc(doc(dana.db, `payouts/${wishId}`)));

    await onboard("olga");
    await payoutReaches(wishId, "paid");
    assert.equal(transfersOf(wishId).length, 1);
    assert.equal(transfersOf(wishId)[0]?.amount, 20_000);
  });

  it("a donation in flight when the wish was funded is paid out by a second transfer", async () => {
    await onboard("olga");
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana", "dave"], amount: 20_000 });
    await paidDonation(wishId, "dana", 20_000);
    await payoutReaches(wishId, "paid");
    await paidDonation(wishId, "dave", 15_000);
    await waitFor("the second transfer", async () => {
      await deliverNewEvents(["transfer.created"]);
      const current = await payout(wishId);
      return current?.status === "paid" && current.paidAmount === 35_000 ? true : undefined;
    }, LONG_WAIT);
    assert.deepEqual(transfersOf(wishId).map((transfer) => transfer.amount).sort(), [15_000, 20_000]);
    const keys = fakeStripe().callsTo("POST", "/v1/transfers").map((call) => call.idempotencyKey);
    assert.equal(new Set(keys).size, 2, "one idempotency key per transfer");
  });

  it("duplicate task delivery, a crash after Stripe's answer, and a Stripe failure then recovery: one transfer each", async () => {
    const accountId = await onboard("olga");
    // The platform's balance: a donation to another wish (the fake's transfers draw on the platform's charges).
    const other = await seedWish({ ownerId: "omar", organizerId: "omar", viewerIds: ["omar", "dana"], amount: 1_000_000 });
    await paidDonation(other, "dana", 50_000);
    // A wish the emulated pipeline leaves alone (open), with a queued payout that this test's tasks drive by hand.
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga"], amount: 1_000_000, raised: 20_000 });
    await adminDb().collection("payouts").doc(wishId).set(newPayout({ ownerId: "olga", currency: "CZK" }, wishId, new Date()));
    const deps = taskDeps();

    // Stripe refuses (funds not yet available): it did not transfer, and stores that answer under the key, so the
    // task moves to the transfer's next key and throws for Cloud Tasks to retry; nothing is paid.
    fakeStripe().connect.failTransfers(1, "balance_insufficient");
    await assert.rejects(runPayoutTask(deps, { wishId, round: 0 }, 0));
    assert.equal((await payout(wishId))?.reason, "balance_insufficient");
    assert.equal(transfersOf(wishId).length, 0);

    // The retry succeeds with the same transfer number under the next key; the same task delivered again changes nothing.
    assert.equal(await runPayoutTask(deps, { wishId, round: 0 }, 1), "transferred");
    assert.equal(await runPayoutTask(deps, { wishId, round: 0 }, 1), "already-handled");
    assert.equal(transfersOf(wishId).length, 1);
    const keys = fakeStripe().callsTo("POST", "/v1/transfers").map((call) => call.idempotencyKey);
    assert.deepEqual(keys, [transferIdempotencyKey(wishId, 0, 0), transferIdempotencyKey(wishId, 0, 1)]);

    // A crash between Stripe's answer and our write: the payout still shows transfer 1 pending when a later round
    // runs; that round first lists the wish's transfers and adopts the one Stripe made instead of making another.
    await adminDb().collection("wishes").doc(wishId).update({ raised: 30_000 });
    const lost = await testStripe().transfers.create(
      { amount: 10_000, currency: "czk", destination: accountId, transfer_group: transferGroupOf(wishId), metadata: { wishId, ownerId: "olga", seq: "1" } },
      { idempotencyKey: transferIdempotencyKey(wishId, 1, 1) },
    );
    await adminDb()
      .collection("payouts")
      .doc(wishId)
      .update({
        status: "queued",
        round: 5,
        nextSeq: 2,
        pendingTransfer: { seq: 1, gross: 10_000, fee: 0, amount: 10_000, destination: accountId, keyAttempt: 1, idempotencyKey: transferIdempotencyKey(wishId, 1, 1) },
      });
    assert.equal(await runPayoutTask(deps, { wishId, round: 4 }, 0), "stale", "an older round's task does nothing");
    assert.equal(await runPayoutTask(deps, { wishId, round: 5 }, 0), "transferred");
    assert.equal(transfersOf(wishId).length, 2, "adopted, not transferred again");
    const after = await payout(wishId);
    assert.ok((after?.transfers as Record<string, unknown>)[lost.id], "the adopted transfer is recorded");
    assert.equal(after?.pendingTransfer, null);
    assert.equal(after?.grossAccounted, 30_000);
    await deliverNewEvents(["transfer.created"]);
    const confirmed = await payout(wishId);
    assert.equal(confirmed?.paidAmount, 30_000);
    assert.equal(confirmed?.status, "paid");
  });

  it("a permanent failure goes to ops; an admin's retryPayout (audited) pays it out; a transfer reversal is booked", async () => {
    await onboard("olga");
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana"], amount: 20_000 });
    fakeStripe().connect.failTransfers(1, "transfers_not_allowed");
    await paidDonation(wishId, "dana", 20_000);
    const failed = await waitFor("the payout to fail", async () => {
      const current = await payout(wishId);
      return current?.status === "failed" ? current : undefined;
    }, LONG_WAIT);
    assert.equal(failed.reason, "transfers_not_allowed");

    const olga = await signedInClient("olga");
    await assert.rejects(olga.call("retryPayout", { wishId, reason: "please" }), /Admins only/);
    const ada = await signedInClient("ada", {}, { admin: true });
    await assert.rejects(ada.call("retryPayout", { wishId }), /reason/);
    const answer = await ada.call<{ result: string; round: number }>("retryPayout", { wishId, reason: "Stripe support enabled transfers" });
    assert.equal(answer.result, "queued");
    const paid = await payoutReaches(wishId, "paid");
    assert.equal(paid.paidAmount, 20_000);
    await assert.rejects(ada.call("retryPayout", { wishId, reason: "again" }), /not failed/);
    const audit = await adminDb().collection("auditLog").where("action", "==", "retryPayout").get();
    assert.deepEqual(audit.docs.map((entry) => String(entry.get("result"))).sort(), ["queued", "refused: failed-precondition"]);

    // Ops reverse part of the transfer at Stripe: the reversal is booked once and the payout shows what the owner kept.
    const transferId = String(transfersOf(wishId)[0]?.id);
    fakeStripe().connect.reverseTransfer(transferId, 5_000);
    await deliverNewEvents(["transfer.reversed"]);
    await deliverNewEvents(["transfer.reversed"]);
    const reversed = await payout(wishId);
    assert.equal(reversed?.paidAmount, 15_000);
    assert.equal(reversed?.reason, "transfer_reversed");
    const reversals = await adminDb().collection("ledger").where("kind", "==", "payout_reversal").get();
    assert.deepEqual(reversals.docs.map((entry) => Number(entry.get("amount"))), [5_000]);
  });

  it("reconciliation books a transfer and a reversal whose webhooks were dropped, once", async () => {
    await onboard("olga");
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga", viewerIds: ["olga", "dana"], amount: 20_000 });
    await paidDonation(wishId, "dana", 20_000);
    // The task transfers; Stripe's transfer.created never reaches us.
    await waitFor("the transfer", async () => ((await payout(wishId))?.status === "transferring" ? true : undefined), LONG_WAIT);
    const transferId = String(transfersOf(wishId)[0]?.id);
    const later = fixedClock(new Date(Date.now() + RECONCILE_GRACE_MS + 60_000));
    const deps = {
      db: adminDb(),
      clock: later,
      payouts: new StripePayoutProvider(testStripe()),
      applyTransferEvent: (event: TransferEvent) => processPayoutEvent({ db: adminDb(), clock: later, tasks: recordingTasks() }, event),
    };
    assert.deepEqual(await reconcileTransfers(deps), { transfersChecked: 1, repaired: 1, findings: 1 });
    const repaired = await payout(wishId);
    assert.equal(repaired?.status, "paid");
    assert.equal(repaired?.paidAmount, 20_000);
    assert.equal((await adminDb().doc(`ops/reconciliation/findings/missed_transfer_webhook_${transferId}`).get()).get("repaired"), true);
    // A second run and the late original webhook change nothing.
    assert.deepEqual(await reconcileTransfers(deps), { transfersChecked: 1, repaired: 0, findings: 0 });
    await deliverNewEvents(["transfer.created"]);
    assert.equal((await payout(wishId))?.paidAmount, 20_000);
    assert.equal((await adminDb().collection("ledger").where("kind", "==", "payout").get()).size, 1);

    // A reversal whose webhook was dropped is booked by the next run.
    fakeStripe().connect.reverseTransfer(transferId, 2_000);
    assert.deepEqual(await reconcileTransfers(deps), { transfersChecked: 1, repaired: 1, findings: 1 });
    assert.equal((await payout(wishId))?.paidAmount, 18_000);
    await deliverNewEvents(["transfer.reversed"]);
    assert.equal((await payout(wishId))?.paidAmount, 18_000);
    // A transfer for a wish we have no payout for is recorded for ops, not booked.
    const stray = await testStripe().transfers.create({ amount: 1_000, currency: "czk", destination: String(repaired?.destinationAccountId), metadata: { wishId: "no-such-wish", seq: "0" } });
    assert.deepEqual(await reconcileTransfers(deps), { transfersChecked: 2, repaired: 0, findings: 1 });
    assert.equal((await adminDb().doc(`ops/reconciliation/findings/transfer_unknown_payout_${stray.id}`).get()).get("repaired"), false);
  });

  it("a frozen funded wish is not paid out until ops unfreeze it; a surprise recipient cannot see the payout early", async () => {
    await onboard("olga");
    const wishId = await seedWish({ ownerId: "olga", organizerId: "bob", isSurprise: true, viewerIds: ["bob", "dana"], amount: 20_000 });
    await adminDb().collection("wishes").doc(wishId).update({ frozenAt: new Date() });
    const olga = await signedInClient("olga");
    await assert.rejects(getDoc(doc(olga.db, `payouts/${wishId}`)), "no payout, and no reading one, before the surprise is funded");
    await paidDonation(wishId, "dana", 20_000);
    await waitFor("the payout to be on hold", async () => ((await payout(wishId))?.status === "on_hold" ? true : undefined), LONG_WAIT);
    await staysAbsent("a transfer while frozen", () => Promise.resolve(transfersOf(wishId).length > 0 ? true : undefined), 1500);
    const ada = await signedInClient("ada", {}, { admin: true });
    await ada.call("freezeWish", { wishId, frozen: false, reason: "report was unfounded" });
    await payoutReaches(wishId, "paid");
    assert.equal((await getDoc(doc(olga.db, `payouts/${wishId}`))).get("paidAmount"), 20_000, "the revealed recipient sees their payout");
  });
});
