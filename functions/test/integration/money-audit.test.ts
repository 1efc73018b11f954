// The money audit's reach and one of its remedies, in-process against the money database (test/helpers/money.ts):
// a `ledger_totals_drift` on `payouts.paidAmount` that reconcileWishLedger's repair clears without moving money, and
// the rotation that lets consecutive hourly runs reach every candidate when there are more than a run takes.
import assert from "node:assert/strict";
import { AUDIT_GRACE_MS, auditMoney, auditWish } from "../../src/settlement/audit";
import { reconcileWishAction } from "../../src/donations/reconcile";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";

describe("the money audit: paidAmount drift and rotation (in-process, money database)", function () {
  this.timeout(120_000);

  before(function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
  });
  beforeEach(clearMoneyDb);

  it("a payout's paidAmount changed outside our code: the audit reports it, reconcileWishLedger re-derives it from the ledger, no money moves", async () => {
    const world = new MoneyWorld();
    const wishId = `audit-paid-${Date.now()}`;
    await world.seedWish(wishId, { amount: 30_000 });
    await world.onboard("olga");
    await world.paidDonation(wishId, "dana", 30_000);
    await world.quiesce(wishId); // funded → paid out
    const paid = await world.doc(`payouts/${wishId}`);
    assert.deepEqual([paid?.status, paid?.paidAmount, paid?.grossAccounted], ["paid", 30_000, 30_000]);
    const transfers = () => world.stripe.callsTo("POST", "/v1/transfers").length;
    const transfersBefore = transfers();

    await world.db.doc(`payouts/${wishId}`).update({ paidAmount: 12_345 }); // a write that bypassed the ledger
    world.clock.advance(AUDIT_GRACE_MS + 1000);
    const deps = { ...world.refundDeps, payouts: world.payouts };
    const found = await auditWish(deps, wishId);
    assert.deepEqual(found?.breaches.map((breach) => [breach.kind, breach.repaired]), [["ledger_totals_drift", false]]);
    assert.match(String(found?.breaches[0]?.suspectedCause), /payout\.paidAmount 12345 vs the ledger's 30000.*reconcileWishLedger/);

    const reason = "money audit: paidAmount drift";
    const check = await reconcileWishAction(world.ledger, "operator:ana", { wishId, reason });
    assert.deepEqual([check.result, check.drift, check.repaired, check.paidAmount], ["drift", true, false, { expected: 30_000, actual: 12_345 }]);
    assert.equal((await world.doc(`payouts/${wishId}`))?.paidAmount, 12_345, "a check repairs nothing");
    const repair = await reconcileWishAction(world.ledger, "operator:ana", { wishId, repair: true, reason });
    assert.deepEqual([repair.result, repair.repaired], ["repaired", true]);

    const after = await world.doc(`payouts/${wishId}`);
    assert.deepEqual({ ...after, updatedAt: null }, { ...paid, updatedAt: null }, "only paidAmount changed back; nothing else of the payout");
    assert.equal(world.tasks.pending.length, 0, "no payout task queued");
    await world.quiesce(wishId);
    assert.equal(transfers(), transfersBefore, "no transfer");
    assert.deepEqual((await world.doc(`ops/ledger/drift/${wishId}`))?.paidAmount, { expected: 30_000, actual: 12_345 }, "the old value stays on record");
    const audits = (await world.db.collection("auditLog").where("target", "==", `wishes/${wishId}`).get()).docs.map((entry) => [String(entry.get("action")), String(entry.get("result"))]);
    assert.deepEqual(audits.sort(), [["reconcileWish", "drift"], ["reconcileWish", "repaired"]]);

    world.clock.advance(AUDIT_GRACE_MS + 1000);
    assert.deepEqual((await auditWish(deps, wishId))?.breaches, []);
    assert.ok((await world.doc(`ops/moneyAudit/breaches/ledger_totals_drift_${wishId}`))?.resolvedAt, "the breach is resolved");
  });

  it("more candidates than a run takes: consecutive runs audit each in turn, not the same head every hour", async () => {
    const world = new MoneyWorld();
    const wishIds = ["rot-a", "rot-b", "rot-c", "rot-d", "rot-e"].map((id) => `${id}-${Date.now()}`);
    for (const wishId of wishIds) await world.seedWish(wishId, { status: "closed", closedAt: world.clock.now() });
    const deps = { ...world.refundDeps, payouts: world.payouts };

    const runs: string[][] = [];
    for (let run = 0; run < 3; run++) runs.push((await auditMoney(deps, { maxWishes: 2 })).wishIds);
    assert.deepEqual(runs, [wishIds.slice(0, 2), wishIds.slice(2, 4), [wishIds[4], wishIds[0]]], "in id order, wrapping round");
    assert.deepEqual([...new Set(runs.flat())].sort(), [...wishIds].sort(), "three runs of two covered all five");
    const summary = await world.doc("ops/moneyAudit");
    assert.deepEqual([summary?.wishesAudited, summary?.candidates, summary?.cursor], [2, 5, wishIds[0]]);

    // A wish that joins the list is reached within one round; without the cap a run takes every candidate.
    const late = `rot-bb-${Date.now()}`;
    await world.seedWish(late, { status: "closed", closedAt: world.clock.now() });
    assert.deepEqual((await auditMoney(deps, { maxWishes: 2 })).wishIds, [wishIds[1], late], "the next run goes on after the cursor, the late wish in its place");
    const all = await auditMoney(deps);
    assert.equal(all.wishIds.length, 6);
    assert.equal((await world.doc("ops/moneyAudit"))?.cursor, null);
  });
});
