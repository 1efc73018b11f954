import type { DocumentReference } from "firebase-admin/firestore";
import { isFirestoreError } from "../lib/firestore-errors";
import type { Donation, DonationMethod } from "../model/donation";
import type { Wish } from "../model/wish";

/**
 * The payment rails behind `donate` (docs/donations.md, "Payment rails"). `donate` (donate.ts) parses the input and
 * runs every check that does not depend on how the donor pays (the wish, its status, the amount, the currency), builds
 * the pending donation, and hands it to the rail of `method`; each rail lives in its own module and talks to its own
 * provider port: card → Stripe (card.ts), bitcoin → BTCPay Server (bitcoin.ts), bank_transfer → Fio banka.
 * What each rail answers is one branch of {@link DonateResult}, discriminated by `method`.
 */

/** Card (Stripe): what the mobile Payment Sheet needs. */
export interface CardDonateResult {
  method: "card";
  donationId: string;
  paymentIntentClientSecret: string;
  customerId: string;
  ephemeralKeySecret: string;
}

/** Bitcoin (BTCPay Server): the invoice's checkout page, which the app opens; the invoice expires at `expiresAt`. */
export interface BitcoinDonateResult {
  method: "bitcoin";
  donationId: string;
  invoiceId: string;
  checkoutLink: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** Bank transfer (Fio banka): what the donor's banking app needs, and a Czech QR payment (SPD) string to render. */
export interface BankTransferDonateResult {
  method: "bank_transfer";
  donationId: string;
  instructions: {
    iban: string;
    accountNumber: string;
    bankCode: string;
    amount: number;
    currency: string;
    variableSymbol: string;
    message: string;
    spdQr: string;
    /** ISO 8601. */
    dueAt: string;
  };
}

export type DonateResult = CardDonateResult | BitcoinDonateResult | BankTransferDonateResult;

/** What `donate` hands a rail once every shared check passed. */
export interface RailStart {
  uid: string;
  wish: Wish;
  /** `donations/{id}`: the requestId's document, or a fresh id. */
  donationRef: DocumentReference<Donation>;
  /** The pending donation to create (`method`, `provider` set); the rail adds its provider's fields. */
  donation: Donation;
  /**
   * With a requestId, a concurrent retry may create the document first: the rail answers that donation through this
   * (donate's retry path: the requestId checks, then the rail's `resume`; the wish checks this call has just passed).
   * Null without a requestId.
   */
  answerRaced: ((existing: Donation) => Promise<DonateResult>) | null;
}

export interface DonationRail {
  /** Creates the donation and its provider payment; answers what the app shows. */
  start(start: RailStart): Promise<DonateResult>;
  /**
   * A retried `donate` (same requestId) for a donation of this rail that exists and is not final: answers the same
   * provider payment again, creating it only if the first call never got it.
   */
  resume(uid: string, donationId: string, existing: Donation): Promise<DonateResult>;
}

/** The rails other than cards, each built with its provider port (api/donations.ts); a missing one is switched off. */
export type OtherRails = Partial<Record<Exclude<DonationMethod, "card">, DonationRail>>;

/**
 * Creates the pending donation. Of two concurrent calls with the same requestId one wins (`create` precondition);
 * the loser gets the winner's document to answer instead, and null means this call created it.
 */
export async function createPendingDonation(
  ref: DocumentReference<Donation>,
  donation: Donation,
  requested: boolean,
): Promise<Donation | null> {
  try {
    await ref.create(donation);
    return null;
  } catch (error) {
    const raced = requested && isFirestoreError(error, "already-exists") ? (await ref.get()).data() : undefined;
    if (raced) return raced;
    throw error;
  }
}
