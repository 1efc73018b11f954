// Ops commands (docs/operations.md, "Ops commands"): an admin creates `opsCommands/{id}` through the Admin SDK, as the
// console does, and the deployed trigger `opsCommandOnWrite` performs it once and writes the outcome back.
import assert from "node:assert/strict";
import { addDoc, collection, doc, setDoc, updateDoc } from "firebase/firestore";
import { assertFails } from "@firebase/rules-unit-testing";
import { COMMAND_RUNS, OPS_ACTIONS, OPS_COMMANDS, runOpsCommand } from "../../src/ops/commands";
import type { ActionHandler, OpsAction } from "../../src/ops/commands";
import { systemClock } from "../../src/lib/clock";
import { transferGroupOf } from "../../src/payments/transfers";
import { adminAuth, adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import { seedWish } from "../helpers/closing";
import { fakeStripe } from "../../devtools/support/fakes";
import { moneyDb } from "../helpers/money";
import { LONG_WAIT, deliverNewEvents, paidDonation, resetDeliveries } from "../helpers/payments";
import { waitFor } from "../helpers/wait";

type Outcome = { status: string; result?: Record<string, unknown> | null; error?: string | null; actor?: string | null };

/** Creates the command as the console does and waits for its outcome on the same document. */
async function command(fields: Record<string, unknown>, id?: string): Promise<{ id: string; outcome: Outcome }> {
  const ref = id ? adminDb().collection(OPS_COMMANDS).doc(id) : adminDb().collection(OPS_COMMANDS).doc();
  await ref.set(fields);
  const outcome = await waitFor(`ops command ${fields.action as string} to finish`, async () => {
    const data = (await ref.get()).data() as Outcome | undefined;
    return data && ["done", "rejected", "failed"].includes(data.status) ? data : undefined;
  }, LONG_WAIT);
  return { id: ref.id, outcome };
}

async function auditOf(target: string) {
  const snap = await adminDb().collection("auditLog").where("target", "==", target).get();
  return snap.docs.map((entry) => ({ action: String(entry.get("action")), result: String(entry.get("result")), actorId: String(entry.get("actorId")) }));
}

/** Every action counted by `count`, answering `ok`: for the trigger's code run in-process. */
function everyAction(count: () => void): Record<OpsAction, ActionHandler> {
  const action: ActionHandler = () => {
    count();
    return Promise.resolve({ result: "ok" });
  };
  return Object.fromEntries(OPS_ACTIONS.map((name) => [name, action])) as Record<OpsAction, ActionHandler>;
}

/** The action wrote its audit entry, by the command's actor, with the command's result. */
async function audited(target: string, action: string, outcome: Outcome): Promise<void> {
  const entries = await auditOf(target);
  assert.ok(
    entries.some((entry) => entry.action === action && entry.actorId === outcome.actor && entry.result === outcome.result?.result),
    `no ${action} audit entry for ${target} by ${String(outcome.actor)}: ${JSON.stringify(entries)}`,
  );
}

const wish = async (wishId: string) => (await adminDb().collection("wishes").doc(wishId).get()).data();

describe("ops commands: actions as documents from the console", function () {
  this.timeout(300_000);

  beforeEach(() => {
    fakeStripe().reset();
    resetDeliveries();
  });

  it("freeze and unfreeze a wish: done, with the result and the audit entry naming the operator", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const frozen = await command({ action: "freezeWish", wishId, reason: "fraud report", operator: "ana@elateme.app" });
    assert.equal(frozen.outcome.status, "done");
    assert.equal(frozen.outcome.result?.result, "frozen");
    assert.ok((await wish(wishId))?.frozenAt, "the wish is frozen");
    const unfrozen = await command({ action: "unfreezeWish", wishId, reason: "report was unfounded", operator: "ana@elateme.app" });
    assert.equal(unfrozen.outcome.result?.result, "unfrozen");
    assert.equal((await wish(wishId))?.frozenAt, null);
    const audit = (await auditOf(`wishes/${wishId}`)).sort((a, b) => a.action.localeCompare(b.action));
    assert.deepEqual(audit, [
      { action: "freezeWish", result: "frozen", actorId: String(frozen.outcome.actor) },
      { action: "unfreezeWish", result: "unfrozen", actorId: String(unfrozen.outcome.actor) },
    ]);
    assert.match(String(frozen.outcome.actor), /ana@elateme\.app/);
  });

  it("exactly once: an edited or repeated document changes nothing twice, and a forged outcome is put back", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const { id, outcome } = await command({ action: "freezeWish", wishId, reason: "fraud report", operator: "ana" });
    assert.equal(outcome.status, "done");
    const ref = adminDb().collection(OPS_COMMANDS).doc(id);
    // Edit the command (another reason), then write the document again whole, then forge its status.
    await ref.update({ reason: "edited afterwards" });
    await ref.set({ action: "freezeWish", wishId, reason: "fraud report", operator: "ana" });
    await ref.update({ status: "failed", error: "forged" });
    await waitFor("the outcome to be put back", async () => ((await ref.get()).get("status") === "done" && (await ref.get()).get("error") === null ? true : undefined), LONG_WAIT);
    assert.equal((await auditOf(`wishes/${wishId}`)).length, 1, "the action ran once");
    assert.equal((await adminDb().collection(COMMAND_RUNS).doc(id).get()).get("status"), "done");
  });

  it("rejects bad commands with a readable error, performing nothing", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const unknown = await command({ action: "dropDatabase", wishId, reason: "why not", operator: "ana" });
    assert.equal(unknown.outcome.status, "rejected");
    assert.match(String(unknown.outcome.error), /^Field 'action': must be one of retryRefund, /);
    const noReason = await command({ action: "freezeWish", wishId, operator: "ana" });
    assert.equal(noReason.outcome.status, "rejected");
    assert.match(String(noReason.outcome.error), /reason/);
    const badId = await command({ action: "freezeWish", wishId: "a/b", reason: "fraud report", operator: "ana" });
    assert.equal(badId.outcome.status, "rejected");
    assert.match(String(badId.outcome.error), /^Field 'wishId'/);
    const missing = await command({ action: "retryPayout", wishId: "no-such-wish", reason: "please", operator: "ana" });
    assert.equal(missing.outcome.status, "rejected");
    assert.match(String(missing.outcome.error), /no payout/);
    assert.equal((await wish(wishId))?.frozenAt ?? null, null);
  });

  it("who acted: the writer the platform names, else the operator field; with neither, the command is rejected", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    // The emulator names the Admin SDK's writer (in production: the console user or service account).
    const named = await command({ action: "freezeWish", wishId, reason: "fraud report" });
    assert.equal(named.outcome.status, "done");
    assert.match(String(named.outcome.actor), /^[a-z_]+:\S+$/, "the platform's principal, without an operator");

    // A write whose principal the platform does not report: the trigger's code in-process, in the money database
    // (no deployed trigger there).
    const db = moneyDb();
    let runs = 0;
    const deps = { db, clock: systemClock, actions: everyAction(() => runs++) };
    const anonymous = db.collection(OPS_COMMANDS).doc(`anonymous-${Date.now()}`);
    await anonymous.set({ action: "freezeWish", wishId, reason: "fraud report" });
    assert.equal(await runOpsCommand(deps, anonymous.id, "event-1", { authType: "unknown" }), "rejected");
    assert.match(String((await anonymous.get()).get("error")), /^Field 'operator': must name who acts/);
    const withOperator = db.collection(OPS_COMMANDS).doc(`operator-${Date.now()}`);
    await withOperator.set({ action: "freezeWish", wishId, reason: "fraud report", operator: "ana" });
    assert.equal(await runOpsCommand(deps, withOperator.id, "event-2", { authType: "unknown" }), "performed");
    assert.equal((await withOperator.get()).get("actor"), "operator:ana");
    assert.equal(runs, 1);
  });

  it("clients cannot create commands or forge outcomes, not even an admin through the client SDK", async () => {
    const { id } = await command({ action: "reconcileWish", wishId: await seedWish({ ownerId: "olga", organizerId: "olga" }), reason: "routine check", operator: "ana" });
    const ada = await signedInClient("ada", {}, { admin: true });
    await assertFails(addDoc(collection(ada.db, OPS_COMMANDS), { action: "grantAdmin", uid: "mallory", reason: "trust me", operator: "ada" }));
    await assertFails(updateDoc(doc(ada.db, OPS_COMMANDS, id), { status: "failed" }));
    await assertFails(setDoc(doc(ada.db, COMMAND_RUNS, id), { status: "failed" }));
  });

  it("reconcile a wish, resolve a report, re-drive a dead letter, grant and revoke admin", async () => {
    const wishId = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const reconciled = await command({ action: "reconcileWish", wishId, reason: "routine check", operator: "ana" });
    assert.deepEqual([reconciled.outcome.status, reconciled.outcome.result?.result], ["done", "in_order"]);
    await audited(`wishes/${wishId}`, "reconcileWish", reconciled.outcome);

    // Three viewers report the wish; ops keep it.
    const reporters = ["rep1", "rep2", "rep3"];
    await adminDb().collection("wishes").doc(wishId).update({ viewerIds: ["olga", ...reporters] });
    for (const uid of reporters) await (await signedInClient(uid)).call("reportContent", { wishId, reason: "spam" });
    const caseDoc = (await adminDb().collection("ops/moderation/cases").where("wishId", "==", wishId).get()).docs[0];
    assert.ok(caseDoc);
    const kept = await command({ action: "resolveReport", caseId: caseDoc.id, resolution: "keep", reason: "not spam", operator: "ana" });
    assert.deepEqual([kept.outcome.status, kept.outcome.result?.result], ["done", "kept"]);
    await audited(`ops/moderation/cases/${caseDoc.id}`, "keepReportedContent", kept.outcome);

    // A domain event the worker of its day could not read (e.g. a type deployed later); this worker knows it.
    const event = { id: `friend.joined:dl-${Date.now()}`, type: "friend.joined", occurredAt: new Date().toISOString(), userId: "olga", friendIds: [] };
    const letterId = `notifications-dl-${Date.now()}`;
    await adminDb().collection("ops/deadLetters/items").doc(letterId).set({ consumer: "notifications", topic: "domain-events", messageId: letterId.replace("notifications-", ""), reason: "unknown type", data: JSON.stringify(event), attributes: {}, receivedAt: new Date() });
    const redriven = await command({ action: "redriveDeadLetter", deadLetterId: letterId, reason: "worker fixed", operator: "ana" });
    assert.deepEqual([redriven.outcome.status, redriven.outcome.result?.result], ["done", "redriven"], String(redriven.outcome.error));
    assert.equal((await adminDb().collection("ops/deadLetters/items").doc(letterId).get()).exists, false, "handled letters leave the queue");
    await audited(`ops/deadLetters/items/${letterId}`, "redriveDeadLetter", redriven.outcome);
    const garbageId = `notifications-garbage-${Date.now()}`;
    await adminDb().collection("ops/deadLetters/items").doc(garbageId).set({ consumer: "notifications", topic: "domain-events", messageId: "garbage", reason: "not JSON", data: "{not json", attributes: {}, receivedAt: new Date() });
    const still = await command({ action: "redriveDeadLetter", deadLetterId: garbageId, reason: "try again", operator: "ana" });
    assert.equal(still.outcome.status, "rejected");
    assert.match(String(still.outcome.error), /Still not a domain event/);

    const uid = `ops-cmd-${Date.now()}`;
    await adminAuth().createUser({ uid, email: `${uid}@example.com` });
    const granted = await command({ action: "grantAdmin", email: `${uid}@example.com`, reason: "joins on-call", operator: "ana" });
    assert.deepEqual([granted.outcome.status, granted.outcome.result?.result], ["done", "granted"]);
    assert.equal((await adminAuth().getUser(uid)).customClaims?.admin, true);
    await audited(`users/${uid}`, "grantAdmin", granted.outcome);
    const revoked = await command({ action: "revokeAdmin", uid, reason: "left on-call", operator: "ana" });
    assert.deepEqual([revoked.outcome.status, revoked.outcome.result?.result], ["done", "revoked"]);
    assert.equal((await adminAuth().getUser(uid)).customClaims?.admin, undefined);
    const both = await command({ action: "grantAdmin", uid, email: `${uid}@example.com`, reason: "joins on-call", operator: "ana" });
    assert.equal(both.outcome.status, "rejected");
    assert.match(String(both.outcome.error), /exactly one of uid or email/);
    // An unknown user: rejected, and audited as the refusal it is (under the uid given).
    const nobody = `ops-cmd-nobody-${Date.now()}`;
    const unknownUser = await command({ action: "grantAdmin", uid: nobody, reason: "joins on-call", operator: "ana" });
    assert.equal(unknownUser.outcome.status, "rejected");
    assert.match(String(unknownUser.outcome.error), new RegExp(`No user '${nobody}'`));
    assert.deepEqual(await auditOf(`users/${nobody}`), [{ action: "grantAdmin", result: "refused: not-found", actorId: unknownUser.outcome.actor }]);
  });

  it("retry a failed refund: refunded once", async () => {
    // A refund Stripe refuses for good.
    const closedWish = await seedWish({ ownerId: "olga", organizerId: "olga" });
    const paid = await paidDonation(closedWish, "dana", 20_000);
    fakeStripe().refundsApi.failRefunds(1, "resource_missing", 404);
    await (await signedInClient("olga")).call("closeWish", { wishId: closedWish });
    await waitFor("the refund to fail", async () => ((await adminDb().doc(`refundRequests/${paid.donationId}`).get()).get("status") === "failed" ? true : undefined), LONG_WAIT);
    const refund = await command({ action: "retryRefund", donationId: paid.donationId, reason: "Stripe fixed it", operator: "ana" });
    assert.deepEqual([refund.outcome.status, refund.outcome.result?.result], ["done", "queued"]);
    await audited(`donations/${paid.donationId}`, "retryRefund", refund.outcome);
    await waitFor("the refund to succeed", async () => {
      await deliverNewEvents(["refund.created", "refund.updated", "charge.refunded"]);
      return (await adminDb().doc(`refundRequests/${paid.donationId}`).get()).get("status") === "succeeded" ? true : undefined;
    }, LONG_WAIT);
    assert.equal(fakeStripe().refundsApi.refundsOf(paid.paymentIntentId).length, 1, "one refund at Stripe");
  });

  it("retry a failed payout: paid once", async () => {
    // A payout Stripe refuses for good (the owner is onboarded as the app does it).
    const owner = await signedInClient("opal");
    const link = await owner.call<{ url: string }>("createPayoutAccountLink", {});
    assert.equal((await fetch(link.url)).status, 200);
    await deliverNewEvents(["account.updated"]);
    await waitFor("opal's account to receive transfers", async () => ((await adminDb().doc("payoutAccounts/opal").get()).get("transfersActive") === true ? true : undefined), LONG_WAIT);
    const fundedWish = await seedWish({ ownerId: "opal", organizerId: "opal", viewerIds: ["opal", "dana"], amount: 20_000 });
    fakeStripe().connect.failTransfers(1, "transfers_not_allowed");
    await paidDonation(fundedWish, "dana", 20_000);
    await waitFor("the payout to fail", async () => ((await adminDb().doc(`payouts/${fundedWish}`).get()).get("status") === "failed" ? true : undefined), LONG_WAIT);
    const payout = await command({ action: "retryPayout", wishId: fundedWish, reason: "transfers enabled", operator: "ana" });
    assert.equal(payout.outcome.status, "done");
    assert.ok(["queued", "adopted"].includes(String(payout.outcome.result?.result)));
    await audited(`payouts/${fundedWish}`, "retryPayout", payout.outcome);
    await waitFor("the payout to be paid", async () => {
      await deliverNewEvents(["transfer.created"]);
      return (await adminDb().doc(`payouts/${fundedWish}`).get()).get("status") === "paid" ? true : undefined;
    }, LONG_WAIT);
    assert.equal(fakeStripe().connect.transfersOf(transferGroupOf(fundedWish)).length, 1, "one transfer at Stripe");
  });

  it("a redelivered event whose first attempt died after claiming reports the command interrupted, and never runs it twice", async () => {
    const db = moneyDb(); // the trigger's code in-process; no deployed trigger watches this database
    let runs = 0;
    const deps = { db, clock: systemClock, actions: everyAction(() => runs++) };
    const id = `interrupted-${Date.now()}`;
    // The run record as an attempt that crashed after claiming leaves it.
    await db.collection(COMMAND_RUNS).doc(id).set({ action: "freezeWish", status: "running", actor: "operator:ana", eventId: "event-1", input: {}, result: null, error: null, startedAt: new Date(), completedAt: null });
    await db.collection(OPS_COMMANDS).doc(id).set({ action: "freezeWish", wishId: "w", reason: "fraud report", operator: "ana", status: "running" });
    assert.equal(await runOpsCommand(deps, id, "event-2", { authType: "unknown" }), "in-progress", "another event while it runs: nothing");
    assert.equal(await runOpsCommand(deps, id, "event-1", { authType: "unknown" }), "interrupted");
    assert.equal(await runOpsCommand(deps, id, "event-1", { authType: "unknown" }), "already-ran");
    assert.equal(runs, 0);
    const doc = (await db.collection(OPS_COMMANDS).doc(id).get()).data();
    assert.equal(doc?.status, "failed");
    assert.match(String(doc?.error), /Interrupted after it started/);
  });
});
