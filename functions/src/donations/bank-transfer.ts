import { randomInt } from "node:crypto";
import type { Firestore } from "firebase-admin/firestore";
import type { Clock } from "../lib/clock";
import { DomainError } from "../lib/errors";
import { isFirestoreError } from "../lib/firestore-errors";
import { logger } from "../lib/log";
import { BANK_TRANSFER_DUE_DAYS, BANK_TRANSFER_GRACE_DAYS, fioPaymentId } from "../model/bank-transfer";
import type { BankTransferInstructions } from "../model/bank-transfer";
import { buildSpd } from "../payments/fio-spd";
import { bankRefs } from "../store/bank-transfer";
import { createPendingDonation } from "./rails";
import type { BankTransferDonateResult, DonationRail } from "./rails";

/** Our Fio account as the donor's bank app needs it (src/api/params.ts: FIO_ACCOUNT_IBAN, _NUMBER, FIO_BANK_CODE). */
export interface BankAccount {
  iban: string;
  accountNumber: string;
  bankCode: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Send by: a week from now, never past the wish's deadline. */
export function bankTransferDueAt(now: Date, wishDeadline: Date): Date {
  return new Date(Math.min(now.getTime() + BANK_TRANSFER_DUE_DAYS * DAY_MS, wishDeadline.getTime()));
}

/** When an unpaid reference expires: the due date plus the grace for transfers still on their way. */
export const referenceExpiresAt = (dueAt: Date) => new Date(dueAt.getTime() + BANK_TRANSFER_GRACE_DAYS * DAY_MS);

/** A random 10-digit variable symbol (no leading zero: banks drop them). 9·10⁹ symbols: collisions are rare. */
export const randomVariableSymbol = () => String(randomInt(1_000_000_000, 10_000_000_000));

const MAX_SYMBOL_ATTEMPTS = 8;

/**
 * Reserves a unique variable symbol for a donation: `bankTransferReferences/{vs}` created with create(), a new random
 * symbol on a collision. No counter document (which would be one hot document for every bank-transfer donation).
 */
export async function reserveVariableSymbol(
  db: Firestore,
  reference: { donationId: string; wishId: string; donorId: string; amount: number; currency: string; createdAt: Date; dueAt: Date },
  nextSymbol: () => string = randomVariableSymbol,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const variableSymbol = nextSymbol();
    try {
      await bankRefs.reference(db, variableSymbol).create({
        ...reference,
        variableSymbol,
        expiresAt: referenceExpiresAt(reference.dueAt),
        paidByMovementId: null,
        payer: null,
        closedAt: null,
      });
      return variableSymbol;
    } catch (error) {
      if (!isFirestoreError(error, "already-exists") || attempt + 1 >= MAX_SYMBOL_ATTEMPTS) throw error;
    }
  }
}

/**
 * What the donor's app shows. The message names no wish (a surprise wish's title must not reach a bank statement the
 * recipient might see): "ElateMe <symbol>".
 */
export function bankTransferInstructions(account: BankAccount, variableSymbol: string, amount: number, dueAt: Date): BankTransferInstructions {
  const message = `ElateMe ${variableSymbol}`;
  return {
    iban: account.iban,
    accountNumber: account.accountNumber,
    bankCode: account.bankCode,
    amount,
    currency: "CZK",
    variableSymbol,
    message,
    spdQr: buildSpd({ iban: account.iban, amount, currency: "CZK", variableSymbol, message, recipientName: "ElateMe" }),
    dueAt,
  };
}

export interface BankTransferRailDeps {
  db: Firestore;
  clock: Clock;
  account: BankAccount;
}

function answer(donationId: string, instructions: BankTransferInstructions): BankTransferDonateResult {
  return { method: "bank_transfer", donationId, instructions: { ...instructions, dueAt: instructions.dueAt.toISOString() } };
}

/**
 * The bank-transfer rail of `donate` (docs/donations.md "Bank transfer"): a unique variable symbol, the instructions
 * on the pending donation (`provider: "fio"`, `paymentIntentId: fio_vs_<symbol>`), and nothing at the bank: the money
 * is found by the poller (src/settlement/fio.ts). CZK only: another currency could never arrive as the amount asked.
 */
export function bankTransferRail(deps: BankTransferRailDeps): DonationRail {
  return {
    async start({ wish, donationRef, donation, answerRaced }) {
      if (donation.currency !== "CZK") throw new DomainError("bank_transfer_czk_only", { field: "method", params: { currency: donation.currency } });
      const now = deps.clock.now();
      const dueAt = bankTransferDueAt(now, wish.deadline);
      const reference = { donationId: donationRef.id, wishId: donation.wishId, donorId: donation.donorId, amount: donation.amount, currency: donation.currency, createdAt: now, dueAt };
      const variableSymbol = await reserveVariableSymbol(deps.db, reference);
      const instructions = bankTransferInstructions(deps.account, variableSymbol, donation.amount, dueAt);
      const raced = await createPendingDonation(donationRef, { ...donation, paymentIntentId: fioPaymentId(variableSymbol), bankTransfer: instructions }, answerRaced !== null);
      if (raced && answerRaced) {
        // A concurrent retry created the donation with its own symbol: ours was never shown to anyone; close it.
        await bankRefs.reference(deps.db, variableSymbol).update({ closedAt: now, expiresAt: null });
        return answerRaced(raced);
      }
      logger.info("bank-transfer donation created", { donationId: donationRef.id, wishId: donation.wishId, amount: donation.amount });
      return answer(donationRef.id, instructions);
    },
    resume(_uid, donationId, existing) {
      if (!existing.bankTransfer) return Promise.reject(new Error(`bank-transfer donation ${donationId} has no instructions`));
      return Promise.resolve(answer(donationId, existing.bankTransfer));
    },
  };
}
