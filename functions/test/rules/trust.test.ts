// Rules matrices for the trust-boundary collections (docs/security.md): the rate-limit windows users/{uid}/rateLimits
// and the moderation queue ops/moderation/cases (+ reports). Roles: ann owns the windows under test and is a viewer of
// olga's wish W and of the surprise S (recipient rita, organizer oscar); rita2 is a second account of rita; sam is a
// stranger; ada an admin; plus a signed-out client. Every role has a completed sign-up.
import assert from "node:assert/strict";
import { assertFails, assertSucceeds } from "@firebase/rules-unit-testing";
import {
  Timestamp,
  collection,
  collectionGroup,
  deleteDoc,
  deleteField,
  doc,
  getDoc,
  getDocs,
  query,
  serverTimestamp,
  setDoc,
  updateDoc,
  where,
  writeBatch,
} from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { RATE_LIMITS } from "../../src/config";
import { MODERATION_CASES } from "../../src/model/moderation";
import { clientAs, expectAllowedOnly, rulesEnv, seed } from "../helpers/rules";

const W = "w-normal";
const S = "w-surprise";
const ROLES = ["ann", "olga", "rita", "rita2", "oscar", "sam", "ada"] as const;
type Role = (typeof ROLES)[number] | "signed-out";
const ALL: readonly Role[] = [...ROLES, "signed-out"];
const { max: LIMIT, windowSeconds: WINDOW } = RATE_LIMITS.comments;
const CASE = `${MODERATION_CASES}/wish-abc`;

const ago = (seconds: number) => Timestamp.fromMillis(Date.now() - seconds * 1000);
const window = (count: number, startedSecondsAgo: number) => ({ windowStart: ago(startedSecondsAgo), count, last: ago(1), lastKey: `${W}/old` });

/** The seed, with its times computed when it is written (mocha loads this file minutes before it runs). */
const SEED = (): Record<string, Record<string, unknown>> => ({
  ...Object.fromEntries(ROLES.map((role) => [`users/${role}`, { displayName: role, photoUrl: null, facebookLinked: true }])),
  [`wishes/${W}`]: { ownerId: "olga", organizerId: "olga", isSurprise: false, viewerIds: ["ann", "olga"], status: "open" },
  [`wishes/${S}`]: { ownerId: "rita", organizerId: "oscar", isSurprise: true, viewerIds: ["ann", "oscar"], status: "open" },
  "users/ann/rateLimits/comments": window(5, 60),
  "users/ann/rateLimits/wishes": { windowStart: ago(60), count: 2, last: ago(1), lastKey: "wishes" },
  [CASE]: { kind: "wish", wishId: S, commentId: null, authorId: "oscar", status: "open", reporterCount: 1, round: 1 },
  [`${CASE}/reports/ann`]: { reporterId: "ann", reason: "spam", note: null, round: 1, createdAt: ago(60) },
});

function as(role: Role): Promise<Firestore> {
  return clientAs(role === "signed-out" ? null : role, role === "ada" ? { admin: true } : {});
}

function matrix(allowed: readonly Role[], op: (db: Firestore, role: Role) => Promise<unknown>): Promise<void> {
  return expectAllowedOnly(ALL, allowed, as, op);
}

/** Deletes a document as the server would (rules off). */
async function unseed(path: string): Promise<void> {
  const env = await rulesEnv();
  await env.withSecurityRulesDisabled((context) => deleteDoc(doc(context.firestore() as unknown as Firestore, path)));
}

const uidOf = (role: Role) => (role === "signed-out" ? "nobody" : role);
const step = (over: Record<string, unknown> = {}) => ({ last: serverTimestamp(), lastKey: `${W}/c1`, ...over });

