import type { Firestore, Transaction, WriteBatch } from "firebase-admin/firestore";
import type { LedgerEntry } from "../model/donation";
import { refs } from "./donations";

/**
 * The one way money is written to `ledger/{id}`, for donations (charges, refunds, disputes) and payouts (transfers,
 * reversals) alike: always `create`, in the same batch or transaction as the state that records it was applied. The
 * ledger is append-only: an id written twice fails the whole write instead of silently overwriting an amount.
 */
export function appendLedgerEntry(db: Firestore, writes: Transaction | WriteBatch, id: string, entry: LedgerEntry): void {
  const ref = refs.ledgerEntry(db, id);
  if ("commit" in writes) writes.create(ref, entry);
  else writes.create(ref, entry);
}
