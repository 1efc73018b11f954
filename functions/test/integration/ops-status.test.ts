import assert from "node:assert/strict";
import { closeWish } from "../../src/closing/close";
import { freezeWish, retryRefund } from "../../src/ops/refunds";
import { handleDomainEventMessage } from "../../src/notifications/worker";
import { OPS_STATUS, STALLED_REFUND_AFTER_MS, WATCHES, refreshOpsStatus } from "../../src/ops/status";
import { FIO_STALE_AFTER_MS } from "../../src/model/bank-transfer";
import { FINDINGS, recordFinding } from "../../src/settlement/reconcile";
import type { Finding } from "../../src/settlement/reconcile";
import type { OpsStatus, WatchName } from "../../src/ops/status";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";
import { reportContent, resolveReport } from "../../src/moderation/reports";
import { MODERATION_CASES, moderationCaseId } from "../../src/model/moderation";

/** Counts per watch, only those above zero. */
const counts = (status: OpsStatus) => Object.fromEntries(Object.entries(status.watches).filter(([, watch]) => watch.count > 0).map(([name, watch]) => [name, watch.count]));

describe("ops: the status page ops/status (in-process, money database)", function () {
  this.timeout(120_000);

  before(async function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
    await clearMoneyDb();
  });

  it("shows a failed refund, a held payout and a dead letter with the oldest of each, and clears as ops resolve them", async () => {
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    const empty = await refreshOpsStatus(deps);
    assert.deepEqual(empty.attention, []);
    assert.deepEqual(Object.keys(empty.watches).sort(), Object.keys(WATCHES).sort(), "every watch is on the page");

    // A refund Stripe fails after the close (the donor's card was closed).
    const closed = `status-closed-${Date.now()}`;
    await world.seedWish(closed);
    const paid = await world.paidDonation(closed, "dana", 20_000);
    await world.fireTriggers(closed);
    await closeWish(world.ledger, "olga", { wishId: closed });
    await world.quiesce(closed);
    const [refund] = world.stripe.refundsApi.refundsOf(paid.paymentIntentId);
    assert.ok(refund);
    world.stripe.refundsApi.settle(String(refund.id), "failed", "expired_or_canceled_card");
    await world.quiesce(closed);

    // A funded wish that ops froze: its payout is held.
    world.stripe.connect.addPlatformBalance("czk", 1_000_000);
    await world.onboard("olga");
    const frozen = `status-frozen-${Date.now()}`;
    await world.seedWish(frozen, { amount: 20_000, frozenAt: world.clock.now() });
    await world.paidDonation(frozen, "dave", 20_000);
    await world.quiesce(frozen);

    // A message on the domain-events topic that is not a domain event.
    const garbage = { messageId: `status-${Date.now()}`, data: Buffer.from("{not json").toString("base64") };
    const push = { send: () => Promise.reject(new Error("no push expected")) };
    assert.equal((await handleDomainEventMessage({ ...deps, push } as unknown as Parameters<typeof handleDomainEventMessage>[0], garbage)).outcome, "dead-lettered");

    const busy = await refreshOpsStatus(deps);
    assert.deepEqual(counts(busy), { failedRefunds: 1, heldPayouts: 1, deadLetters: 1 });
    assert.deepEqual([...busy.attention].sort(), ["deadLetters", "failedRefunds", "heldPayouts"] satisfies WatchName[]);
    assert.equal(busy.watches.failedRefunds.oldestPath, `ops/refundFailures/items/${paid.donationId}`);
    assert.equal(busy.watches.heldPayouts.oldestPath, `payouts/${frozen}`);
    assert.equal(busy.watches.deadLetters.oldestPath, `ops/deadLetters/items/notifications-${garbage.messageId}`);
    assert.ok(busy.watches.failedRefunds.oldestSince instanceof Date);
    const stored = (await world.db.doc(OPS_STATUS).get()).data() as OpsStatus | undefined;
    assert.deepEqual(stored?.attention, busy.attention, "the page in the console is what was computed");
    assert.equal(stored?.watches.heldPayouts.label, WATCHES.heldPayouts.label);

    // Ops resolve each: retry the refund (the donor has a new card), unfreeze the wish, delete the handled dead letter.
    await retryRefund(world.refundDeps, "ada", { donationId: paid.donationId, reason: "the donor has a new card" });
    await world.quiesce(closed);
    await freezeWish(world.refundDeps, "ada", { wishId: frozen, frozen: false, reason: "report was unfounded" });
    await world.quiesce(frozen);
    await world.db.doc(`ops/deadLetters/items/notifications-${garbage.messageId}`).delete();
    assert.equal((await world.doc(`payouts/${frozen}`))?.status, "paid");

    const clear = await refreshOpsStatus(deps);
    assert.deepEqual(counts(clear), {});
    assert.deepEqual(clear.attention, []);
    assert.equal(clear.watches.failedRefunds.oldestPath, null);
  });

  it("counts reconciliation findings until they are repaired or ops set resolvedAt by hand", async () => {
    await clearMoneyDb();
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    const finding = (objectId: string, repaired: boolean): Finding => ({
      kind: repaired ? "missed_payment_webhook" : "payment_unknown_donation",
      objectId,
      paymentIntentId: objectId,
      donationId: null,
      amount: 20_000,
      currency: "czk",
      repaired,
      detail: "status test",
    });
    // Two that need a human, one the reconciliation repaired itself (resolvedAt set at once).
    // recordFinding answers whether a run counts the sighting in its summary's findings: new or still unresolved.
    assert.equal(await recordFinding(deps, finding("pi_status_a", false)), true);
    world.clock.advance(1_000);
    assert.equal(await recordFinding(deps, finding("pi_status_b", false)), true);
    assert.equal(await recordFinding(deps, finding("pi_status_c", true)), true, "new, though repaired at once");
    assert.equal(await recordFinding(deps, finding("pi_status_c", true)), false, "resolved by its repair: not counted again");
    const open = await refreshOpsStatus(deps);
    assert.deepEqual(counts(open), { reconciliationFindings: 2 });
    assert.equal(open.watches.reconciliationFindings.oldestPath, `${FINDINGS}/payment_unknown_donation_pi_status_a`);

    // Ops handled the oldest (refunded it in the dashboard) and set resolvedAt in the console: it is off the page.
    await world.db.doc(`${FINDINGS}/payment_unknown_donation_pi_status_a`).update({ resolvedAt: world.clock.now() });
    const one = await refreshOpsStatus(deps);
    assert.deepEqual(counts(one), { reconciliationFindings: 1 });
    assert.equal(one.watches.reconciliationFindings.oldestPath, `${FINDINGS}/payment_unknown_donation_pi_status_b`);
    // A rerun that sees the resolved one again keeps it resolved, and its first sighting.
    const firstSeen = (await world.db.doc(`${FINDINGS}/payment_unknown_donation_pi_status_a`).get()).get("detectedAt") as unknown;
    world.clock.advance(60_000);
    assert.equal(await recordFinding(deps, finding("pi_status_a", false)), false, "resolved by ops: not counted again");
    const seenAgain = (await world.db.doc(`${FINDINGS}/payment_unknown_donation_pi_status_a`).get()).data();
    assert.deepEqual(seenAgain?.detectedAt, firstSeen);
    assert.ok(seenAgain?.resolvedAt, "still resolved");
    // A finding a later run repaired is resolved then (the status page counts it no more).
    assert.equal(await recordFinding(deps, { ...finding("pi_status_b", false), repaired: true }), true, "still unresolved when the rerun repaired it");
    assert.ok((await world.db.doc(`${FINDINGS}/payment_unknown_donation_pi_status_b`).get()).get("resolvedAt"), "repaired by a rerun: resolved");
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {});
    await world.db.doc(`${FINDINGS}/payment_unknown_donation_pi_status_b`).update({ resolvedAt: world.clock.now() });
    const clear = await refreshOpsStatus(deps);
    assert.deepEqual(counts(clear), {});
    assert.deepEqual(clear.attention, []);
  });

  it("counts moderation cases waiting for a decision, hidden ones included, until ops keep or remove them", async () => {
    await clearMoneyDb();
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    for (const uid of ["dana", "dave", "dora"]) await world.db.collection("users").doc(uid).set({ displayName: uid, photoUrl: null, facebookLinked: false, createdAt: world.clock.now(), updatedAt: world.clock.now() });
    // Three people report one wish: it is hidden pending review (off everybody's screen, so nobody reports it again).
    const hiddenWish = `status-hidden-${Date.now()}`;
    await world.seedWish(hiddenWish);
    for (const uid of ["dana", "dave", "dora"]) await reportContent(deps, uid, { wishId: hiddenWish, reason: "scam" });
    const hiddenCase = moderationCaseId(hiddenWish, null);
    assert.equal((await world.doc(`${MODERATION_CASES}/${hiddenCase}`))?.status, "hidden");
    // Later, one person reports another wish: reported, still visible.
    world.clock.advance(60_000);
    const openWish = `status-open-${Date.now()}`;
    await world.seedWish(openWish);
    await reportContent(deps, "dana", { wishId: openWish, reason: "spam" });
    assert.equal((await world.doc(`${MODERATION_CASES}/${moderationCaseId(openWish, null)}`))?.status, "open");

    const both = await refreshOpsStatus(deps);
    assert.deepEqual(counts(both), { openReports: 2 });
    assert.equal(both.watches.openReports.oldestPath, `${MODERATION_CASES}/${hiddenCase}`, "the hidden case waits longest");

    // Ops keep the hidden wish (it comes back) and remove the other: nothing waits.
    assert.deepEqual(await resolveReport(deps, "ada", { caseId: hiddenCase, resolution: "keep", reason: "not a scam" }), { result: "kept" });
    const one = await refreshOpsStatus(deps);
    assert.deepEqual(counts(one), { openReports: 1 });
    assert.equal(one.watches.openReports.oldestPath, `${MODERATION_CASES}/${moderationCaseId(openWish, null)}`);
    assert.deepEqual(await resolveReport(deps, "ada", { caseId: moderationCaseId(openWish, null), resolution: "remove", reason: "spam indeed" }), { result: "removed" });
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {});
  });

  it("shows work that is overdue: a refund queued for over an hour, an open wish an hour past its deadline", async () => {
    await clearMoneyDb();
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    const late = `status-late-${Date.now()}`;
    await world.seedWish(late, { deadline: new Date(world.clock.now().getTime() - 2 * 60 * 60 * 1000) });
    const status = await refreshOpsStatus(deps);
    assert.deepEqual(counts(status), { overdueDeadlines: 1 });
    world.clock.advance(-90 * 60 * 1000); // 90 minutes earlier, the deadline was only 30 minutes past
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {});
  });

  it("shows a refund the provider accepted a week ago and never completed (an unclaimed pull payment), until it completes", async () => {
    await clearMoneyDb();
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    const now = world.clock.now().getTime();
    const request = (updatedAt: number) => ({ donationId: "d", wishId: "w", donorId: "dana", status: "requested", generation: 0, reason: "overpayment", updatedAt: new Date(updatedAt) });
    await world.db.doc("refundRequests/status-stalled").set(request(now - STALLED_REFUND_AFTER_MS - 60_000));
    await world.db.doc("refundRequests/status-recent").set(request(now - 24 * 60 * 60 * 1000)); // a day: still on its way
    const status = await refreshOpsStatus(deps);
    assert.deepEqual(counts(status), { stalledRefunds: 1 });
    assert.equal(status.watches.stalledRefunds.oldestPath, "refundRequests/status-stalled");
    await world.db.doc("refundRequests/status-stalled").update({ status: "succeeded", updatedAt: world.clock.now() });
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {});
  });

  it("shows the Fio feed failing for over 30 minutes, until the poller's next good call clears it", async () => {
    await clearMoneyDb();
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    const poller = world.db.doc("fioState/poller");
    await poller.set({ failingSince: new Date(world.clock.now().getTime() - 5 * 60 * 1000) }, { merge: true });
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {}, "five minutes: a blip");
    world.clock.advance(FIO_STALE_AFTER_MS);
    const failing = await refreshOpsStatus(deps);
    assert.deepEqual(counts(failing), { fioFeedFailing: 1 });
    assert.equal(failing.watches.fioFeedFailing.oldestPath, "fioState/poller");
    await poller.set({ failingSince: null }, { merge: true }); // what a good call writes
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {});
  });

  it("shows a bank movement recorded over 30 minutes ago that the poller still has not decided, until it is decided", async () => {
    await clearMoneyDb();
    const world = new MoneyWorld();
    const deps = { db: world.db, clock: world.clock };
    const movement = world.db.doc("fioTransactions/30000000042");
    await movement.set({ movementId: "30000000042", decision: null, recordedAt: world.clock.now() });
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {}, "just recorded: the next run decides it");
    world.clock.advance(FIO_STALE_AFTER_MS + 60_000);
    const stuck = await refreshOpsStatus(deps);
    assert.deepEqual(counts(stuck), { undecidedMovements: 1 });
    assert.equal(stuck.watches.undecidedMovements.oldestPath, "fioTransactions/30000000042");
    await movement.update({ decision: { kind: "book" } });
    assert.deepEqual(counts(await refreshOpsStatus(deps)), {});
  });
});
