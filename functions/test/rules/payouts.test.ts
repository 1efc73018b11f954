// Rules matrix for the payout documents (docs/data-model.md): role × operation (get, list, create, update, delete),
// allowed and denied asserted for every role. On the normal wish W, olga is owner and organizer and dana a donor; on
// the surprise S, rita is the recipient (owner) and oscar the organizer. ada is an admin, ned has the claim
// admin: false, plus a signed-out client. Both collections are server-written money documents: no client writes.
import assert from "node:assert/strict";
import { assertSucceeds } from "@firebase/rules-unit-testing";
import type { RulesTestContext } from "@firebase/rules-unit-testing";
import { Timestamp, collection, deleteDoc, doc, documentId, getDoc, getDocs, query, setDoc, updateDoc, where } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { clientAs, expectAllowedOnly, rulesEnv, seed } from "../helpers/rules";

const W = "w-bike";
const S = "w-surprise";
const ROLES = ["olga", "dana", "rita", "oscar", "ada", "ned"] as const;
type Role = (typeof ROLES)[number] | "signed-out";
const ALL: readonly Role[] = [...ROLES, "signed-out"];

const now = Timestamp.now();

function account(uid: string, transfersActive: boolean): Record<string, unknown> {
  return {
    uid,
    provider: "stripe",
    accountId: `acct_${uid}`,
    transfersActive,
    payoutsEnabled: transfersActive,
    detailsSubmitted: transfersActive,
    requirementsDue: transfersActive ? [] : ["external_account"],
    stateAt: now.toMillis(),
    createdAt: now,
    updatedAt: now,
  };
}

function payout(wishId: string, ownerId: string, status: string): Record<string, unknown> {
  return {
    wishId,
    ownerId,
    currency: "CZK",
    status,
    reason: status === "pending_onboarding" ? "owner_onboarding" : null,
    destinationAccountId: status === "paid" ? `acct_${ownerId}` : null,
    grossAccounted: status === "paid" ? 150_000 : 0,
    feeAmount: 0,
    paidAmount: status === "paid" ? 150_000 : 0,
    pendingTransfer: null,
    transfers: status === "paid" ? { tr_1: { seq: 0, amount: 150_000, confirmed: true, reversals: {} } } : {},
    nextSeq: status === "paid" ? 1 : 0,
    round: 0,
    attempts: status === "paid" ? 1 : 0,
    createdAt: now,
    updatedAt: now,
    paidAt: status === "paid" ? now : null,
  };
}

const SEED: Record<string, Record<string, unknown>> = {
  [`wishes/${W}`]: { ownerId: "olga", organizerId: "olga", isSurprise: false, viewerIds: ["olga", "dana"], status: "funded", amount: 150_000, raised: 150_000, currency: "CZK" },
  // Funded, so the recipient is revealed and can see the wish; the organizer still sees it too.
  [`wishes/${S}`]: { ownerId: "rita", organizerId: "oscar", isSurprise: true, viewerIds: ["oscar", "rita"], status: "funded", amount: 80_000, raised: 80_000, currency: "CZK" },
  "payoutAccounts/olga": account("olga", true),
  "payoutAccounts/rita": account("rita", false),
  [`payouts/${W}`]: payout(W, "olga", "paid"),
  [`payouts/${S}`]: payout(S, "rita", "pending_onboarding"),
};

function modular(context: RulesTestContext): Firestore {
  return context.firestore() as unknown as Firestore;
}

function as(role: Role): Promise<Firestore> {
  return clientAs(role === "signed-out" ? null : role, role === "ada" ? { admin: true } : role === "ned" ? { admin: false } : {});
}

/** Runs `op` as every role: it must succeed for exactly the `allowed` ones and be denied for all others. */
function matrix(allowed: readonly Role[], op: (db: Firestore, role: Role) => Promise<unknown>): Promise<void> {
  return expectAllowedOnly(ALL, allowed, as, op);
}

