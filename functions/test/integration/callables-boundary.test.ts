// Every callable at the trust boundary (docs/security.md), through the client SDK and the Functions emulator:
// App Check enforced, bad ids refused with invalid-argument naming the field before anything is read, a half-signed-up
// caller refused with failed-precondition, and a hidden wish answered exactly like a missing one. One table drives all
// of it, and the table must list every callable index.ts exports. A few clients make all the calls (no per-case resets).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { FunctionsError } from "firebase/functions";
import { adminDb } from "../../devtools/support/admin";
import { BAD_IDS } from "../helpers/bad-ids";
import { signedInClient } from "../../devtools/support/clients";
import { befriend, wishInput } from "../helpers/wish-fixtures";

interface Row {
  /** The caller: an app user, or an ops person with the admin claim. */
  caller: "user" | "admin";
  /** Input carrying `id` in the field named by `field` (absent: the callable takes no client-supplied id). */
  input: (id: string) => Record<string, unknown>;
  field?: string;
  /** Exempt from the completed sign-up (with the reason, as documented). */
  noSignUpNeeded?: string;
  /** The callable takes a wish id that a hidden wish and a missing one must answer alike. */
  wishInput?: (wishId: string) => Record<string, unknown>;
}

const reason = "checked by the boundary test";
/** A well-formed id for calls that must fail for another reason than the id (long enough for a device id too). */
const SAMPLE_ID = "sample-id-1";
const TABLE: Record<string, Row> = {
  syncFacebookProfile: { caller: "user", input: () => ({ accessToken: "not-a-token" }), noSignUpNeeded: "it is the sign-up" },
  sendFriendRequest: { caller: "user", input: (id) => ({ toUid: id }), field: "toUid" },
  acceptFriendRequest: { caller: "user", input: (id) => ({ fromUid: id }), field: "fromUid" },
  declineFriendRequest: { caller: "user", input: (id) => ({ fromUid: id }), field: "fromUid" },
  cancelFriendRequest: { caller: "user", input: (id) => ({ toUid: id }), field: "toUid" },
  unfriend: { caller: "user", input: (id) => ({ friendUid: id }), field: "friendUid" },
  createGroup: { caller: "user", input: (id) => ({ name: "Close", memberIds: [id] }), field: "memberIds.0" },
  updateGroup: { caller: "user", input: (id) => ({ groupId: id, name: "Close" }), field: "groupId" },
  deleteGroup: { caller: "user", input: (id) => ({ groupId: id }), field: "groupId" },
  registerDevice: {
    caller: "user",
    input: (id) => ({ deviceId: id, platform: "android", token: "fcm-token", locale: "en", appVersion: "1.0.0" }),
    field: "deviceId",
  },
  unregisterDevice: { caller: "user", input: (id) => ({ deviceId: id }), field: "deviceId" },
  signOutEverywhere: { caller: "user", input: () => ({}) },
  deleteAccount: { caller: "user", input: () => ({}), noSignUpNeeded: "leaving always works, also after a deletion that stopped halfway" },
  createWish: { caller: "user", input: (id) => wishInput({ recipientId: id }), field: "recipientId" },
  deleteWish: { caller: "user", input: (id) => ({ wishId: id }), field: "wishId", wishInput: (wishId) => ({ wishId }) },
  setWishAudience: {
    caller: "user",
    input: (id) => ({ wishId: id, audience: { kind: "friends" } }),
    field: "wishId",
    wishInput: (wishId) => ({ wishId, audience: { kind: "friends" } }),
  },
  reportContent: { caller: "user", input: (id) => ({ wishId: id, reason: "spam" }), field: "wishId", wishInput: (wishId) => ({ wishId, reason: "spam" }) },
  resolveReport: { caller: "admin", input: (id) => ({ caseId: id, resolution: "keep", reason }), field: "caseId" },
  donate: {
    caller: "user",
    input: (id) => ({ wishId: id, amount: 5000, currency: "CZK" }),
    field: "wishId",
    wishInput: (wishId) => ({ wishId, amount: 5000, currency: "CZK" }),
  },
  cancelDonation: { caller: "user", input: (id) => ({ donationId: id }), field: "donationId" },
  reconcileWishLedger: { caller: "admin", input: (id) => ({ wishId: id, reason }), field: "wishId" },
  markNotificationsRead: { caller: "user", input: (id) => ({ ids: [id] }), field: "ids.0" },
  closeWish: { caller: "user", input: (id) => ({ wishId: id }), field: "wishId", wishInput: (wishId) => ({ wishId }) },
  retryRefund: { caller: "admin", input: (id) => ({ donationId: id, reason }), field: "donationId" },
  freezeWish: { caller: "admin", input: (id) => ({ wishId: id, frozen: true, reason }), field: "wishId" },
  createPayoutAccountLink: { caller: "user", input: () => ({}) },
  retryPayout: { caller: "admin", input: (id) => ({ wishId: id, reason }), field: "wishId" },
};