describe("rules: rate-limit windows and the moderation queue", () => {
  beforeEach(() => seed(SEED()));

  describe("users/{uid}/rateLimits/{action}", () => {
    it("get and list: the owner only (the app shows when it may act again)", async () => {
      await matrix(["ann"], (db) => getDoc(doc(db, "users/ann/rateLimits/comments")));
      await matrix(["ann"], (db) => getDoc(doc(db, "users/ann/rateLimits/wishes")));
      await matrix(["ann"], (db) => getDocs(collection(db, "users/ann/rateLimits")));
      await matrix([], (db) => getDocs(collectionGroup(db, "rateLimits")));
    });

    it("create: each user starts their own comments window, correctly; nobody else's, and no server-kept window", async () => {
      await matrix(["sam"], (db) => setDoc(doc(db, "users/sam/rateLimits/comments"), { windowStart: serverTimestamp(), count: 1, ...step() }));
      await unseed("users/sam/rateLimits/comments");
      // ann already has one (a set is then an update that is neither a step nor a new window): denied.
      await matrix(["olga", "rita", "rita2", "oscar", "sam", "ada"], (db, role) =>
        setDoc(doc(db, `users/${uidOf(role)}/rateLimits/comments`), { windowStart: serverTimestamp(), count: 1, ...step() }),
      );
      await matrix([], (db, role) => setDoc(doc(db, `users/${uidOf(role)}/rateLimits/wishes`), { windowStart: serverTimestamp(), count: 1, ...step({ lastKey: "wishes" }) }));
    });

    it("create: a window that does not start now with one action is denied", async () => {
      const sam = await as("sam");
      const ref = doc(sam, "users/sam/rateLimits/comments");
      const bad: Record<string, Record<string, unknown>> = {
        "count 2": { windowStart: serverTimestamp(), count: 2, ...step() },
        "a window started in the past": { windowStart: ago(3600), count: 1, ...step() },
        "the client's clock as last": { windowStart: serverTimestamp(), count: 1, ...step({ last: Timestamp.now() }) },
        "a lastKey that is not a string": { windowStart: serverTimestamp(), count: 1, ...step({ lastKey: 7 }) },
        "an extra key": { windowStart: serverTimestamp(), count: 1, ...step(), reset: true },
        "a missing key": { windowStart: serverTimestamp(), count: 1, last: serverTimestamp() },
      };
      for (const [name, data] of Object.entries(bad)) await assertFails(setDoc(ref, data)).catch(() => assert.fail(`${name} should be denied`));
      await assertSucceeds(setDoc(ref, { windowStart: serverTimestamp(), count: 1, ...step() }));
    });

    it("create and update: lastKey is the counted comment's key ({wishId}/{commentId}, at most 128 + 1 + 128 characters), not free-form storage", async () => {
      const longest = `${"w".repeat(128)}/${"c".repeat(128)}`;
      const sam = await as("sam");
      const fresh = doc(sam, "users/sam/rateLimits/comments");
      await assertFails(setDoc(fresh, { windowStart: serverTimestamp(), count: 1, ...step({ lastKey: `${longest}c` }) }));
      await assertFails(setDoc(fresh, { windowStart: serverTimestamp(), count: 1, ...step({ lastKey: "x".repeat(500_000) }) }));
      await assertSucceeds(setDoc(fresh, { windowStart: serverTimestamp(), count: 1, ...step({ lastKey: longest }) }));
      const ann = await as("ann");
      const open = doc(ann, "users/ann/rateLimits/comments");
      await assertFails(updateDoc(open, { count: 6, ...step({ lastKey: "x".repeat(258) }) }));
      await assertSucceeds(updateDoc(open, { count: 6, ...step({ lastKey: longest }) }));
    });

    it("update: one more action in the window, by its owner only; a server-kept window by nobody", async () => {
      await matrix(["ann"], (db) => updateDoc(doc(db, "users/ann/rateLimits/comments"), { count: 6, ...step() }));
      await matrix([], (db) => updateDoc(doc(db, "users/ann/rateLimits/wishes"), { count: 3, ...step({ lastKey: "wishes" }) }));
    });

    it("update: skipping counts, moving the window or starting a new one early is denied; at the limit only a new window after the end", async () => {
      const ann = await as("ann");
      const ref = doc(ann, "users/ann/rateLimits/comments");
      await assertFails(updateDoc(ref, { count: 4, ...step() }));
      await assertFails(updateDoc(ref, { count: 7, ...step() }));
      await assertFails(updateDoc(ref, { count: 6, windowStart: ago(30), ...step() }));
      await assertFails(updateDoc(ref, { count: 1, windowStart: serverTimestamp(), ...step() })); // a reset before the window ends
      await assertFails(updateDoc(ref, { count: 6, ...step({ last: Timestamp.now() }) }));
      await assertFails(updateDoc(ref, { count: 6, lastKey: deleteField(), last: serverTimestamp() }));
      // At the limit, inside the window: nothing more.
      await seed({ "users/ann/rateLimits/comments": window(LIMIT, 60) });
      await assertFails(updateDoc(ref, { count: LIMIT + 1, ...step() }));
      await assertFails(updateDoc(ref, { count: 1, windowStart: serverTimestamp(), ...step() }));
      // The window has ended: a new one (starting now, with one action), but not a bigger old one.
      await seed({ "users/ann/rateLimits/comments": window(LIMIT, WINDOW + 60) });
      await assertFails(updateDoc(ref, { count: LIMIT + 1, ...step() }));
      await assertFails(updateDoc(ref, { count: 1, windowStart: ago(10), ...step() }));
      await assertFails(updateDoc(ref, { count: 2, windowStart: serverTimestamp(), ...step() }));
      await assertSucceeds(updateDoc(ref, { count: 1, windowStart: serverTimestamp(), ...step() }));
    });

    it("delete: nobody, the owner included (deleting would reset the limit)", async () => {
      await matrix([], (db) => deleteDoc(doc(db, "users/ann/rateLimits/comments")));
      await matrix([], (db, role) => deleteDoc(doc(db, `users/${uidOf(role)}/rateLimits/wishes`)));
    });

    it("a comment is denied once its author's window is full, until the window has ended", async () => {
      const ann = await as("ann");
      const attempt = (over: Record<string, unknown>) => {
        const batch = writeBatch(ann);
        const comment = doc(collection(ann, "wishes", W, "comments"));
        batch.set(doc(ann, "users/ann/rateLimits/comments"), { ...step({ lastKey: `${W}/${comment.id}` }), ...over });
        batch.set(comment, { authorId: "ann", text: "Again", createdAt: serverTimestamp() });
        return batch.commit();
      };
      await seed({ "users/ann/rateLimits/comments": window(LIMIT, 60) });
      await assertFails(attempt({ windowStart: ago(60), count: LIMIT + 1 }));
      await assertFails(attempt({ windowStart: serverTimestamp(), count: 1 }));
      await seed({ "users/ann/rateLimits/comments": window(LIMIT, WINDOW + 1) });
      await assertSucceeds(attempt({ windowStart: serverTimestamp(), count: 1 }));
    });
  });

  describe("ops/moderation/cases and their reports", () => {
    it("get and list: admins only (not the reporter, the organizer, the recipient or her second account)", async () => {
      await matrix(["ada"], (db) => getDoc(doc(db, CASE)));
      await matrix(["ada"], (db) => getDocs(collection(db, MODERATION_CASES)));
      await matrix(["ada"], (db) => getDocs(query(collection(db, MODERATION_CASES), where("wishId", "==", S))));
      await matrix(["ada"], (db) => getDoc(doc(db, `${CASE}/reports/ann`)));
      await matrix(["ada"], (db) => getDocs(collection(db, `${CASE}/reports`)));
      await matrix(["ada"], (db, role) => getDocs(query(collection(db, `${CASE}/reports`), where("reporterId", "==", uidOf(role)))));
    });

    it("create, update, delete: nobody, admins included (the reportContent and resolveReport callables write them)", async () => {
      await matrix([], (db) => setDoc(doc(db, `${MODERATION_CASES}/wish-new`), { kind: "wish", wishId: W, status: "open" }));
      await matrix([], (db, role) => setDoc(doc(db, `${CASE}/reports/${uidOf(role)}`), { reporterId: uidOf(role), reason: "spam" }));
      await matrix([], (db) => updateDoc(doc(db, CASE), { status: "kept" }));
      await matrix([], (db) => updateDoc(doc(db, `${CASE}/reports/ann`), { reason: "other" }));
      await matrix([], (db) => deleteDoc(doc(db, `${CASE}/reports/ann`)));
      await matrix([], (db) => deleteDoc(doc(db, CASE)));
    });
  });
});
