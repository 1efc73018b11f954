import type { DocumentReference, Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import type { Clock } from "../lib/clock";
import type { Donation } from "../model/donation";
import type { Currency } from "../model/money";
import type { PaymentMetadata } from "../payments/provider";
import { refs } from "../store/donations";
import { unavailable } from "./card";
import { createPendingDonation } from "./rails";
import type { BitcoinDonateResult, DonateResult, DonationRail, RailStart } from "./rails";

/** An invoice as the bitcoin rail needs it (BTCPay Server's, through src/payments/btcpay.ts). */
export interface BitcoinInvoice {
  id: string;
  checkoutLink: string;
  /** Unix seconds. */
  expirationTime: number;
}

/** The BTCPay port of the bitcoin rail. BTCPay has no idempotency keys: an invoice is found again by its `orderId`. */
export interface BitcoinInvoices {
  createInvoice(input: { amount: number; currency: Currency; metadata: PaymentMetadata; expirationMinutes: number; redirectUrl: string | null }): Promise<BitcoinInvoice>;
  invoicesOfOrder(orderId: string): Promise<BitcoinInvoice[]>;
}

export interface BitcoinRailDeps {
  db: Firestore;
  clock: Clock;
  invoices: BitcoinInvoices;
  /** Where BTCPay's checkout sends the donor after paying (an app link); null: BTCPay's own receipt page. */
  redirectUrl: string | null;
}

/** How long the donor has to pay an invoice (BTCPay locks the exchange rate for this long). */
export const INVOICE_EXPIRATION_MINUTES = 30;
/** How long one call may hold the right to create the donation's invoice before another call may take it over. */
export const INVOICE_LEASE_MS = 30_000;
/** How long a concurrent retry waits for the invoice another call is creating before it answers `unavailable`. */
const LEASE_WAIT_MS = 8_000;

/**
 * The bitcoin rail (BTCPay Server): the pending donation, then one BTCPay invoice for it, priced in the wish's
 * currency, whose checkout link and expiry `donate` answers. Exactly one invoice per donation, although BTCPay has no
 * idempotency keys: the call that creates it holds a lease on the donation (a transaction), first looks for an
 * invoice an earlier call made (by `orderId` = the donation id), and stores the invoice id in a transaction that
 * never overwrites another; a concurrent retry waits for it. BTCPay down → the donation is `failed`
 * (`provider_unavailable`), nothing can be paid, and the call answers `unavailable`; a retry with the same requestId
 * creates the invoice then.
 */
export function bitcoinRail(deps: BitcoinRailDeps): DonationRail {
  return {
    start: (start) => startBitcoin(deps, start),
    resume: (_uid, donationId, existing) => resumeBitcoin(deps, donationId, existing),
  };
}

async function startBitcoin(deps: BitcoinRailDeps, { donationRef, donation, answerRaced }: RailStart): Promise<DonateResult> {
  const pending: Donation = { ...donation, bitcoin: { checkoutLink: null, expiresAt: null, invoiceLeaseUntil: new Date(deps.clock.now().getTime() + INVOICE_LEASE_MS) } };
  const raced = await createPendingDonation(donationRef, pending, answerRaced !== null);
  if (raced && answerRaced) return answerRaced(raced);
  return invoiceFor(deps, donationRef, pending, { leasedUntil: pending.bitcoin?.invoiceLeaseUntil ?? null });
}

function resultOf(donationId: string, donation: Pick<Donation, "paymentIntentId" | "bitcoin">): BitcoinDonateResult | null {
  const { paymentIntentId } = donation;
  const link = donation.bitcoin?.checkoutLink;
  const expiresAt = donation.bitcoin?.expiresAt;
  return paymentIntentId && link && expiresAt ? { method: "bitcoin", donationId, invoiceId: paymentIntentId, checkoutLink: link, expiresAt: expiresAt.toISOString() } : null;
}

async function resumeBitcoin(deps: BitcoinRailDeps, donationId: string, existing: Donation): Promise<DonateResult> {
  const known = resultOf(donationId, existing);
  if (known) {
    // An invoice that expired unpaid cannot be paid any more: the donor starts a new donation.
    if (existing.paymentStatus === "failed" || (existing.bitcoin?.expiresAt && existing.bitcoin.expiresAt <= deps.clock.now() && existing.paymentStatus === "pending")) {
      throw new DomainError("donation_already_final", { params: { status: "failed" } });
    }
    logger.info("donate retried; answering the existing invoice", { donationId });
    return known;
  }
  return invoiceFor(deps, refs.donation(deps.db, donationId), existing, { leasedUntil: null });
}

/** Takes the lease unless another call holds it (answering until when it is ours); answers the invoice once some call stored it. */
async function takeLease(deps: BitcoinRailDeps, ref: DocumentReference<Donation>): Promise<{ taken: true; until: Date } | { taken: false; donation: Donation | undefined }> {
  return deps.db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).data();
    const now = deps.clock.now();
    const lease = current?.bitcoin?.invoiceLeaseUntil;
    if (!current || current.paymentIntentId || (lease && lease > now)) return { taken: false, donation: current };
    const until = new Date(now.getTime() + INVOICE_LEASE_MS);
    tx.update(ref, { bitcoin: { checkoutLink: null, expiresAt: null, invoiceLeaseUntil: until }, updatedAt: now });
    return { taken: true, until };
  });
}

