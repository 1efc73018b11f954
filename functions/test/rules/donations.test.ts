// Rules matrix for the money documents (docs/donations.md): role × operation (get, list, create, update, delete),
// allowed and denied asserted for every collection. Roles: dana donated to olga's wish W (dave is another viewer of
// W), sam is a stranger, ada an admin, plus a signed-out client. Every money document is server-written only.
import type { RulesTestContext } from "@firebase/rules-unit-testing";
import { Timestamp, collection, deleteDoc, doc, getDoc, getDocs, query, setDoc, updateDoc, where } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { clientAs, expectAllowedOnly, rulesEnv } from "../helpers/rules";

const W = "w-bike";
const ROLES = ["dana", "olga", "dave", "sam", "ada"] as const;
type Role = (typeof ROLES)[number] | "signed-out";
const ALL: readonly Role[] = [...ROLES, "signed-out"];

const now = Timestamp.now();
const SEED: Record<string, Record<string, unknown>> = {
  [`wishes/${W}`]: {
    ownerId: "olga",
    organizerId: "olga",
    isSurprise: false,
    viewerIds: ["olga", "dana", "dave"],
    status: "open",
    amount: 150_000,
    raised: 50_000,
    currency: "CZK",
  },
  "donations/don-1": { wishId: W, donorId: "dana", amount: 50_000, currency: "CZK", status: "succeeded", netAmount: 50_000, createdAt: now },
  [`wishes/${W}/supporters/don-1`]: { donorId: "dana", displayName: "Dana", amount: 50_000, currency: "CZK", message: null, anonymous: false, createdAt: now },
  [`users/dana/contributions/${W}`]: { wishId: W, donorId: "dana", currency: "CZK", amount: 50_000, donationCount: 1, firstGivenAt: now, updatedAt: now },
  "ledger/charge_pi_1": { kind: "charge", wishId: W, donationId: "don-1", donorId: "dana", amount: 50_000, currency: "CZK", createdAt: now },
  "providerEvents/evt_1": { provider: "stripe", type: "payment_intent.succeeded", outcome: "applied", donationId: "don-1" },
  "paymentCustomers/dana": { provider: "stripe", stripeCustomerId: "cus_1", createdAt: now },
  [`wishes/${W}/raisedShards/7`]: { raised: 50_000, donorCount: 1 },
  // Issue 19: a bitcoin donation to a surprise wish for rita (organised by olga), refunded through a BTCPay pull
  // payment whose claim link (a bearer link: whoever has it can claim the refund) sits on the donation.
  "wishes/w-surprise": { ownerId: "rita", organizerId: "olga", isSurprise: true, viewerIds: ["olga", "dana"], status: "closed", amount: 90_000, raised: 0, currency: "CZK" },
  "donations/don-btc": {
    wishId: "w-surprise",
    donorId: "dana",
    amount: 40_000,
    currency: "CZK",
    method: "bitcoin",
    provider: "btcpay",
    status: "succeeded",
    netAmount: 40_000,
    paymentIntentId: "Hq3YyG7Ahp2FfLb5dQm9Xa",
    refunds: { pp_1: { amount: 40_000, status: "pending", claimLink: "https://btcpay.example/pull-payments/pp_1" } },
    createdAt: now,
  },
};

function modular(context: RulesTestContext): Firestore {
  return context.firestore() as unknown as Firestore;
}

function as(role: Role): Promise<Firestore> {
  return clientAs(role === "signed-out" ? null : role, role === "ada" ? { admin: true } : {});
}

async function seedDocs(): Promise<void> {
  const env = await rulesEnv();
  await env.withSecurityRulesDisabled(async (context) => {
    const db = modular(context);
    await Promise.all(Object.entries(SEED).map(([path, data]) => setDoc(doc(db, path), data)));
  });
}

function matrix(allowed: readonly Role[], op: (db: Firestore, role: Role) => Promise<unknown>): Promise<void> {
  return expectAllowedOnly(ALL, allowed, as, op);
}

/** create / update / delete of an existing (or new) document: denied to every role, the donor and admins included. */
async function writesDenied(path: string, sample: Record<string, unknown>): Promise<void> {
  await matrix([], (db) => setDoc(doc(db, `${path}-new`), sample));
  await matrix([], (db) => updateDoc(doc(db, path), { amount: 999_999 }));
  await matrix([], (db) => deleteDoc(doc(db, path)));
}

