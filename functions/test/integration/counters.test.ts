// Sharded money counters (issue 17): on a busy wish the webhook writes a shard, never the wish; one fold task per wish
// per second sums the shards into it and flips it to funded exactly once. A quiet wish takes the donation directly. In-process against the Firestore emulator's
// money database (test/helpers/money.ts), the webhook signed and verified as deployed; Cloud Tasks as a recorded queue.
import assert from "node:assert/strict";
import { FOLD_QUEUE, FoldTooSoonError, foldWishCounters, scheduleCounterFold } from "../../src/donations/counters";
import { FOLD_INTERVAL_MS, raisedShardId, RAISED_SHARD_COUNT } from "../../src/model/wish";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { instrumentFirestore, measureOps } from "../../bench/lib/counting";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";
import { recordingTasks } from "../helpers/tasks";

describe("sharded wish counters and their fold (in-process, money database)", function () {
  this.timeout(60_000);
  let counter = 0;
  async function openWish(amount = 100_000): Promise<{ world: MoneyWorld; wishId: string }> {
    const world = new MoneyWorld();
    world.forceWishPath("busy"); // every wish busy: the shard path, whatever the timing
    const wishId = `shards-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount });
    return { world, wishId };
  }

  before(async function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
    await clearMoneyDb();
  });

  it("a confirmed donation increments one shard, not the wish; the fold sums the shards; a redelivery and a second fold change nothing", async () => {
    const { world, wishId } = await openWish();
    const first = await world.paidDonation(wishId, "dana", 20_000);
    const second = await world.paidDonation(wishId, "dave", 15_000);
    const wishBefore = await world.doc(`wishes/${wishId}`);
    assert.equal(wishBefore?.raised, 0, "the webhook does not write the wish");
    const shards = await world.db.collection(`wishes/${wishId}/raisedShards`).get();
    const byId = new Map(shards.docs.map((doc) => [doc.id, doc.data()]));
    assert.equal(byId.get(raisedShardId(first.donationId))?.raised, raisedShardId(first.donationId) === raisedShardId(second.donationId) ? 35_000 : 20_000);

    const folded = await foldWishCounters(world.ledger, wishId);
    assert.equal(folded.outcome, "folded");
    let wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.donorCount, wish?.hasSucceededDonation, wish?.status], [35_000, 2, true, "open"]);
    assert.ok(wish?.raisedAsOf, "raisedAsOf tells clients when the figure was folded");

    // Stripe delivers the first payment again; then the fold runs again: nothing moves.
    const succeeded = world.stripe.events.find((event) => event.type === "payment_intent.succeeded" && JSON.stringify(event).includes(first.paymentIntentId));
    assert.ok(succeeded);
    await world.deliver(succeeded);
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "unchanged");
    wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.donorCount], [35_000, 2]);
  });

  it("funded exactly once when the shards reach the amount, however many folds race; a surprise is revealed in the same write", async () => {
    const world = new MoneyWorld();
    world.forceWishPath("busy");
    const wishId = `shards-surprise-${Date.now()}`;
    await world.seedWish(wishId, { amount: 30_000, isSurprise: true, ownerId: "olga", organizerId: "dora", viewerIds: ["dora", "dana", "dave"] });
    await world.paidDonation(wishId, "dana", 20_000);
    await world.paidDonation(wishId, "dave", 10_000);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => foldWishCounters(world.ledger, wishId)));
    assert.equal(outcomes.filter((o) => o.outcome === "folded" && o.funded).length, 1, "one fold flips it");
    const wish = await world.doc(`wishes/${wishId}`);
    assert.equal(wish?.status, "funded");
    assert.ok((wish?.viewerIds as string[]).includes("olga"), "the recipient sees the funded surprise");
    const funded = await world.db.collection("events").where("type", "==", "wish.funded").where("wishId", "==", wishId).get();
    assert.equal(funded.size, 1);
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "unchanged");
  });

  it("a fold whose shard snapshot is older than the one folded writes nothing; a task's fold within a second of the last waits out a short gap and refuses a long one", async () => {
    const { world, wishId } = await openWish();
    await world.paidDonation(wishId, "dana", 20_000);
    await foldWishCounters(world.ledger, wishId);
    await world.paidDonation(wishId, "dave", 5_000);
    await assert.rejects(foldWishCounters(world.ledger, wishId, { minSpacingMs: 60_000, waitUpToMs: 1_000 }), FoldTooSoonError, "Cloud Tasks retries it later");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 20_000);
    // A gap shorter than the wait: the task's fold waits it out and folds, still a second after the last write.
    const before = (await world.db.doc(`wishes/${wishId}`).get()).updateTime?.toMillis() ?? 0;
    const waited = await foldWishCounters(world.ledger, wishId, { minSpacingMs: 1_000, waitUpToMs: 1_000 });
    assert.equal(waited.outcome, "folded");
    const after = (await world.db.doc(`wishes/${wishId}`).get()).updateTime?.toMillis() ?? 0;
    assert.ok(after - before >= 1_000, `the wish's writes stay a second apart (${after - before} ms)`);
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 25_000);
    const future = new Date(Date.now() + 60_000);
    await world.db.doc(`wishes/${wishId}`).update({ raisedAsOf: future, raised: 1 });
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "superseded");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 1);
  });

  it("a task's fold that must wait reads the wish alone (no aggregation), and refuses when the wish is written while it waits", async () => {
    const { world, wishId } = await openWish();
    await world.paidDonation(wishId, "dana", 20_000);
    await foldWishCounters(world.ledger, wishId);
    await world.paidDonation(wishId, "dave", 5_000);
    const db = world.db;
    const reads = instrumentFirestore(db);
    // Refused at once (a gap longer than it may wait): one get of the wish, no sum() of the shards.
    const { ops: refused } = await measureOps(reads, () =>
      assert.rejects(foldWishCounters({ db, clock: world.ledger.clock }, wishId, { minSpacingMs: 60_000, waitUpToMs: 1_000 }), FoldTooSoonError),
    );
    assert.deepEqual(refused.rpcs, { batchGetDocuments: 1 }, "a refused fold pays for the wish's read only");
    // Waiting out a short gap while the wish is edited: the fold reads again after its wait and refuses.
    const waiting = foldWishCounters({ db, clock: world.ledger.clock }, wishId, { minSpacingMs: 1_000, waitUpToMs: 1_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await db.doc(`wishes/${wishId}`).update({ title: "Edited while the fold waited" });
    await assert.rejects(waiting, FoldTooSoonError, "Cloud Tasks retries it later");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 20_000, "the wish's counters wait for the retry");
    // Its retry, a second after the edit, folds.
    await new Promise((resolve) => setTimeout(resolve, FOLD_INTERVAL_MS));
    assert.equal((await foldWishCounters({ db, clock: world.ledger.clock }, wishId, { minSpacingMs: 1_000, waitUpToMs: 1_000 })).outcome, "folded");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 25_000);
  });

  it("one fold task per wish per interval, scheduled after the interval; refunds fold down", async () => {
    const tasks = recordingTasks();
    const at = new Date(Date.UTC(2026, 10, 30, 12, 0, 0, 100));
    assert.equal(await scheduleCounterFold({ tasks }, "w-sched", at), "enqueued");
    assert.equal(await scheduleCounterFold({ tasks }, "w-sched", new Date(at.getTime() + 800)), "duplicate", "same second: not even sent");
    assert.equal(await scheduleCounterFold({ tasks }, "w-sched", new Date(at.getTime() + 1000)), "enqueued", "next second: a new task");
    assert.equal(tasks.calls.length, 2);
    const [first] = tasks.calls;
    assert.equal(first?.queue, FOLD_QUEUE);
    assert.match(String(first?.options.id), /^fold-w-sched-\d+$/);
    assert.ok((first?.options.scheduleTime?.getTime() ?? 0) >= Math.ceil(at.getTime() / FOLD_INTERVAL_MS) * FOLD_INTERVAL_MS, "runs after its interval ends");

    const { world, wishId } = await openWish();
    const paid = await world.paidDonation(wishId, "dana", 20_000);
    assert.ok(world.tasks.pending.some((task) => task.queue === FOLD_QUEUE && task.payload.wishId === wishId), "the webhook queued the fold");
    await world.deliver(world.stripe.refund(paid.paymentIntentId, 5_000));
    await world.deliverAll();
    await foldWishCounters(world.ledger, wishId);
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 15_000);
  });

  it("a confirmed donation costs two round trips (one getAll, one commit); shards spread by donation id", async () => {
    const { world, wishId } = await openWish();
    const pending = await world.pendingDonation(wishId, "dana", 20_000);
    const event = world.stripe.succeed(pending.paymentIntentId);
    const counter = instrumentFirestore(world.db);
    const { ops } = await measureOps(counter, () => world.deliver(event));
    assert.deepEqual(ops.rpcs, { batchGetDocuments: 1, commit: 1 });
    assert.equal(ops.reads, 2, "the donation and the wish (busy or quiet)");
    assert.equal(ops.writes, 5, "donation (with the event id), ledger entry, shard, contribution, supporter; no outbox event (the donation's trigger publishes it)");
    const ids = new Set(Array.from({ length: 2000 }, (_, i) => raisedShardId(`don-${i}`)));
    assert.ok(ids.size > RAISED_SHARD_COUNT * 0.8, `2,000 donations use most of the ${RAISED_SHARD_COUNT} shards (${ids.size})`);
  });
  it("a donation made while its wish was busy is confirmed without reading the wish: 1 read + 5 writes, into a shard", async () => {
    const { world, wishId } = await openWish();
    world.forceWishPath("quiet"); // the wish would be quiet if read: the flag alone sends the payment to a shard
    const pending = await world.pendingDonation(wishId, "dana", 20_000, { busyWish: true });
    const counter = instrumentFirestore(world.db);
    const { ops } = await measureOps(counter, () => world.deliver(world.stripe.succeed(pending.paymentIntentId)));
    assert.deepEqual(ops.rpcs, { batchGetDocuments: 1, commit: 1 });
    assert.deepEqual([ops.reads, ops.writes], [1, 5], "the donation read; donation, ledger entry, shard, contribution, supporter written");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 0, "not the wish");
    assert.equal((await world.db.doc(`wishes/${wishId}/raisedShards/${raisedShardId(pending.donationId)}`).get()).get("raised"), 20_000);
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "folded");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, 20_000);
  });

  it("a quiet wish takes the donation directly (no shard, no fold task); a busy one in the same second goes to a shard; the fold adds both exactly", async () => {
    const world = new MoneyWorld();
    world.forceWishPath("quiet"); // quiet as soon as written: the direct path, whatever the timing
    const wishId = `quiet-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount: 50_000 });
    const pending = await world.pendingDonation(wishId, "dana", 20_000);
    const counter2 = instrumentFirestore(world.db);
    const { ops } = await measureOps(counter2, () => world.deliver(world.stripe.succeed(pending.paymentIntentId)));
    assert.deepEqual(ops.rpcs, { batchGetDocuments: 1, commit: 1 });
    assert.deepEqual([ops.reads, ops.writes], [2, 5], "the wish instead of a shard: same cost");
    let wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.donorCount, wish?.directRaised, wish?.hasSucceededDonation], [20_000, 1, 20_000, true], "raised at once");
    assert.equal((await world.db.collection(`wishes/${wishId}/raisedShards`).get()).size, 0, "no shard");
    assert.ok(!world.tasks.pending.some((task) => task.payload.wishId === wishId), "no fold task");

    // Now busy: the next donation goes to a shard, and reaching the amount is the fold's to decide.
    world.forceWishPath("busy");
    await world.paidDonation(wishId, "dave", 30_000);
    wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.status], [20_000, "open"]);
    const folded = await foldWishCounters(world.ledger, wishId);
    assert.equal(folded.outcome, "folded");
    assert.ok(folded.outcome === "folded" && folded.funded, "the fold flips it once the direct part and the shards reach the amount");
    wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.donorCount, wish?.status], [50_000, 2, "funded"]);
  });

  it("a wish a fold of several donors wrote recently stays busy (its donations go to shards) however long ago its last write was", async () => {
    const world = new MoneyWorld();
    world.ledger.quietAfterMs = 0;
    world.ledger.busyAfterFoldMs = 60_000;
    const wishId = `recently-folded-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount: 90_000 });
    const shardCount = async () => (await world.db.collection(`wishes/${wishId}/raisedShards`).get()).size;
    const shardRaised = async () => (await world.db.collection(`wishes/${wishId}/raisedShards`).get()).docs.reduce((sum, doc) => sum + Number(doc.get("raised")), 0);
    await world.paidDonation(wishId, "dana", 10_000);
    assert.deepEqual([(await world.doc(`wishes/${wishId}`))?.directRaised, await shardCount()], [10_000, 0], "never folded: quiet, straight in");
    world.ledger.quietAfterMs = Number.POSITIVE_INFINITY;
    await world.paidDonation(wishId, "dave", 20_000);
    await world.paidDonation(wishId, "gina", 1_000);
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "folded");
    assert.equal((await world.doc(`wishes/${wishId}`))?.lastFoldDonors, 2);
    world.ledger.quietAfterMs = 0;
    await world.paidDonation(wishId, "erin", 30_000);
    const shards = await shardCount();
    assert.deepEqual([(await world.doc(`wishes/${wishId}`))?.directRaised, await shardRaised()], [10_000, 51_000], "folded a moment ago: busy, a shard");
    world.ledger.busyAfterFoldMs = 0;
    await world.paidDonation(wishId, "fred", 5_000);
    assert.deepEqual([(await world.doc(`wishes/${wishId}`))?.directRaised, await shardCount()], [15_000, shards], "the fold long enough ago: quiet again");
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "folded");
    assert.deepEqual([(await world.doc(`wishes/${wishId}`))?.raised, (await world.doc(`wishes/${wishId}`))?.donorCount], [66_000, 5], "the fold adds both parts exactly");
  });

  it("a warm wish: a fold of a single donor does not keep it busy, so its next donation goes straight in", async () => {
    const world = new MoneyWorld();
    world.ledger.quietAfterMs = Number.POSITIVE_INFINITY;
    world.ledger.busyAfterFoldMs = 60_000;
    const wishId = `warm-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount: 90_000 });
    await world.paidDonation(wishId, "dana", 10_000);
    assert.equal((await foldWishCounters(world.ledger, wishId)).outcome, "folded");
    assert.equal((await world.doc(`wishes/${wishId}`))?.lastFoldDonors, 1);
    world.ledger.quietAfterMs = 0;
    await world.paidDonation(wishId, "dave", 20_000);
    const wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.directRaised, wish?.donorCount], [30_000, 20_000, 2], "folded a moment ago, but one donor: quiet, straight in");
  });

  it("a quiet wish reaching its amount asks the fold to flip it (the webhook never flips it itself)", async () => {
    const world = new MoneyWorld();
    world.forceWishPath("quiet");
    const wishId = `quiet-full-${Date.now()}-${++counter}`;
    await world.seedWish(wishId, { amount: 20_000 });
    await world.paidDonation(wishId, "dana", 20_000);
    assert.equal((await world.doc(`wishes/${wishId}`))?.status, "open", "not flipped by the webhook");
    assert.ok(world.tasks.pending.some((task) => task.queue === FOLD_QUEUE && task.payload.wishId === wishId), "a fold is queued");
    await world.deliverAll();
    await foldWishCounters(world.ledger, wishId);
    const wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.raised, wish?.status], [20_000, "funded"]);
  });
});
