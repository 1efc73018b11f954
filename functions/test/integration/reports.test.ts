// Reports of wishes and comments (docs/wishes.md "Reporting", docs/operations.md "Reports"), through the callables and
// rules-checked client reads: the moderation queue, the threshold that hides content pending review, and ops resolving.
import assert from "node:assert/strict";
import { collection, doc, getDoc, getDocs, serverTimestamp, updateDoc } from "firebase/firestore";
import { REPORT_HIDE_THRESHOLD } from "../../src/config";
import { domainEventSchema } from "../../src/events/schema";
import { fanOutEvent } from "../../src/feed/worker";
import { recordingTasks } from "../helpers/tasks";
import { systemClock } from "../../src/lib/clock";
import { MODERATION_CASES, moderationCaseId } from "../../src/model/moderation";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import type { TestClient } from "../../devtools/support/clients";
import { addComment, writeComment } from "../../devtools/support/comments";
import { expectCode } from "../helpers/errors";
import { waitFor } from "../helpers/wait";
import { befriend, feedOf, wishInput } from "../helpers/wish-fixtures";

const caseDoc = (wishId: string, commentId: string | null = null) => adminDb().doc(`${MODERATION_CASES}/${moderationCaseId(wishId, commentId)}`);
const viewersOf = async (wishId: string) => (await adminDb().doc(`wishes/${wishId}`).get()).get("viewerIds") as string[];
const tombstoneOf = (wishId: string, commentId: string) => adminDb().doc(`wishes/${wishId}/commentTombstones/${commentId}`);
/** `uid` posts `text` on the wish under the id `commentId` of their choosing, as a modified app could. */
const postAs = (client: TestClient, uid: string, wishId: string, commentId: string, text: string) =>
  writeComment(client.db, uid, wishId, { authorId: uid, text, createdAt: serverTimestamp() }, commentId);

/** olga's wish with dan's comment "Something nasty" on it, and the clients of everyone in the story (ops an admin). */
async function wishWithNastyComment() {
  await befriend("olga", "ann", "bea", "cat", "dan");
  const [olga, ann, bea, cat, dan, ops] = await Promise.all([
    signedInClient("olga"),
    signedInClient("ann"),
    signedInClient("bea"),
    signedInClient("cat"),
    signedInClient("dan"),
    signedInClient("ops", {}, { admin: true }),
  ]);
  const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
  const commentId = await addComment(dan.db, "dan", wishId, "Something nasty");
  return { olga, ann, bea, cat, dan, ops, wishId, commentId };
}

