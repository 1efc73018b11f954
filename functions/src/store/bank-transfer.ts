import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import {
  BANK_TRANSFER_REFERENCES,
  FIO_ORDERS,
  FIO_POLLER_DOC,
  FIO_STATE,
  FIO_TRANSACTIONS,
  bankTransferReferenceSchema,
  fioOrderSchema,
  fioPollerStateSchema,
  fioTransactionRecordSchema,
} from "../model/bank-transfer";

/** Typed references of the bank-transfer collections (src/model/bank-transfer.ts). */
export const bankRefs = {
  reference: (db: Firestore, variableSymbol: string) => db.collection(BANK_TRANSFER_REFERENCES).doc(variableSymbol).withConverter(zodConverter(bankTransferReferenceSchema)),
  references: (db: Firestore) => db.collection(BANK_TRANSFER_REFERENCES).withConverter(zodConverter(bankTransferReferenceSchema)),
  transaction: (db: Firestore, movementId: string) => db.collection(FIO_TRANSACTIONS).doc(movementId).withConverter(zodConverter(fioTransactionRecordSchema)),
  transactions: (db: Firestore) => db.collection(FIO_TRANSACTIONS).withConverter(zodConverter(fioTransactionRecordSchema)),
  order: (db: Firestore, orderId: string) => db.collection(FIO_ORDERS).doc(orderId).withConverter(zodConverter(fioOrderSchema)),
  orders: (db: Firestore) => db.collection(FIO_ORDERS).withConverter(zodConverter(fioOrderSchema)),
  pollerState: (db: Firestore) => db.collection(FIO_STATE).doc(FIO_POLLER_DOC).withConverter(zodConverter(fioPollerStateSchema)),
};
