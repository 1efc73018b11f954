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
import { WISHES, wishSchema } from "../model/wish";

/** Typed references to every document the donations domain reads or writes. */
export const donationConverter = zodConverter(donationSchema);
export const wishConverter = zodConverter(wishSchema);

export const refs = {
  donation: (db: Firestore, id: string) => db.collection(DONATIONS).doc(id).withConverter(donationConverter),
  donations: (db: Firestore) => db.collection(DONATIONS).withConverter(donationConverter),
  wish: (db: Firestore, id: string) => db.collection(WISHES).doc(id).withConverter(wishConverter),
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

/** gRPC status codes Firestore uses for the conflicts our writes retry on. */
export const GRPC = { ALREADY_EXISTS: 6, FAILED_PRECONDITION: 9, ABORTED: 10, NOT_FOUND: 5 } as const;

export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}
