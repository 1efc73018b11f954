import type { Firestore } from "firebase-admin/firestore";
import { zodConverter } from "../lib/converter";
import {
  DONATIONS,
  LEDGER,
  PAYMENT_CUSTOMERS,
  PROVIDER_EVENTS,
  contributionSchema,
  contributionsCollection,
  donationSchema,
  driftCollection,
  driftReportSchema,
  ledgerEntrySchema,
  paymentCustomerSchema,
  providerEventSchema,
  supporterSchema,
  supportersCollection,
} from "../model/donation";
import { wishRef } from "./wishes";

/** Typed references to every document the donations domain reads or writes; the one donation converter. */
export const donationConverter = zodConverter(donationSchema);

export const refs = {
  donation: (db: Firestore, id: string) => db.collection(DONATIONS).doc(id).withConverter(donationConverter),
  donations: (db: Firestore) => db.collection(DONATIONS).withConverter(donationConverter),
  wish: wishRef,
  ledgerEntry: (db: Firestore, id: string) => db.collection(LEDGER).doc(id).withConverter(zodConverter(ledgerEntrySchema)),
  ledger: (db: Firestore) => db.collection(LEDGER).withConverter(zodConverter(ledgerEntrySchema)),
  providerEvent: (db: Firestore, id: string) =>
    db.collection(PROVIDER_EVENTS).doc(id).withConverter(zodConverter(providerEventSchema)),
  paymentCustomer: (db: Firestore, uid: string) =>
    db.collection(PAYMENT_CUSTOMERS).doc(uid).withConverter(zodConverter(paymentCustomerSchema)),
  supporter: (db: Firestore, wishId: string, donationId: string) =>
    db.collection(supportersCollection(wishId)).doc(donationId).withConverter(zodConverter(supporterSchema)),
  contribution: (db: Firestore, uid: string, wishId: string) =>
    db.collection(contributionsCollection(uid)).doc(wishId).withConverter(zodConverter(contributionSchema)),
  drift: (db: Firestore, wishId: string) => db.collection(driftCollection).doc(wishId).withConverter(zodConverter(driftReportSchema)),
};
