// The bank-transfer rail in a money world (test/helpers/money.ts): the real poller (src/settlement/fio.ts) and Fio's
// closing port in-process against the Firestore emulator's "money" database, the fake Fio banka behind the real
// client, and both clocks (ours and the fake bank's) moved together past Fio's 30-second limit.
import { processPaymentEvent } from "../../src/donations/ledger";
import { bankTransferRail } from "../../src/donations/bank-transfer";
import { donate } from "../../src/donations/donate";
import type { DonateDeps } from "../../src/donations/donate";
import { FioRestClient } from "../../src/payments/fio";
import { runFioPoll } from "../../src/settlement/fio";
import type { FioCall, FioRunReport, FioSettlementDeps } from "../../src/settlement/fio";
import { FioClosingProvider } from "../../src/settlement/fio-refunds";
import { FAKE_FIO_TOKEN } from "../../devtools/fakes/fio";
import type { FakeFio } from "../../devtools/fakes/fio";
import { fakeFio } from "../../devtools/support/fakes";
import { MoneyWorld } from "./money";

export class BankWorld extends MoneyWorld {
  readonly fio: FakeFio;
  readonly bank: FioRestClient;
  readonly fioClosing: FioClosingProvider;
  readonly fioDeps: FioSettlementDeps;

  constructor() {
    super();
    const fio = fakeFio();
    fio.reset();
    this.fio = fio;
    this.fioClosing = new FioClosingProvider({ db: this.db, clock: this.clock });
    // Refund tasks and the audit pick Fio's closing port for bank-transfer donations.
    this.providers.fio = this.fioClosing;
    this.bank = new FioRestClient(fio.url, FAKE_FIO_TOKEN);
    this.fioDeps = {
      db: this.db,
      clock: this.clock,
      bank: this.bank,
      account: { accountNumber: fio.account.accountId },
      applyPaymentEvent: (event) => processPaymentEvent(this.ledger, event),
    };
  }

  /** Lets Fio's 30 seconds pass, on our clock and on the bank's. */
  later(ms = 35_000): void {
    this.clock.advance(ms);
    this.fio.advance(ms);
  }

  /** One poller run after the limit passed. */
  poll(call?: FioCall): Promise<FioRunReport> {
    this.later();
    return runFioPoll(this.fioDeps, call ? { call } : {});
  }

  /** donate's dependencies with the bank-transfer rail (the card rail through the fake Stripe). */
  donateDeps(): DonateDeps {
    const account = { iban: this.fio.account.iban, accountNumber: this.fio.account.accountId, bankCode: this.fio.account.bankId };
    return { ...this.ledger, provider: this.payments, rails: { bank_transfer: bankTransferRail({ db: this.db, clock: this.clock, account }) } };
  }

  /** A pending bank-transfer donation made through `donate` (method bank_transfer): its id and symbol. */
  async bankDonation(wishId: string, donorId: string, amount: number): Promise<{ donationId: string; variableSymbol: string }> {
    const now = this.clock.now();
    await this.db.collection("users").doc(donorId).set({ displayName: donorId, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now }, { merge: true });
    const result = await donate(this.donateDeps(), donorId, { wishId, amount, currency: "CZK", method: "bank_transfer" });
    if (result.method !== "bank_transfer") throw new Error(`donate answered ${result.method}`);
    return { donationId: result.donationId, variableSymbol: result.instructions.variableSymbol };
  }
}
