import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import type { Clock } from "../lib/clock";
import type { Donation } from "../model/donation";
import { PaymentProviderError } from "../payments/provider";
import type { PaymentProvider } from "../payments/provider";
import { ensureCustomer } from "./customers";
import { refs } from "../store/donations";
import { createPendingDonation } from "./rails";
import type { CardDonateResult, DonateResult, DonationRail, RailStart } from "./rails";

/** The card rail's dependencies: Firestore, the clock and the Stripe port. */
export interface PaymentDeps {
  db: Firestore;
  clock: Clock;
  provider: PaymentProvider;
}

/** The provider is down or refused: `unavailable` for the client (retry-safe), the details in the logs only. */
export function unavailable(step: string, error: unknown): DomainError {
  logger.error("payment provider call failed", {
    step,
    providerCode: error instanceof PaymentProviderError ? error.providerCode : null,
    error: error instanceof Error ? error.message : String(error),
  });
  return new DomainError("provider_unavailable");
}

/**
 * The donation's PaymentIntent: amount and currency from the server, our metadata, and an idempotency key derived from
 * the donation, so every call for the same donation (the SDK's retries, a retried `donate`) gets the same intent
 * from Stripe within its 24 h key lifetime.
 */
export function createPaymentFor(deps: PaymentDeps, donationId: string, donation: Pick<Donation, "amount" | "currency" | "wishId" | "donorId" | "busyWish">, customerId: string) {
  return deps.provider.createPayment({
    amount: donation.amount,
    currency: donation.currency,
    customerId,
    // busyWish comes from the stored donation, so a retried donate repeats the very request under its idempotency key.
    metadata: { donationId, wishId: donation.wishId, donorId: donation.donorId, ...(donation.busyWish ? { busyWish: true as const } : {}) },
    idempotencyKey: `elateme_donation_${donationId}`,
  });
}

/**
 * The card rail (Stripe): the donor's customer and a customer key first (if Stripe is down there, nothing has been
 * written yet), then the pending donation, then its PaymentIntent. A PaymentIntent that cannot be created leaves the
 * donation `failed` with `provider_unavailable` (it never reached Stripe and is never charged); a retry with the same
 * requestId asks again under the same idempotency key.
 */
export function cardRail(deps: PaymentDeps): DonationRail {
  return {
    start: (start) => startCard(deps, start),
    resume: (uid, donationId, existing) => resumeCard(deps, uid, donationId, existing),
  };
}

/**
 * Stores the PaymentIntent on its donation, unless the donor canceled the donation while it was being made
 * (`cancelDonation` cancels a donation without a PaymentIntent locally, in a transaction that checks for none): then
 * the PaymentIntent is canceled at Stripe too, so no sheet can take money for a donation that will never book it, and
 * the call answers `donation_already_final`.
 */
async function storePaymentIntent(deps: PaymentDeps, donationId: string, paymentIntentId: string, fields: Partial<Donation>): Promise<void> {
  const ref = refs.donation(deps.db, donationId);
  const stored = await deps.db.runTransaction(async (tx) => {
    const current = (await tx.get(ref)).data();
    if (current?.paymentStatus === "canceled") return false;
    tx.update(ref, { ...fields, paymentIntentId, updatedAt: deps.clock.now() });
    return true;
  });
  if (stored) return;
  try {
    await deps.provider.cancelPayment({ paymentIntentId, reason: "requested_by_customer" });
  } catch (error) {
    // Nobody can pay it anyway: its client secret is never handed out (this call fails).
    logger.warn("a PaymentIntent made for a donation canceled meanwhile could not be canceled", { donationId, paymentIntentId, error: error instanceof Error ? error.message : String(error) });
  }
  throw new DomainError("donation_already_final", { params: { status: "canceled" } });
}

async function startCard(deps: PaymentDeps, { uid, donationRef, donation, answerRaced }: RailStart): Promise<DonateResult> {
  let customerId: string;
  let ephemeralKeySecret: string;
  try {
    customerId = await ensureCustomer(deps, uid);
    ephemeralKeySecret = (await deps.provider.createCustomerKey(customerId)).secret;
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw unavailable("customer", error);
  }
  const pending: Donation = { ...donation, customerId };
  const raced = await createPendingDonation(donationRef, pending, answerRaced !== null);
  if (raced && answerRaced) return answerRaced(raced);

  let payment: { paymentIntentId: string; clientSecret: string };
  try {
    payment = await createPaymentFor(deps, donationRef.id, pending, customerId);
  } catch (error) {
    // Explain the pending donation: it never reached the provider, and will never be charged.
    await donationRef.update({ status: "failed", paymentStatus: "failed", failureCode: "provider_unavailable", updatedAt: deps.clock.now() });
    throw unavailable("payment_intent", error);
  }
  await storePaymentIntent(deps, donationRef.id, payment.paymentIntentId, {});
  logger.info("donation created", { donationId: donationRef.id, wishId: donation.wishId, method: "card", amount: donation.amount, currency: donation.currency });
  return { method: "card", donationId: donationRef.id, paymentIntentClientSecret: payment.clientSecret, customerId, ephemeralKeySecret };
}

/**
 * A card donation retried: the same PaymentIntent is answered again (with a fresh customer key), nothing new is
 * created; if the first call never got its PaymentIntent, it is asked for again under the same idempotency key.
 */
async function resumeCard(deps: PaymentDeps, uid: string, donationId: string, existing: Donation): Promise<CardDonateResult> {
  let customerId: string;
  let ephemeralKeySecret: string;
  let clientSecret: string | null;
  try {
    customerId = existing.customerId ?? (await ensureCustomer(deps, uid));
    ephemeralKeySecret = (await deps.provider.createCustomerKey(customerId)).secret;
    if (existing.paymentIntentId) {
      const intent = await deps.provider.retrievePayment(existing.paymentIntentId);
      if (intent.status === "canceled" || intent.status === "succeeded") {
        throw new DomainError("donation_already_final", { params: { status: intent.status } });
      }
      clientSecret = intent.clientSecret;
    } else {
      // The first call never got its PaymentIntent (Stripe failed, or it is still being made): ask again with the
      // same idempotency key, so Stripe answers the same intent if it made one.
      const payment = await createPaymentFor(deps, donationId, existing, customerId);
      clientSecret = payment.clientSecret;
      await storePaymentIntent(deps, donationId, payment.paymentIntentId, {
        customerId,
        ...(existing.failureCode === "provider_unavailable" ? { status: "pending", paymentStatus: "pending", failureCode: null } : {}),
      });
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw unavailable("resume", error);
  }
  if (!clientSecret) throw unavailable("resume", new Error("the PaymentIntent has no client secret"));
  logger.info("donate retried; answering the existing donation", { donationId });
  return { method: "card", donationId, paymentIntentClientSecret: clientSecret, customerId, ephemeralKeySecret };
}