describe("rules: payouts", () => {
  beforeEach(() => seed(SEED));

  describe("payoutAccounts/{uid}", () => {
    it("get: the account's user and admins; not a donor of their wish, an admin:false claim or signed-out", async () => {
      await matrix(["olga", "ada"], (db) => getDoc(doc(db, "payoutAccounts/olga")));
      await matrix(["rita", "ada"], (db) => getDoc(doc(db, "payoutAccounts/rita")));
      // Before onboarding there is no document; the user may still look for their own (the app's "set up payouts").
      await matrix(["dana", "ada"], (db) => getDoc(doc(db, "payoutAccounts/dana")));
    });

    it("list: admins only, even a query for the caller's own account", async () => {
      await matrix(["ada"], (db) => getDocs(collection(db, "payoutAccounts")));
      await matrix(["ada"], (db) => getDocs(query(collection(db, "payoutAccounts"), where("uid", "==", "olga"))));
      await matrix(["ada"], (db) => getDocs(query(collection(db, "payoutAccounts"), where(documentId(), "==", "olga"))));
    });

    it("create: nobody, not even for themselves (a user must not register a destination account of their choosing)", async () => {
      await matrix([], (db, role) => setDoc(doc(db, `payoutAccounts/${role}`), account(role, true)));
      await matrix([], (db) => setDoc(doc(db, "payoutAccounts/dana"), account("dana", true)));
    });

    it("update: nobody; the owner cannot mark their own account active and so skip onboarding", async () => {
      await matrix([], (db) => updateDoc(doc(db, "payoutAccounts/rita"), { transfersActive: true }));
      await matrix([], (db) => updateDoc(doc(db, "payoutAccounts/olga"), { accountId: "acct_attacker" }));
      await matrix([], (db) => setDoc(doc(db, "payoutAccounts/rita"), account("rita", true)));
      // The onboarding state is exactly as the server wrote it.
      const env = await rulesEnv();
      await env.withSecurityRulesDisabled(async (context) => {
        const stored = await getDoc(doc(modular(context), "payoutAccounts/rita"));
        assert.equal(stored.get("transfersActive"), false);
      });
    });

    it("delete: nobody", async () => {
      await matrix([], (db) => deleteDoc(doc(db, "payoutAccounts/olga")));
      await matrix([], (db) => deleteDoc(doc(db, "payoutAccounts/rita")));
    });
  });

  describe("payouts/{wishId}", () => {
    it("get: the wish's owner and admins; not a donor, an admin:false claim or signed-out", async () => {
      await matrix(["olga", "ada"], (db) => getDoc(doc(db, `payouts/${W}`)));
    });

    it("surprise: the recipient reads the payout; its organizer does not, by get or by query", async () => {
      await matrix(["rita", "ada"], (db) => getDoc(doc(db, `payouts/${S}`)));
      await matrix(["rita", "ada"], (db) => getDocs(query(collection(db, "payouts"), where("ownerId", "==", "rita"))));
      // The organizer can see the wish itself, but a query by wish id does not prove the caller owns the payout.
      await assertSucceeds(getDoc(doc(await as("oscar"), `wishes/${S}`)));
      await matrix(["ada"], (db) => getDocs(query(collection(db, "payouts"), where("wishId", "==", S))));
      // A query on one document id is checked against that document, like a get: the recipient passes, oscar not.
      await matrix(["rita", "ada"], (db) => getDocs(query(collection(db, "payouts"), where(documentId(), "==", S))));
    });

    it("list: a query for where(ownerId == me) by anyone signed in; unfiltered or someone else's only by admins", async () => {
      await matrix(["olga", "dana", "rita", "oscar", "ada", "ned"], (db, role) => getDocs(query(collection(db, "payouts"), where("ownerId", "==", role))));
      await matrix(["olga", "ada"], (db) => getDocs(query(collection(db, "payouts"), where("ownerId", "==", "olga"))));
      await matrix(["olga", "ada"], (db) => getDocs(query(collection(db, "payouts"), where("ownerId", "==", "olga"), where("status", "==", "paid"))));
      await matrix(["ada"], (db) => getDocs(collection(db, "payouts")));
      await matrix(["ada"], (db) => getDocs(query(collection(db, "payouts"), where("status", "==", "pending_onboarding"))));
    });

    it("the owner's query returns their payouts only", async () => {
      const mine = await getDocs(query(collection(await as("olga"), "payouts"), where("ownerId", "==", "olga")));
      assert.deepEqual(mine.docs.map((d) => d.id), [W]);
    });

    it("create: nobody, the wish's owner and admins included", async () => {
      await matrix([], (db) => setDoc(doc(db, "payouts/w-new"), payout("w-new", "olga", "queued")));
      await matrix([], (db, role) => setDoc(doc(db, "payouts/w-mine"), payout("w-mine", role, "paid")));
    });

    it("update: nobody; the owner cannot change status or amounts of their own payout", async () => {
      await matrix([], (db) => updateDoc(doc(db, `payouts/${S}`), { status: "queued", reason: null }));
      await matrix([], (db) => updateDoc(doc(db, `payouts/${W}`), { paidAmount: 0, status: "failed" }));
      await matrix([], (db) => setDoc(doc(db, `payouts/${W}`), payout(W, "olga", "queued")));
    });

    it("delete: nobody", async () => {
      await matrix([], (db) => deleteDoc(doc(db, `payouts/${W}`)));
      await matrix([], (db) => deleteDoc(doc(db, `payouts/${S}`)));
    });
  });
});
