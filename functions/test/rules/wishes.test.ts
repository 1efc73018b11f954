// Rules matrix for wishes, comments, supporters and feed (docs/wishes.md): roles x operations, allowed and denied.
// Roles: on the normal wish W, olga is owner and organizer; on the surprise S, rita is the recipient (owner) and oscar
// the organizer. ann is in both audiences, fred is a friend outside them, rita2 is a second account of the recipient
// (rita's friend, made to spy on surprises for her), sam a stranger, plus a signed-out client. Every role has a
// completed sign-up (users/{uid}); nina, a viewer who never finished signing up, has her own test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { assertFails, assertSucceeds } from "@firebase/rules-unit-testing";
import type { RulesTestContext } from "@firebase/rules-unit-testing";
import {
  addDoc,
  collection,
  collectionGroup,
  deleteDoc,
  doc,
  getCountFromServer,
  getDoc,
  getDocs,
  orderBy,
  query,
  serverTimestamp,
  setDoc,
  Timestamp,
  updateDoc,
  where,
  writeBatch,
} from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { writeComment } from "../../devtools/support/comments";
import { RULES_FILE, rulesEnv } from "../helpers/rules";
import { newWishState } from "../../src/model/wish";
import { idSchema } from "../../src/lib/ids";

const W = "w-normal";
const S = "w-surprise";
const ROLES = ["olga", "rita", "oscar", "ann", "fred", "rita2", "sam"] as const;
type Role = (typeof ROLES)[number] | "signed-out";

function wishDoc(over: Record<string, unknown>): Record<string, unknown> {
  const now = Timestamp.now();
  return {
    ownerId: "olga",
    organizerId: "olga",
    isSurprise: false,
    title: "A bike",
    description: "Red",
    imageUrl: null,
    amount: 150000,
    currency: "CZK",
    deadline: Timestamp.fromMillis(Date.now() + 30 * 86400_000),
    audience: { kind: "people", groupIds: [], userIds: ["ann"] },
    viewerIds: ["ann", "olga"],
    ...newWishState(now),
    ...over,
  };
}

const SEED: Record<string, Record<string, unknown>> = {
  [`wishes/${W}`]: wishDoc({}),
  [`wishes/${S}`]: wishDoc({
    ownerId: "rita",
    organizerId: "oscar",
    isSurprise: true,
    title: "Surprise camera",
    audience: { kind: "people", groupIds: [], userIds: ["ann"] },
    viewerIds: ["ann", "oscar"],
  }),
  [`wishes/w-closed`]: wishDoc({ status: "closed" }),
  [`wishes/w-frozen`]: wishDoc({ frozenAt: Timestamp.now() }),
  [`wishes/${W}/comments/c-ann`]: { authorId: "ann", text: "Go!", createdAt: Timestamp.now() },
  [`wishes/${W}/comments/c-olga`]: { authorId: "olga", text: "Thanks", createdAt: Timestamp.now() },
  [`wishes/${S}/comments/c-ann`]: { authorId: "ann", text: "Shh", createdAt: Timestamp.now() },
  [`wishes/${S}/comments/c-oscar`]: { authorId: "oscar", text: "Keep quiet", createdAt: Timestamp.now() },
  [`wishes/${W}/supporters/d1`]: { displayName: "Ann", amount: 5000, currency: "CZK", anonymous: false },
  [`wishes/${S}/supporters/d2`]: { displayName: null, amount: null, currency: "CZK", anonymous: true },
  ...Object.fromEntries(ROLES.map((role) => [`users/${role}`, { displayName: role, photoUrl: null, facebookLinked: true }])),
  [`users/rita/friends/rita2`]: { friendId: "rita2", source: "app", since: Timestamp.now() },
  [`users/rita2/friends/rita`]: { friendId: "rita", source: "app", since: Timestamp.now() },
  [`users/olga/feed/e1`]: { type: "comment.added", wishId: W, createdAt: Timestamp.now() },
  [`users/ann/feed/e2`]: { type: "wish.created", wishId: S, createdAt: Timestamp.now() },
};

/** rules-unit-testing hands out a compat Firestore; the modular functions accept it (they unwrap it). */
function modular(context: RulesTestContext): Firestore {
  return context.firestore() as unknown as Firestore;
}

const contexts = new Map<Role, Firestore>();