/** The callables index.ts exports (every one is declared through an App Check wrapper; a unit test checks that). */
function exportedCallables(): string[] {
  const source = readFileSync(path.resolve(__dirname, "..", "..", "src", "index.ts"), "utf8");
  return [...source.matchAll(/export const (\w+) = (?:appCallable|replayProtectedCallable)\(/g)].map((match) => match[1] ?? "").sort();
}

/** The error of a call that must fail: its code (without the `functions/` prefix) and message. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FunctionsError, `expected a FunctionsError, got ${String(error)}`);
    return { code: error.code.replace(/^functions\//, ""), message: error.message };
  }
  assert.fail("the call succeeded");
}

/** Runs `work` over `items`, at most `lanes` at a time (each callable's worker starts once, a few side by side). */
async function inLanes<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

describe("every callable at the trust boundary", function () {
  this.timeout(300_000);

  it("the table lists exactly the callables index.ts exports", () => {
    assert.deepEqual(Object.keys(TABLE).sort(), exportedCallables());
  });

  it("App Check, bad ids, a half-finished sign-up, and hidden vs missing wishes: every callable, one after the other", async () => {
    await befriend("oscar", "rita", "ann");
    await befriend("rita", "ann");
    const [oscar, rita, noCheck, noCheckOps, halfway, ops] = await Promise.all([
      signedInClient("oscar"),
      signedInClient("rita"),
      // Signed up, but without App Check.
      signedInClient("nocheck", {}, undefined, { appCheck: false }),
      signedInClient("nocheck-ops", {}, { admin: true }, { appCheck: false }),
      // App Check, but the sign-up never completed: a bad id must be refused before the (reading) sign-up check.
      signedInClient("halfway", {}, undefined, { signedUp: false }),
      signedInClient("ops", {}, { admin: true }, { signedUp: false }),
    ]);
    const { wishId: surprise } = await oscar.call<{ wishId: string }>("createWish", wishInput({ recipientId: "rita" }));

    const problems: string[] = [];
    const expect = (name: string, what: string, ok: boolean, detail: string) => {
      if (!ok) problems.push(`${name}, ${what}: ${detail}`);
    };
    const checked = { appCheck: 0, badIds: 0, signUp: 0, hidden: [] as string[] };
    // Each callable's checks run back to back, so its emulator worker starts once; three callables at a time.
    await inLanes(Object.entries(TABLE), 3, async ([name, row]) => {
      const admin = row.caller === "admin";
      // 1. No App Check token: refused by firebase-functions before the handler (deleteAccount would delete "nocheck").
      const noToken = await failure((admin ? noCheckOps : noCheck).call(name, row.input(SAMPLE_ID)));
      expect(name, "without App Check", noToken.code === "unauthenticated", JSON.stringify(noToken));
      checked.appCheck += 1;
      // 2. Bad ids: invalid-argument naming the field, even for a caller who has not finished signing up.
      for (const [what, id, message] of row.field ? BAD_IDS : []) {
        const error = await failure((admin ? ops : halfway).call(name, row.input(id)));
        expect(name, what, error.code === "invalid-argument" && error.message.startsWith(`Field '${row.field}': `) && message.test(error.message), JSON.stringify(error));
        checked.badIds += 1;
      }
      // 3. A well-formed call by a caller whose sign-up never completed.
      if (!admin && !row.noSignUpNeeded) {
        const error = await failure(halfway.call(name, row.input(SAMPLE_ID)));
        expect(name, "without a completed sign-up", error.code === "failed-precondition" && /Finish signing up first/.test(error.message), JSON.stringify(error));
        checked.signUp += 1;
      }
      // 4. The surprise's recipient: the hidden surprise and a wish that does not exist answer the same.
      if (row.wishInput) {
        const hidden = await failure(rita.call(name, row.wishInput(surprise)));
        const missing = await failure(rita.call(name, row.wishInput("no-such-wish")));
        expect(name, "hidden vs missing", JSON.stringify(hidden) === JSON.stringify(missing), `${JSON.stringify(hidden)} vs ${JSON.stringify(missing)}`);
        expect(name, "hidden", hidden.code === "permission-denied" && /^No such wish, or you cannot see it\./.test(hidden.message), JSON.stringify(hidden));
        checked.hidden.push(name);
      }
    });
    assert.deepEqual(problems, []);

    const rows = Object.values(TABLE);
    assert.equal(checked.appCheck, rows.length);
    assert.equal(checked.badIds, rows.filter((row) => row.field).length * BAD_IDS.length);
    assert.equal(checked.signUp, rows.filter((row) => row.caller === "user" && !row.noSignUpNeeded).length);
    assert.deepEqual(checked.hidden.sort(), ["closeWish", "deleteWish", "donate", "reportContent", "setWishAudience"]);
    // Nothing was created for the half-signed-up account, and deleteAccount never ran without App Check.
    assert.equal((await adminDb().collection("friendRequests").count().get()).data().count, 0);
    assert.equal((await adminDb().collection("wishes").count().get()).data().count, 1, "only the surprise");
    assert.deepEqual((await adminDb().doc("users/halfway").listCollections()).map((c) => c.id), []);
    assert.equal((await adminDb().doc("users/nocheck").get()).exists, true);
  });
});
