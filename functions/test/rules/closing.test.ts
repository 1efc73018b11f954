// Rules for the closing/ops collections (docs/operations.md): admins read ops/** (refund failures, reconciliation
// findings, the money audit's summary and breaches, the status page, command runs), auditLog, refundRequests, the
// bank-transfer collections (bankTransferReferences, fioTransactions, fioOrders, fioState) and
// opsCommands (an admin cannot create or edit a command, or forge its outcome, through the client SDK); nobody writes them from a client,
// not even an admin; everyone else (the donor or owner they concern, signed-out clients, admin: false) is denied.
import { assertFails, assertSucceeds } from "@firebase/rules-unit-testing";
import { collection, deleteDoc, doc, getDoc, getDocs, setDoc, updateDoc } from "firebase/firestore";
import type { Firestore } from "firebase/firestore";
import { rulesEnv, seed } from "../helpers/rules";

const DOCS = {
  "ops/refundFailures/items/d1": { donationId: "d1", wishId: "w1", donorId: "dave", code: "charge_disputed", resolvedAt: null },
  "auditLog/a1": { action: "freezeWish", actorId: "ada", target: "wishes/w1", reason: "fraud report", result: "frozen" },
  "refundRequests/d1": { donationId: "d1", wishId: "w1", donorId: "dave", status: "failed" },
  "ops/moneyAudit": { lastRunAt: new Date(0), wishesAudited: 1, inFlight: 0, breaches: 1, repaired: 0 },
  "ops/moneyAudit/breaches/closed_wish_holds_money_w1": { kind: "closed_wish_holds_money", wishId: "w1", ownerId: "olga", held: 20_000, resolvedAt: null },
  "ops/reconciliation/findings/payment_amount_mismatch_pi_1": { kind: "payment_amount_mismatch", donationId: "d1", amount: 19_000, resolvedAt: null },
  "ops/status": { attention: ["failedRefunds"], watches: {} },
  "ops/commandRuns/items/c1": { action: "freezeWish", status: "done", actor: "operator:ana" },
  "opsCommands/c1": { action: "freezeWish", wishId: "w1", reason: "fraud report", operator: "ana", status: "done", result: { result: "frozen" } },
  "bankTransferReferences/1234567890": { variableSymbol: "1234567890", donationId: "d1", wishId: "w1", donorId: "dave", amount: 50_000, paidByMovementId: null },
  "fioTransactions/30000000001": { movementId: "30000000001", amount: 50_000, variableSymbol: "1234567890", appliedAt: null },
  "fioOrders/x_30000000001": { kind: "return", donationId: "d1", amount: 20_000, accountTo: "1998087029", bankCode: "3030", status: "queued" },
  "fioState/poller": { lastCalledAt: new Date(0), lastCall: "download" },
} as const;
const COLLECTIONS = ["ops/refundFailures/items", "auditLog", "refundRequests", "ops/moneyAudit/breaches", "ops/reconciliation/findings", "ops/commandRuns/items", "opsCommands", "bankTransferReferences", "fioTransactions", "fioOrders", "fioState"];

async function as(who: "admin" | "dave" | "signed-out"): Promise<Firestore> {
  const env = await rulesEnv();
  if (who === "signed-out") return env.unauthenticatedContext().firestore() as unknown as Firestore;
  const claims = who === "admin" ? { admin: true } : {};
  return env.authenticatedContext(who === "admin" ? "ada" : "dave", claims).firestore() as unknown as Firestore;
}

describe("rules: closing and ops collections", () => {
  beforeEach(async () => {
    await seed(DOCS);
  });

  for (const path of Object.keys(DOCS)) {
    it(`${path}: an admin reads it; the donor it concerns and signed-out clients do not`, async () => {
      await assertSucceeds(getDoc(doc(await as("admin"), path)));
      await assertFails(getDoc(doc(await as("dave"), path)));
      await assertFails(getDoc(doc(await as("signed-out"), path)));
      // A claim that is present but not `true` is no admin either.
      const notAdmin = (await rulesEnv()).authenticatedContext("ned", { admin: false }).firestore() as unknown as Firestore;
      await assertFails(getDoc(doc(notAdmin, path)));
    });

    it(`${path}: nobody writes it from a client, not even an admin`, async () => {
      for (const who of ["admin", "dave"] as const) {
        const db = await as(who);
        await assertFails(setDoc(doc(db, path), { status: "succeeded" }));
        await assertFails(updateDoc(doc(db, path), { resolvedAt: null }));
        await assertFails(deleteDoc(doc(db, path)));
        await assertFails(setDoc(doc(db, `${path}-new`), { status: "queued" }));
      }
    });
  }

  for (const name of COLLECTIONS) {
    it(`${name}: only admins list it`, async () => {
      await assertSucceeds(getDocs(collection(await as("admin"), name)));
      await assertFails(getDocs(collection(await as("dave"), name)));
      await assertFails(getDocs(collection(await as("signed-out"), name)));
    });
  }
});