async function waitForInvoice(ref: DocumentReference<Donation>): Promise<BitcoinDonateResult | null> {
  const until = Date.now() + LEASE_WAIT_MS;
  while (Date.now() < until) {
    const current = (await ref.get()).data();
    const answer = current ? resultOf(ref.id, current) : null;
    if (answer) return answer;
    if (current?.failureCode === "provider_unavailable") return null;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

/**
 * The lease `until` is this call's own (the value it wrote); null when the caller does not hold one yet. Every write
 * after the BTCPay calls is conditional on what it reads then, so a call that outlived its lease never overwrites a
 * donation another call completed.
 */
async function invoiceFor(deps: BitcoinRailDeps, ref: DocumentReference<Donation>, donation: Donation, { leasedUntil }: { leasedUntil: Date | null }): Promise<DonateResult> {
  let leaseUntil = leasedUntil;
  if (!leaseUntil) {
    const lease = await takeLease(deps, ref);
    if (!lease.taken) {
      const known = lease.donation ? resultOf(ref.id, lease.donation) : null;
      const answer = known ?? (await waitForInvoice(ref));
      if (!answer) throw unavailable("invoice_wait", new Error("another call holds the invoice lease"));
      return answer;
    }
    leaseUntil = lease.until;
  }
  const metadata = { donationId: ref.id, wishId: donation.wishId, donorId: donation.donorId };
  let invoice: BitcoinInvoice;
  try {
    // An earlier call may have made the invoice and lost the answer: BTCPay finds it by orderId.
    invoice =
      (await deps.invoices.invoicesOfOrder(ref.id))[0] ??
      (await deps.invoices.createInvoice({ amount: donation.amount, currency: donation.currency, metadata, expirationMinutes: INVOICE_EXPIRATION_MINUTES, redirectUrl: deps.redirectUrl }));
  } catch (error) {
    const completed = await markUnavailable(deps, ref, leaseUntil);
    if (completed) {
      logger.info("invoice call failed after another call stored the invoice; answering that one", { donationId: ref.id });
      return completed;
    }
    throw unavailable("invoice", error);
  }
  const expiresAt = new Date(invoice.expirationTime * 1000);
  const stored = await deps.db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).data();
    if (!current) return null;
    if (current.paymentIntentId) return current;
    const update = {
      paymentIntentId: invoice.id,
      bitcoin: { checkoutLink: invoice.checkoutLink, expiresAt, invoiceLeaseUntil: null },
      updatedAt: deps.clock.now(),
      ...(current.failureCode === "provider_unavailable" ? { status: "pending" as const, paymentStatus: "pending" as const, failureCode: null } : {}),
    };
    tx.update(ref, update);
    return { ...current, ...update };
  });
  const answer = stored ? resultOf(ref.id, stored) : null;
  if (!answer) throw unavailable("invoice_store", new Error("the donation disappeared while its invoice was made"));
  logger.info("bitcoin donation created", { donationId: ref.id, wishId: donation.wishId, invoiceId: answer.invoiceId, amount: donation.amount, currency: donation.currency });
  return answer;
}

/**
 * Explains the pending donation after BTCPay failed: it has no invoice, so nobody can pay it; a retry (same requestId)
 * makes one. Only while this call still holds its lease (`invoiceLeaseUntil` is the value it wrote) and no invoice is
 * stored, in a transaction: a slow call whose lease another call took over writes nothing, and answers the invoice
 * that call stored, if it did.
 */
export async function markUnavailable(deps: Pick<BitcoinRailDeps, "db" | "clock">, ref: DocumentReference<Donation>, leaseUntil: Date): Promise<BitcoinDonateResult | null> {
  return deps.db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).data();
    if (!current) return null;
    const stored = resultOf(ref.id, current);
    if (stored || current.paymentIntentId) return stored;
    if (current.bitcoin?.invoiceLeaseUntil?.getTime() !== leaseUntil.getTime()) {
      logger.warn("invoice call failed after losing its lease; the donation is left to the call that holds it", { donationId: ref.id });
      return null;
    }
    tx.update(ref, { status: "failed", paymentStatus: "failed", failureCode: "provider_unavailable", bitcoin: { checkoutLink: null, expiresAt: null, invoiceLeaseUntil: null }, updatedAt: deps.clock.now() });
    return null;
  });
}