describe("reports and the moderation queue", function () {
  this.timeout(120_000);

  it(`a wish reported by ${REPORT_HIDE_THRESHOLD} distinct viewers is hidden pending review; ops keep it and it is back`, async () => {
    assert.equal(REPORT_HIDE_THRESHOLD, 3, "the story below reports three times");
    await befriend("olga", "ann", "bea", "cat", "dan");
    const [olga, ann, bea, cat, ops] = await Promise.all([
      signedInClient("olga"),
      signedInClient("ann"),
      signedInClient("bea"),
      signedInClient("cat"),
      signedInClient("ops", {}, { admin: true }),
    ]);
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput({ title: "Buy followers" }));
    // ann has the wish in her feed (the worker in-process; the Pub/Sub path is feed.test.ts's).
    const created = domainEventSchema.parse((await adminDb().doc(`events/wish.created:${wishId}`).get()).data());
    await fanOutEvent({ db: adminDb(), clock: systemClock, tasks: recordingTasks() }, created);
    assert.equal((await feedOf("ann", wishId)).length, 1);

    assert.deepEqual(await ann.call("reportContent", { wishId, reason: "scam", note: "Asks for money elsewhere" }), { received: true, alreadyReported: false });
    assert.deepEqual(await ann.call("reportContent", { wishId, reason: "spam" }), { received: true, alreadyReported: true }, "one report per person");
    await expectCode(olga.call("reportContent", { wishId, reason: "spam" }), "failed-precondition", /your own wish/);
    await expectCode(ann.call("reportContent", { wishId, reason: "boring" }), "invalid-argument", /Field 'reason'/);
    await bea.call("reportContent", { wishId, reason: "scam" });
    let queued = (await caseDoc(wishId).get()).data();
    assert.equal(queued?.status, "open", "below the threshold: in the queue, still visible");
    assert.equal(queued?.reporterCount, 2);
    assert.deepEqual(queued?.reasons, { scam: 2 });
    assert.deepEqual(queued?.content, { title: "Buy followers", text: "A red one" });
    assert.ok((await getDoc(doc(ann.db, "wishes", wishId))).exists());

    await cat.call("reportContent", { wishId, reason: "spam" });
    queued = (await caseDoc(wishId).get()).data();
    assert.equal(queued?.status, "hidden");
    assert.deepEqual(queued?.viewerIdsBeforeHide, ["ann", "bea", "cat", "dan", "olga"]);
    assert.deepEqual(await viewersOf(wishId), ["olga"], "hidden: only the organizer (and owner) see it");
    await assert.rejects(getDoc(doc(ann.db, "wishes", wishId)), /permission/i);
    assert.ok((await getDoc(doc(olga.db, "wishes", wishId))).get("hiddenAt"), "the organizer sees that it is hidden");
    assert.deepEqual(await feedOf("ann", wishId), [], "feed items of people who lost it are withdrawn");
    assert.equal((await caseDoc(wishId).collection("reports").count().get()).data().count, 3);

    // Ops: only admins resolve; every action is audited.
    const caseId = moderationCaseId(wishId, null);
    await expectCode(ann.call("resolveReport", { caseId, resolution: "keep", reason: "fine" }), "permission-denied", /Admins only/);
    await expectCode(ops.call("resolveReport", { caseId: "wish-nope", resolution: "keep", reason: "fine" }), "not-found", /Field 'caseId'/);
    assert.deepEqual(await ops.call("resolveReport", { caseId, resolution: "keep", reason: "A real wish" }), { result: "kept" });
    assert.deepEqual(await viewersOf(wishId), ["ann", "bea", "cat", "dan", "olga"]);
    assert.ok((await getDoc(doc(ann.db, "wishes", wishId))).exists());
    const kept = (await caseDoc(wishId).get()).data();
    assert.equal(kept?.status, "kept");
    assert.equal(kept?.round, 2);
    assert.equal(kept?.reporterCount, 0);
    const audit = await adminDb().collection("auditLog").where("target", "==", `${MODERATION_CASES}/${caseId}`).get();
    assert.deepEqual(audit.docs.map((entry) => entry.get("result") as string).sort(), ["kept"]);
    const refused = await adminDb().collection("auditLog").where("target", "==", `${MODERATION_CASES}/wish-nope`).get();
    assert.deepEqual(refused.docs.map((entry) => entry.get("result") as string), ["refused: not-found"]);
    // A new round: the same reporters cannot report what ops reviewed again; new ones start over.
    assert.deepEqual(await bea.call("reportContent", { wishId, reason: "spam" }), { received: true, alreadyReported: true });
    // Once the organizer changes it, it is new content: its earlier reporters may report it again, and ops review it as
    // it is now.
    await updateDoc(doc(olga.db, "wishes", wishId), { title: "Buy followers cheap", updatedAt: serverTimestamp() });
    assert.deepEqual(await bea.call("reportContent", { wishId, reason: "scam" }), { received: true, alreadyReported: false });
    assert.deepEqual(await bea.call("reportContent", { wishId, reason: "scam" }), { received: true, alreadyReported: true }, "once per round");
    const reopened = (await caseDoc(wishId).get()).data();
    assert.equal(reopened?.status, "open");
    assert.equal(reopened?.round, 2);
    assert.equal(reopened?.reporterCount, 1);
    assert.deepEqual(reopened?.content, { title: "Buy followers cheap", text: "A red one" });
    assert.equal((await caseDoc(wishId).collection("reports").doc("bea").get()).get("round"), 2, "her report of the new content replaces her first");
  });

  it("a reported comment is taken off the wish at the threshold; ops remove it for good, or keep it and it comes back", async () => {
    const { olga, ann, bea, cat, dan, ops, wishId, commentId } = await wishWithNastyComment();
    await expectCode(dan.call("reportContent", { wishId, commentId, reason: "spam" }), "failed-precondition", /your own comment/);
    await expectCode(ann.call("reportContent", { wishId, commentId: "nope", reason: "spam" }), "not-found", /Field 'commentId'/);
    for (const reporter of [ann, bea, cat]) await reporter.call("reportContent", { wishId, commentId, reason: "harassment" });
    const hidden = (await caseDoc(wishId, commentId).get()).data();
    assert.equal(hidden?.status, "hidden");
    assert.equal(hidden?.authorId, "dan");
    assert.deepEqual(hidden?.content, { title: null, text: "Something nasty" });
    const visible = async () => (await getDocs(collection(olga.db, "wishes", wishId, "comments"))).docs.map((d) => d.id);
    assert.deepEqual(await visible(), [], "taken off the wish: no viewer's list shows it");
    assert.deepEqual(await viewersOf(wishId), ["ann", "bea", "cat", "dan", "olga"], "the wish itself is untouched");

    const caseId = moderationCaseId(wishId, commentId);
    assert.deepEqual(await ops.call("resolveReport", { caseId, resolution: "remove", reason: "Harassment" }), { result: "removed" });
    assert.deepEqual(await ops.call("resolveReport", { caseId, resolution: "remove", reason: "Again" }), { result: "unchanged" });
    assert.deepEqual(await visible(), []);
    // Ops change their mind: kept, the comment is back with its id, author and text (its trigger does not run twice).
    assert.deepEqual(await ops.call("resolveReport", { caseId, resolution: "keep", reason: "Context: a joke between friends" }), { result: "kept" });
    assert.deepEqual(await visible(), [commentId]);
    const restored = await getDoc(doc(olga.db, "wishes", wishId, "comments", commentId));
    assert.equal(restored.get("authorId"), "dan");
    assert.equal(restored.get("text"), "Something nasty");
  });

  it("a comment taken off the wish cannot be posted again under its id, by its author or anyone else", async () => {
    await befriend("olga", "ann", "bea", "cat", "dan", "eve");
    const [olga, ann, bea, cat, dan, eve, ops] = await Promise.all([
      signedInClient("olga"),
      signedInClient("ann"),
      signedInClient("bea"),
      signedInClient("cat"),
      signedInClient("dan"),
      signedInClient("eve"),
      signedInClient("ops", {}, { admin: true }),
    ]);
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    const commentId = await addComment(dan.db, "dan", wishId, "Something nasty");
    for (const reporter of [ann, bea, cat]) await reporter.call("reportContent", { wishId, commentId, reason: "harassment" });
    const caseId = moderationCaseId(wishId, commentId);
    assert.equal((await caseDoc(wishId, commentId).get()).get("status"), "hidden");
    assert.equal((await tombstoneOf(wishId, commentId).get()).get("caseId"), caseId, "hiding retired the id");
    // Hidden pending review: the author cannot put it back under its id.
    await assert.rejects(postAs(dan, "dan", wishId, commentId, "Something nasty"), /permission/i);

    assert.deepEqual(await ops.call("resolveReport", { caseId, resolution: "remove", reason: "Harassment" }), { result: "removed" });
    // Removed: not the author, not his second account, not the organizer.
    for (const [client, uid] of [[dan, "dan"], [eve, "eve"], [olga, "olga"]] as const) {
      await assert.rejects(postAs(client, uid, wishId, commentId, "Something nasty"), /permission/i, `${uid} re-posts under a removed id`);
    }
    const visible = async () => (await getDocs(collection(olga.db, "wishes", wishId, "comments"))).docs.map((d) => d.id);
    assert.deepEqual(await visible(), []);
    const hidden = (await caseDoc(wishId, commentId).get()).data();
    assert.equal(hidden?.status, "removed");
    assert.equal((hidden?.hiddenComment as { text?: string } | null)?.text, "Something nasty", "the case keeps the original");
    // A fresh id is a comment like any other (reportable, and hidden by its own case).
    const fresh = await addComment(dan.db, "dan", wishId, "Sorry");
    assert.deepEqual(await visible(), [fresh]);
    assert.deepEqual(await ann.call("reportContent", { wishId, commentId: fresh, reason: "spam" }), { received: true, alreadyReported: false });

    // The tombstones go with the wish.
    assert.deepEqual(await olga.call("deleteWish", { wishId }), { deleted: true });
    await waitFor("the tombstone to go with the wish", async () => ((await tombstoneOf(wishId, commentId).get()).exists ? undefined : true), { timeoutMs: 60_000, intervalMs: 250 });
  });

  it("ops remove a comment hidden before ids were retired: a comment re-posted under its id goes too, and the id is retired", async () => {
    const { olga, ann, bea, cat, dan, ops, wishId, commentId } = await wishWithNastyComment();
    for (const reporter of [ann, bea, cat]) await reporter.call("reportContent", { wishId, commentId, reason: "harassment" });
    // As hiding left things before tombstones: no tombstone, so the author could re-post under the id.
    await tombstoneOf(wishId, commentId).delete();
    await postAs(dan, "dan", wishId, commentId, "Something nasty again");
    const caseId = moderationCaseId(wishId, commentId);
    assert.deepEqual(await ops.call("resolveReport", { caseId, resolution: "remove", reason: "Harassment" }), { result: "removed" });
    assert.deepEqual((await getDocs(collection(olga.db, "wishes", wishId, "comments"))).docs.map((d) => d.id), []);
    assert.equal((await tombstoneOf(wishId, commentId).get()).get("caseId"), caseId);
    assert.equal(((await caseDoc(wishId, commentId).get()).get("hiddenComment") as { text: string }).text, "Something nasty");
    await assert.rejects(postAs(dan, "dan", wishId, commentId, "Third time"), /permission/i);
  });

  it("ops remove a wish that was only reported once: it is hidden for good", async () => {
    await befriend("olga", "ann");
    const [olga, ann, ops] = await Promise.all([signedInClient("olga"), signedInClient("ann"), signedInClient("ops", {}, { admin: true })]);
    const { wishId } = await olga.call<{ wishId: string }>("createWish", wishInput());
    await ann.call("reportContent", { wishId, reason: "sexual" });
    assert.deepEqual(await ops.call("resolveReport", { caseId: moderationCaseId(wishId, null), resolution: "remove", reason: "Explicit picture" }), {
      result: "removed",
    });
    assert.deepEqual(await viewersOf(wishId), ["olga"]);
    await assert.rejects(getDoc(doc(ann.db, "wishes", wishId)), /permission/i);
    // Still hidden after an audience recomputation (a trigger or the organizer's edit cannot bring viewers back).
    await olga.call("setWishAudience", { wishId, audience: { kind: "friends" } });
    assert.deepEqual(await viewersOf(wishId), ["olga"]);
  });
});
