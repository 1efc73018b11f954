import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import { PAYOUTS, payoutSchema } from "../model/payout";

const payoutConverter = zodConverter(payoutSchema);

/** `payouts/{wishId}`: written by src/payouts/payouts.ts; read (and its `paidAmount` re-derived) by the ledger's reconciliation. */
export const payoutRef = (db: Firestore, wishId: string) => db.collection(PAYOUTS).doc(wishId).withConverter(payoutConverter);