/** One client per role for the whole file (creating a context per operation is slow on a loaded machine). */
async function as(role: Role): Promise<Firestore> {
  const env = await rulesEnv();
  let db = contexts.get(role);
  if (!db) {
    db = modular(role === "signed-out" ? env.unauthenticatedContext() : env.authenticatedContext(role));
    contexts.set(role, db);
  }
  return db;
}

/** Seeds as the server would (rules off). The emulated functions' triggers may run on these; nothing here depends on them. */
async function seedDocs(docs: Record<string, Record<string, unknown>>): Promise<void> {
  const env = await rulesEnv();
  await env.withSecurityRulesDisabled(async (context) => {
    const db = modular(context);
    await Promise.all(Object.entries(docs).map(([path, data]) => setDoc(doc(db, path), data)));
  });
}

/**
 * Runs `op` for every role; roles listed in `allowed` must succeed, all others must be denied. `fresh` names seed
 * documents to restore before each role (for destructive operations).
 */
async function matrix(allowed: readonly Role[], op: (db: Firestore, role: Role) => Promise<unknown>, fresh: string[] = []): Promise<void> {
  for (const role of [...ROLES, "signed-out"] as const) {
    if (fresh.length) await seedDocs(Object.fromEntries(fresh.map((path) => [path, SEED[path] ?? {}])));
    const db = await as(role);
    if (allowed.includes(role)) await assertSucceeds(op(db, role)).catch((e: unknown) => assert.fail(`${role} should be allowed: ${String(e)}`));
    else await assertFails(op(db, role)).catch((e: unknown) => assert.fail(`${role} should be denied: ${String(e)}`));
  }
}