describe("rules: donations and money", () => {
  beforeEach(seedDocs);

  it("donations: get only by the donor; list only by the donor with where(donorId == me); no client writes", async () => {
    await matrix(["dana"], (db) => getDoc(doc(db, "donations/don-1")));
    await matrix(["dana"], (db) => getDocs(query(collection(db, "donations"), where("donorId", "==", "dana"))));
    await matrix(["dana", "olga", "dave", "sam", "ada"], (db, role) => getDocs(query(collection(db, "donations"), where("donorId", "==", role))));
    await matrix([], (db) => getDocs(collection(db, "donations")));
    await matrix([], (db) => setDoc(doc(db, "donations/don-new"), { wishId: W, donorId: "dana", amount: 1, currency: "CZK", status: "succeeded" }));
    await matrix([], (db) => updateDoc(doc(db, "donations/don-1"), { status: "succeeded", amount: 1 }));
    await matrix([], (db) => deleteDoc(doc(db, "donations/don-1")));
  });

  it("a bitcoin donation and its refund claim link: only the donor reads it (not the surprise's recipient, organiser or admins' clients); no client writes", async () => {
    const roles = ["dana", "olga", "rita", "sam", "ada", "signed-out"] as const;
    const asRole = (role: (typeof roles)[number]) => clientAs(role === "signed-out" ? null : role, role === "ada" ? { admin: true } : {});
    await expectAllowedOnly(roles, ["dana"], asRole, (db) => getDoc(doc(db, "donations/don-btc")));
    await expectAllowedOnly(roles, ["dana"], asRole, (db) => getDocs(query(collection(db, "donations"), where("donorId", "==", "dana"))));
    await expectAllowedOnly(roles, [], asRole, (db) => getDocs(query(collection(db, "donations"), where("wishId", "==", "w-surprise"))));
    await expectAllowedOnly(roles, [], asRole, (db) => updateDoc(doc(db, "donations/don-btc"), { "refunds.pp_1.claimLink": "https://attacker.example/claim" }));
    await expectAllowedOnly(roles, [], asRole, (db) => setDoc(doc(db, "donations/don-btc2"), { wishId: "w-surprise", donorId: "dana", method: "bitcoin", provider: "btcpay", amount: 1, currency: "CZK" }));
    await expectAllowedOnly(roles, [], asRole, (db) => deleteDoc(doc(db, "donations/don-btc")));
  });

  it("supporters: get and list by the wish's viewers only; no client writes", async () => {
    await matrix(["dana", "olga", "dave"], (db) => getDoc(doc(db, `wishes/${W}/supporters/don-1`)));
    await matrix(["dana", "olga", "dave"], (db) => getDocs(collection(db, `wishes/${W}/supporters`)));
    await writesDenied(`wishes/${W}/supporters/don-1`, { displayName: "Fake", amount: 1, currency: "CZK", anonymous: false });
  });

  it("contributions: get and list by their owner only; no client writes", async () => {
    await matrix(["dana"], (db) => getDoc(doc(db, `users/dana/contributions/${W}`)));
    await matrix(["dana"], (db) => getDocs(collection(db, "users/dana/contributions")));
    await writesDenied(`users/dana/contributions/${W}`, { wishId: W, amount: 1 });
  });

  it("raisedShards (the wish's counter shards): closed to every client role, the owner and viewers included; clients read the folded raised", async () => {
    await matrix([], (db) => getDoc(doc(db, `wishes/${W}/raisedShards/7`)));
    await matrix([], (db) => getDocs(collection(db, `wishes/${W}/raisedShards`)));
    await writesDenied(`wishes/${W}/raisedShards/7`, { raised: 1_000_000, donorCount: 1 });
  });

  for (const [name, path] of [
    ["ledger", "ledger/charge_pi_1"],
    ["providerEvents", "providerEvents/evt_1"],
    ["paymentCustomers", "paymentCustomers/dana"],
  ] as const) {
    it(`${name}: closed to every client role (get, list, create, update, delete), admins included`, async () => {
      await matrix([], (db) => getDoc(doc(db, path)));
      await matrix([], (db) => getDocs(collection(db, path.split("/")[0] ?? name)));
      await writesDenied(path, { amount: 1 });
    });
  }
});
