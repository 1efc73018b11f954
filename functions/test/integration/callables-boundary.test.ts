// Every callable at the trust boundary (docs/security.md), through the client SDK and the Functions emulator:
// App Check enforced, bad ids refused with invalid-argument naming the field before anything is read, a half-signed-up
// caller refused with failed-precondition, and a hidden wish answered exactly like a missing one. One table drives all
// of it, and the table must list every callable index.ts exports. A few clients make all the calls (no per-case resets).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { FunctionsError } from "firebase/functions";
import { adminDb } from "../helpers/admin";
import { BAD_IDS } from "../helpers/bad-ids";
import { signedInClient } from "../helpers/clients";
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
  reconcileWishLedger: { caller: "admin", input: (id) => ({ wishId: id }), field: "wishId" },
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

describe("every callable at the trust boundary", function () {
  this.timeout(180_000);

  it("the table lists exactly the callables index.ts exports", () => {
    assert.deepEqual(Object.keys(TABLE).sort(), exportedCallables());
  });

  it("without an App Check token every callable answers unauthenticated, before its handler runs", async () => {
    const [user, admin] = await Promise.all([
      signedInClient("nocheck", {}, undefined, { appCheck: false }),
      signedInClient("nocheck-ops", {}, { admin: true }, { appCheck: false }),
    ]);
    for (const [name, row] of Object.entries(TABLE)) {
      const error = await failure((row.caller === "admin" ? admin : user).call(name, row.input(SAMPLE_ID)));
      assert.equal(error.code, "unauthenticated", `${name}: ${error.message}`);
    }
    // deleteAccount never ran: the account is still there.
    assert.equal((await adminDb().doc("users/nocheck").get()).exists, true);
  });

  it("bad ids (a/b, '.', '..', __x__, 2,000 characters) are invalid-argument naming the field, even before the sign-up check reads anything", async () => {
    // A caller without a profile: a bad id must be refused before the (reading) sign-up check would refuse the caller.
    const [user, admin] = await Promise.all([
      signedInClient("halfway", {}, undefined, { signedUp: false }),
      signedInClient("ops", {}, { admin: true }, { signedUp: false }),
    ]);
    let calls = 0;
    for (const [name, row] of Object.entries(TABLE)) {
      if (!row.field) continue;
      for (const [what, id, message] of BAD_IDS) {
        const error = await failure((row.caller === "admin" ? admin : user).call(name, row.input(id)));
        assert.equal(error.code, "invalid-argument", `${name} with ${what}: ${error.message}`);
        assert.ok(error.message.startsWith(`Field '${row.field}': `), `${name} with ${what} names the field: ${error.message}`);
        assert.match(error.message, message, `${name} with ${what}`);
        calls += 1;
      }
    }
    assert.equal(calls, Object.values(TABLE).filter((row) => row.field).length * BAD_IDS.length);
  });

  it("a caller whose sign-up never completed gets failed-precondition from every user callable but the sign-up and leaving", async () => {
    const halfway = await signedInClient("halfway", {}, undefined, { signedUp: false });
    for (const [name, row] of Object.entries(TABLE)) {
      if (row.caller === "admin" || row.noSignUpNeeded) continue;
      const error = await failure(halfway.call(name, row.input(SAMPLE_ID)));
      assert.equal(error.code, "failed-precondition", `${name}: ${error.message}`);
      assert.match(error.message, /Finish signing up first/, name);
    }
    // Nothing was created for the half-signed-up account (no friend request, wish, group, device or window).
    assert.equal((await adminDb().collection("friendRequests").count().get()).data().count, 0);
    assert.equal((await adminDb().collection("wishes").count().get()).data().count, 0);
    assert.deepEqual((await adminDb().doc("users/halfway").listCollections()).map((c) => c.id), []);
  });

  it("a hidden surprise and a missing wish get the same code and message from every callable that takes a wish id", async () => {
    await befriend("oscar", "rita", "ann");
    await befriend("rita", "ann");
    const [oscar, rita] = await Promise.all([signedInClient("oscar"), signedInClient("rita")]);
    const { wishId } = await oscar.call<{ wishId: string }>("createWish", wishInput({ recipientId: "rita" }));
    const compared: string[] = [];
    for (const [name, row] of Object.entries(TABLE)) {
      if (!row.wishInput) continue;
      const asRecipient = (id: string) => failure(rita.call(name, row.wishInput?.(id)));
      const hidden = await asRecipient(wishId);
      const missing = await asRecipient("no-such-wish");
      assert.deepEqual(hidden, missing, name);
      assert.equal(hidden.code, "permission-denied", name);
      assert.match(hidden.message, /^No such wish, or you cannot see it\./, name);
      compared.push(name);
    }
    assert.deepEqual(compared.sort(), ["closeWish", "deleteWish", "donate", "reportContent", "setWishAudience"]);
  });
});