describe("rules: wishes, comments, supporters, feed", () => {
  beforeEach(() => seedDocs(SEED));

  describe("wishes: read", () => {
    it("get: only viewers; the surprise recipient, outsiders and signed-out are denied", async () => {
      await matrix(["olga", "ann"], (db) => getDoc(doc(db, "wishes", W)));
      await matrix(["oscar", "ann"], (db) => getDoc(doc(db, "wishes", S)));
    });

    it("a hidden surprise and a missing wish give the recipient the same error", async () => {
      const rita = await as("rita");
      const hidden = (await assertFails(getDoc(doc(rita, "wishes", S)))) as { code: string; message: string };
      const missing = (await assertFails(getDoc(doc(rita, "wishes", "no-such-wish")))) as { code: string; message: string };
      assert.equal(hidden.code, "permission-denied");
      assert.equal(missing.code, hidden.code);
      assert.equal(missing.message.replace(/wishes\/[\w-]+/g, "wishes/X"), hidden.message.replace(/wishes\/[\w-]+/g, "wishes/X"));
    });

    it("list: a query carrying viewerIds array-contains me is allowed for every signed-in role and never shows a hidden surprise", async () => {
      await matrix(ROLES, (db, role) => getDocs(query(collection(db, "wishes"), where("viewerIds", "array-contains", role), orderBy("createdAt", "desc"))));
      const rita = await as("rita");
      const ritas = await getDocs(query(collection(rita, "wishes"), where("viewerIds", "array-contains", "rita"), where("ownerId", "==", "rita")));
      assert.equal(ritas.size, 0, "the recipient's own list does not contain the surprise");
      const ann = await as("ann");
      const friends = await getDocs(query(collection(ann, "wishes"), where("viewerIds", "array-contains", "ann"), where("ownerId", "==", "olga")));
      assert.deepEqual(friends.docs.map((d) => d.id).sort(), [W, "w-closed", "w-frozen"].sort());
    });

    it("list: a query without the viewerIds constraint, or with someone else's uid, is denied for everyone", async () => {
      await matrix([], (db) => getDocs(query(collection(db, "wishes"), where("ownerId", "==", "rita"))));
      await matrix([], (db) => getDocs(collection(db, "wishes")));
      await matrix([], (db, role) => getDocs(query(collection(db, "wishes"), where("viewerIds", "array-contains", role === "ann" ? "olga" : "ann"))));
    });

    it("count(): obeys the same rules; the recipient counts zero surprises", async () => {
      await matrix([], (db) => getCountFromServer(query(collection(db, "wishes"), where("ownerId", "==", "rita"))));
      await matrix(ROLES, (db, role) => getCountFromServer(query(collection(db, "wishes"), where("viewerIds", "array-contains", role))));
      const rita = await as("rita");
      const count = await getCountFromServer(query(collection(rita, "wishes"), where("viewerIds", "array-contains", "rita"), where("ownerId", "==", "rita")));
      assert.equal(count.data().count, 0);
      const oscar = await as("oscar");
      const organized = await getCountFromServer(query(collection(oscar, "wishes"), where("viewerIds", "array-contains", "oscar"), where("ownerId", "==", "rita")));
      assert.equal(organized.data().count, 1);
    });

    it("collection-group queries on comments, supporters and feed are denied for everyone", async () => {
      for (const group of ["comments", "supporters", "feed"]) {
        await matrix([], (db) => getDocs(collectionGroup(db, group)));
        await matrix([], (db, role) => getDocs(query(collectionGroup(db, group), where("authorId", "==", role))));
        await matrix([], (db) => getCountFromServer(collectionGroup(db, group)));
      }
    });
  });

  describe("wishes: write", () => {
    it("create: nobody writes a wish directly (the createWish callable does)", async () => {
      await matrix([], (db, role) => setDoc(doc(db, "wishes", `new-${role}`), wishDoc({ ownerId: role, organizerId: role, viewerIds: [role] })));
      await matrix([], (db, role) => addDoc(collection(db, "wishes"), wishDoc({ ownerId: role, organizerId: role, viewerIds: [role] })));
    });

    it("update: the organizer edits title/description/imageUrl of an open wish; nobody else does", async () => {
      const edit = { title: "A better bike", description: "Blue", imageUrl: "https://img.example.com/b.png", updatedAt: serverTimestamp() };
      await matrix(["olga"], (db) => updateDoc(doc(db, "wishes", W), edit));
      await matrix(["oscar"], (db) => updateDoc(doc(db, "wishes", S), { title: "Camera", updatedAt: serverTimestamp() }));
      await matrix([], (db) => updateDoc(doc(db, "wishes", "w-closed"), edit));
      // Ops hold it (freezeWish): nobody edits it, its organizer included, until they lift the hold.
      await matrix([], (db) => updateDoc(doc(db, "wishes", "w-frozen"), edit));
    });

    it("update: invalid edits are denied even for the organizer", async () => {
      const olga = await as("olga");
      const ref = doc(olga, "wishes", W);
      const bad: Record<string, Record<string, unknown>> = {
        "empty title": { title: "", updatedAt: serverTimestamp() },
        "blank title": { title: "   ", updatedAt: serverTimestamp() },
        "title of 121": { title: "x".repeat(121), updatedAt: serverTimestamp() },
        "title not a string": { title: 7, updatedAt: serverTimestamp() },
        "description of 2001": { description: "x".repeat(2001), updatedAt: serverTimestamp() },
        "description not a string": { description: null, updatedAt: serverTimestamp() },
        "http image": { imageUrl: "http://img.example.com/a.png", updatedAt: serverTimestamp() },
        "image not a string": { imageUrl: 5, updatedAt: serverTimestamp() },
        "image too long": { imageUrl: `https://x.com/${"a".repeat(2040)}`, updatedAt: serverTimestamp() },
        // Held to what createWish stores (titleSchema, imageUrlSchema): trimmed, no whitespace or control characters.
        "untrimmed title": { title: " A bike ", updatedAt: serverTimestamp() },
        "image with a space": { imageUrl: "https://x.com/a b.png", updatedAt: serverTimestamp() },
        "image with a newline": { imageUrl: "https://x.com/a\nb.png", updatedAt: serverTimestamp() },
        "image with a tab": { imageUrl: "https://x.com/a\tb.png", updatedAt: serverTimestamp() },
        "image with a control character": { imageUrl: "https://x.com/a\u0007b.png", updatedAt: serverTimestamp() },
        "client clock": { title: "B", updatedAt: Timestamp.now() },
      };
      for (const [name, data] of Object.entries(bad)) {
        await assertFails(updateDoc(ref, data)).catch(() => assert.fail(`${name} should be denied`));
      }
      await assertSucceeds(updateDoc(ref, { imageUrl: null, updatedAt: serverTimestamp() }));
      await assertSucceeds(updateDoc(ref, { imageUrl: "https://img.example.com/k%C5%AF%C5%88.png?w=640&h=480", updatedAt: serverTimestamp() }));
      await assertSucceeds(updateDoc(ref, { title: "x".repeat(120), description: "x".repeat(2000), updatedAt: serverTimestamp() }));
    });

    it("update: every server-owned field is denied to every role, the organizer included", async function () {
      this.timeout(180_000);
      const serverOwned: Record<string, unknown> = {
        ownerId: "ann",
        organizerId: "ann",
        isSurprise: true,
        amount: 1,
        currency: "EUR",
        deadline: Timestamp.fromMillis(Date.now() + 86400_000),
        audience: { kind: "friends", groupIds: [], userIds: [] },
        viewerIds: ["olga", "ann", "fred", "rita"],
        status: "funded",
        raised: 150000,
        donorCount: 9,
        hasSucceededDonation: true,
        createdAt: Timestamp.now(),
        fundedAt: Timestamp.now(),
        closedAt: Timestamp.now(),
        revealedAt: Timestamp.now(),
        hiddenAt: Timestamp.now(),
        frozenAt: Timestamp.now(),
      };
      for (const [field, value] of Object.entries(serverOwned)) {
        // Each value differs from the seeded one on both wishes, so the update really changes the field.
        const onSurprise = field === "isSurprise" ? false : value;
        await matrix([], (db) => updateDoc(doc(db, "wishes", W), { [field]: value, updatedAt: serverTimestamp() }));
        await matrix([], (db) => updateDoc(doc(db, "wishes", S), { [field]: onSurprise, updatedAt: serverTimestamp() }));
      }
      // The same edit without a server-owned field is allowed for the organizers: the denials above are about the field.
      await assertSucceeds(updateDoc(doc(await as("olga"), "wishes", W), { title: "Still fine", updatedAt: serverTimestamp() }));
      await assertSucceeds(updateDoc(doc(await as("oscar"), "wishes", S), { title: "Still fine", updatedAt: serverTimestamp() }));
    });

    it("delete: nobody deletes a wish directly (the deleteWish callable does)", async () => {
      await matrix([], (db) => deleteDoc(doc(db, "wishes", W)));
      await matrix([], (db) => deleteDoc(doc(db, "wishes", S)));
    });
  });

  describe("comments", () => {
    const comment = (authorId: string, over: Record<string, unknown> = {}) => ({ authorId, text: "Nice", createdAt: serverTimestamp(), ...over });

    it("get and list (paginated by time): viewers only", async () => {
      await matrix(["olga", "ann"], (db) => getDoc(doc(db, "wishes", W, "comments", "c-ann")));
      await matrix(["oscar", "ann"], (db) => getDoc(doc(db, "wishes", S, "comments", "c-ann")));
      await matrix(["olga", "ann"], (db) => getDocs(query(collection(db, "wishes", W, "comments"), orderBy("createdAt", "desc"))));
      await matrix(["oscar", "ann"], (db) => getDocs(query(collection(db, "wishes", S, "comments"), orderBy("createdAt", "desc"))));
      await matrix(["oscar", "ann"], (db) => getCountFromServer(collection(db, "wishes", S, "comments")));
    });

    it("the recipient cannot tell a hidden surprise's comments from a missing wish's", async () => {
      const rita = await as("rita");
      const hidden = (await assertFails(getDocs(collection(rita, "wishes", S, "comments")))) as { code: string; message: string };
      const missing = (await assertFails(getDocs(collection(rita, "wishes", "nope", "comments")))) as { code: string; message: string };
      assert.equal(hidden.code, "permission-denied");
      assert.equal(missing.code, hidden.code);
      assert.equal(missing.message, hidden.message);
      const hiddenAdd = (await assertFails(writeComment(rita, "rita", S, { authorId: "rita", text: "?", createdAt: serverTimestamp() }))) as { message: string };
      const missingAdd = (await assertFails(writeComment(rita, "rita", "nope", { authorId: "rita", text: "?", createdAt: serverTimestamp() }))) as { message: string };
      // The emulator's message traces every rule it evaluated for the whole batch, including the author's rate window,
      // in an order that varies between identical calls (production says only "Missing or insufficient permissions.").
      // The comment's own verdict is what must not differ.
      const commentRule = readFileSync(RULES_FILE, "utf8").split("\n").findIndex((line) => line.includes("allow create: if viewsWish(wishId)")) + 1;
      const verdict = (message: string) => message.split(/, |\n/).filter((part) => part.includes(`@ L${commentRule}`)).sort();
      assert.ok(verdict(hiddenAdd.message).length > 0, hiddenAdd.message);
      assert.deepEqual(verdict(missingAdd.message), verdict(hiddenAdd.message));
    });

    it("create: a viewer writes their own comment; outsiders, the hidden recipient, her second account and signed-out are denied", async () => {
      await matrix(["olga", "ann"], (db, role) => writeComment(db, role, W, comment(role)));
      await matrix(["oscar", "ann"], (db, role) => writeComment(db, role, S, comment(role)));
      await matrix([], (db, role) => writeComment(db, role, "nope", comment(role)));
    });

    it("create: a viewer who never finished signing up (no users/{uid}) is denied", async () => {
      await seedDocs({ [`wishes/${W}`]: wishDoc({ viewerIds: ["ann", "nina", "olga"] }) });
      const env = await rulesEnv();
      const nina = modular(env.authenticatedContext("nina"));
      await assertFails(writeComment(nina, "nina", W, comment("nina")));
      await seedDocs({ "users/nina": { displayName: "Nina", photoUrl: null, facebookLinked: true } });
      await assertSucceeds(writeComment(nina, "nina", W, comment("nina")));
    });

    it("create: a comment must be counted in its author's comments window in the same write", async () => {
      const ann = await as("ann");
      // Not counted at all (a plain addDoc, as before rate limits).
      await assertFails(addDoc(collection(ann, "wishes", W, "comments"), comment("ann")));
      // Counted under another comment's key: two comments in one batch with one window step.
      const batch = writeBatch(ann);
      const first = doc(collection(ann, "wishes", W, "comments"));
      const second = doc(collection(ann, "wishes", W, "comments"));
      batch.set(doc(ann, "users", "ann", "rateLimits", "comments"), { windowStart: serverTimestamp(), count: 1, last: serverTimestamp(), lastKey: `${W}/${first.id}` });
      batch.set(first, comment("ann"));
      batch.set(second, comment("ann"));
      await assertFails(batch.commit());
      // The same with one comment is fine.
      const single = writeBatch(ann);
      single.set(doc(ann, "users", "ann", "rateLimits", "comments"), { windowStart: serverTimestamp(), count: 1, last: serverTimestamp(), lastKey: `${W}/${first.id}` });
      single.set(first, comment("ann"));
      await assertSucceeds(single.commit());
      // A window counted earlier does not count a new comment.
      await assertFails(setDoc(doc(ann, "wishes", W, "comments", "later"), comment("ann")));
    });

    it("create: invalid comments are denied", async () => {
      const ann = await as("ann");
      const bad: Record<string, Record<string, unknown>> = {
        "someone else's authorId": comment("olga"),
        "empty text": comment("ann", { text: "" }),
        "text of 1001": comment("ann", { text: "x".repeat(1001) }),
        "text not a string": comment("ann", { text: 42 }),
        "client clock": comment("ann", { createdAt: Timestamp.now() }),
        "server field authorName": comment("ann", { authorName: "Ann" }),
        "extra key": comment("ann", { likes: 3 }),
      };
      for (const [name, data] of Object.entries(bad)) {
        await assertFails(writeComment(ann, "ann", W, data)).catch(() => assert.fail(`${name} should be denied`));
      }
      await assertFails(writeComment(ann, "ann", W, { authorId: "ann", createdAt: serverTimestamp() }));
      await assertSucceeds(writeComment(ann, "ann", W, comment("ann", { text: "x".repeat(1000) })));
    });

    it("create: only a comment id every callable accepts (idSchema), so that every comment can be reported", async () => {
      const ann = await as("ann");
      const write = (id: string) => writeComment(ann, "ann", W, comment("ann"), id);
      // zod counts code points, the emulator's size() UTF-16 units (an emoji is 2): 64 emoji pass both, 129 neither.
      const accepted = ["a".repeat(128), "Ab3-_x y.z", "é".repeat(128), "😀".repeat(64), "__x", "x__", "_x_", "__", "...", "a..b"];
      for (const id of accepted) {
        assert.ok(idSchema.safeParse(id).success, `idSchema accepts ${JSON.stringify(id)}`);
        await assertSucceeds(write(id)).catch((e: unknown) => assert.fail(`${JSON.stringify(id)} should be allowed: ${String(e)}`));
      }
      // Too long for idSchema, and '____' (reserved to idSchema, and to the rules, though Firestore lets it through).
      const refused = { "129 characters": "a".repeat(129), "near Firestore's 1,500 bytes": "a".repeat(1400), "129 emoji": "😀".repeat(129), "____": "____" };
      for (const [name, id] of Object.entries(refused)) {
        assert.ok(!idSchema.safeParse(id).success, `idSchema refuses ${name}`);
        await assertFails(write(id)).catch((e: unknown) => assert.fail(`${name} should be denied: ${String(e)}`));
      }
      // The rest of idSchema Firestore enforces itself, before any rule ('/' cannot even be written in one segment).
      for (const id of [".", "..", "__x__", "__a\nb__"]) {
        assert.ok(!idSchema.safeParse(id).success, `idSchema refuses ${JSON.stringify(id)}`);
        await assert.rejects(write(id), (e: { code?: string }) => e.code === "invalid-argument", JSON.stringify(id));
      }
    });

    it("create: an id moderation retired (its tombstone) is refused to every account; a fresh id is still fine", async () => {
      await seedDocs({ [`wishes/${W}/commentTombstones/c-gone`]: { caseId: "comment-x", retiredAt: Timestamp.now() } });
      await matrix([], (db, role) => writeComment(db, role, W, comment(role), "c-gone"));
      await matrix(["olga", "ann"], (db, role) => writeComment(db, role, W, comment(role), `c-new-${role}`));
      // Tombstones are the server's: nobody reads, writes or deletes them.
      await matrix([], (db) => getDoc(doc(db, "wishes", W, "commentTombstones", "c-gone")));
      await matrix([], (db) => getDocs(collection(db, "wishes", W, "commentTombstones")));
      await matrix([], (db) => deleteDoc(doc(db, "wishes", W, "commentTombstones", "c-gone")));
      await matrix([], (db) => setDoc(doc(db, "wishes", W, "commentTombstones", "c-ann"), { caseId: "comment-y", retiredAt: Timestamp.now() }));
    });

    it("update: nobody edits a comment, not even its author", async () => {
      await matrix([], (db) => updateDoc(doc(db, "wishes", W, "comments", "c-ann"), { text: "edited" }));
      await matrix([], (db) => updateDoc(doc(db, "wishes", S, "comments", "c-oscar"), { text: "edited" }));
    });

    it("delete: the author deletes their own comment", async () => {
      await matrix(["ann", "olga"], (db) => deleteDoc(doc(db, "wishes", W, "comments", "c-ann")), [`wishes/${W}/comments/c-ann`]);
    });

    it("delete: on a normal wish the owner deletes any comment; others cannot delete someone else's", async () => {
      await matrix(["olga"], (db) => deleteDoc(doc(db, "wishes", W, "comments", "c-olga")), [`wishes/${W}/comments/c-olga`]);
      const ann = await as("ann");
      await assertFails(deleteDoc(doc(ann, "wishes", W, "comments", "c-olga")));
    });

    it("delete: on a surprise the organizer deletes any comment; the hidden recipient cannot", async () => {
      await matrix(["oscar", "ann"], (db) => deleteDoc(doc(db, "wishes", S, "comments", "c-ann")), [`wishes/${S}/comments/c-ann`]);
      await matrix(["oscar"], (db) => deleteDoc(doc(db, "wishes", S, "comments", "c-oscar")), [`wishes/${S}/comments/c-oscar`]);
    });
  });

  describe("supporters", () => {
    it("viewers read; nobody writes", async () => {
      await matrix(["olga", "ann"], (db) => getDocs(collection(db, "wishes", W, "supporters")));
      await matrix(["oscar", "ann"], (db) => getDoc(doc(db, "wishes", S, "supporters", "d2")));
      await matrix([], (db) => setDoc(doc(db, "wishes", W, "supporters", "d9"), { displayName: "Me", amount: 1 }));
      await matrix([], (db) => updateDoc(doc(db, "wishes", W, "supporters", "d1"), { amount: 1 }));
      await matrix([], (db) => deleteDoc(doc(db, "wishes", W, "supporters", "d1")));
    });
  });

  describe("feed", () => {
    it("only the owner reads their feed (get, paginated list, count)", async () => {
      await matrix(["olga"], (db) => getDoc(doc(db, "users", "olga", "feed", "e1")));
      await matrix(["olga"], (db) => getDocs(query(collection(db, "users", "olga", "feed"), orderBy("createdAt", "desc"))));
      await matrix(["ann"], (db) => getCountFromServer(collection(db, "users", "ann", "feed")));
    });

    it("nobody writes a feed item, not even the feed's owner", async () => {
      await matrix([], (db, role) => setDoc(doc(db, "users", role === "signed-out" ? "x" : role, "feed", "mine"), { type: "wish.created", wishId: W }));
      await matrix([], (db) => updateDoc(doc(db, "users", "olga", "feed", "e1"), { wishId: S }));
      await matrix([], (db) => deleteDoc(doc(db, "users", "olga", "feed", "e1")));
    });
  });
});
