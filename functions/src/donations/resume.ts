import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import { DomainError } from "../lib/errors";
import type { Clock } from "../lib/clock";
import type { Donation } from "../model/donation";
import { PaymentProviderError } from "../payments/provider";
import type { PaymentProvider } from "../payments/provider";
import { ensureCustomer } from "./customers";
import { refs } from "../store/donations";

/** What `donate` answers: what the mobile Payment Sheet needs. */
export interface DonateResult {
  donationId: string;
  paymentIntentClientSecret: string;
  customerId: string;
  ephemeralKeySecret: string;
}

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
export function createPaymentFor(deps: PaymentDeps, donationId: string, donation: Pick<Donation, "amount" | "currency" | "wishId" | "donorId">, customerId: string) {
  return deps.provider.createPayment({
    amount: donation.amount,
    currency: donation.currency,
    customerId,
    metadata: { donationId, wishId: donation.wishId, donorId: donation.donorId },
    idempotencyKey: `elateme_donation_${donationId}`,
  });
}

/**
 * A `donate` retried with the `requestId` of a donation that exists: the same donation and the same PaymentIntent
 * are answered again (with a fresh customer key), nothing new is created. A requestId reused for another wish,
 * amount or currency is refused; a donation that is already paid or canceled cannot be paid again.
 */
export async function resumeDonation(
  deps: PaymentDeps,
  uid: string,
  donationId: string,
  existing: Donation,
  input: { wishId: string; amount: number; currency: string },
): Promise<DonateResult> {
  if (existing.donorId !== uid || existing.wishId !== input.wishId || existing.amount !== input.amount || existing.currency !== input.currency) {
    throw new DomainError("request_id_reused", { field: "requestId" });
  }
  if (existing.paymentStatus === "succeeded" || existing.paymentStatus === "canceled") {
    throw new DomainError("donation_already_final", { params: { status: existing.paymentStatus } });
  }
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
      await refs.donation(deps.db, donationId).update({
        paymentIntentId: payment.paymentIntentId,
        customerId,
        updatedAt: deps.clock.now(),
        ...(existing.failureCode === "provider_unavailable" ? { status: "pending", paymentStatus: "pending", failureCode: null } : {}),
      });
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw unavailable("resume", error);
  }
  if (!clientSecret) throw unavailable("resume", new Error("the PaymentIntent has no client secret"));
  logger.info("donate retried; answering the existing donation", { donationId });
  return { donationId, paymentIntentClientSecret: clientSecret, customerId, ephemeralKeySecret };
}
