import { logger } from "../lib/log";
import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import { admit } from "../lib/admission";
import { idSchema } from "../lib/ids";
import { requireVisibleWish } from "../lib/visibility";
import type { Donation } from "../model/donation";
import { CURRENCIES, currencySchema, minorAmountSchema } from "../model/money";
import type { Currency } from "../model/money";
import { requestDocId, requestIdSchema } from "../lib/requests";
import { ensureCustomer } from "./customers";
import { isFirestoreError } from "../lib/firestore-errors";
import { refs } from "../store/donations";
import { createPaymentFor, resumeDonation, unavailable } from "./resume";
import type { DonateResult, PaymentDeps } from "./resume";
import { newPendingDonationState } from "../model/donation";
import { deadlinePassed } from "../lib/deadline";

/** Callable input. `.strict()`: a client cannot smuggle in a status, a donor or anything else. */
export const donateInput = z
  .object({
    wishId: idSchema,
    amount: minorAmountSchema,
    currency: currencySchema,
    message: z.string().trim().max(500).optional(),
    anonymous: z.boolean().optional(),
    /** Client-chosen id of this donation attempt: a retried call with the same id answers the same donation. */
    requestId: requestIdSchema.optional(),
  })
  .strict();

export type { DonateResult };
export type DonateDeps = PaymentDeps;

/**
 * The most a donation may be, given what the wish still needs (overfunding policy, docs/donations.md): at most the
 * remaining amount, but never less than the currency's minimum charge, so a wish can always be completed.
 */
export function maxDonation(wish: { amount: number; raised: number; currency: Currency }): number {
  const limits = CURRENCIES[wish.currency];
  return Math.min(limits.maxMinor, Math.max(wish.amount - wish.raised, limits.minMinor));
}

/**
 * F15: creates a pending donation and its PaymentIntent, and returns what the mobile Payment Sheet needs.
 * The amount and currency the provider charges are the server-validated ones; no callable can mark a donation paid
 * (only verified webhook events move money state).
 */
/** `tokenName` is the caller's auth token name: the donor's display name when their profile has none. */
export async function donate(deps: DonateDeps, uid: string, data: unknown, tokenName?: unknown): Promise<DonateResult> {
  const input = parseInput(donateInput, data);
  await admit(deps, uid, "donations");
  const now = deps.clock.now();
  // A retry of a donation that exists answers it again (before any check: the first call passed them).
  const requested = input.requestId ? refs.donation(deps.db, requestDocId(uid, input.requestId)) : undefined;
  const earlier = requested ? (await requested.get()).data() : undefined;
  if (requested && earlier) return resumeDonation(deps, uid, requested.id, earlier, input);

  // A missing wish and a wish the caller may not see (e.g. a surprise for them) are indistinguishable.
  const wish = requireVisibleWish((await refs.wish(deps.db, input.wishId).get()).data(), uid);
  if (wish.ownerId === uid) throw new DomainError("donate_own_wish");
  if (wish.status !== "open") throw new DomainError("wish_not_open", { params: { status: wish.status } });
  // Ops froze it (freezeWish, docs/operations.md): refuse before any provider call, so no PaymentIntent is left behind.
  if (wish.frozenAt != null) throw new DomainError("wish_frozen");
  if (deadlinePassed(wish.deadline, now)) throw new DomainError("wish_deadline_passed");
  if (input.currency !== wish.currency) {
    throw new DomainError("currency_mismatch", { field: "currency", params: { currency: wish.currency } });
  }
  const limits = CURRENCIES[wish.currency];
  if (input.amount < limits.minMinor) {
    throw new DomainError("amount_too_small", { field: "amount", params: { min: limits.minMinor, currency: wish.currency } });
  }
  const max = maxDonation(wish);
  if (input.amount > max) {
    throw new DomainError("amount_over_remaining", { field: "amount", params: { max, currency: wish.currency } });
  }

  const profile = await deps.db.collection("users").doc(uid).get();
  const profileName: unknown = profile.get("displayName");
  const donorDisplayName = typeof profileName === "string" ? profileName : typeof tokenName === "string" ? tokenName : null;

  // Customer and customer key first: if the provider is down here, nothing has been written yet.
  let customerId: string;
  let ephemeralKeySecret: string;
  try {
    customerId = await ensureCustomer(deps, uid);
    ephemeralKeySecret = (await deps.provider.createCustomerKey(customerId)).secret;
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw unavailable("customer", error);
  }

  const donationRef = requested ?? refs.donations(deps.db).doc();
  const donation: Donation = {
    wishId: input.wishId,
    donorId: uid,
    donorDisplayName,
    amount: input.amount,
    currency: wish.currency,
    message: input.message ? input.message : null,
    anonymous: input.anonymous ?? false,
    ...newPendingDonationState(now),
    customerId,
    paymentIntentId: null,
  };
  try {
    await donationRef.create(donation);
  } catch (error) {
    // ALREADY_EXISTS: a concurrent retry with the same requestId created it first; answer that one.
    const raced = requested && isFirestoreError(error, "already-exists") ? (await requested.get()).data() : undefined;
    if (requested && raced) return resumeDonation(deps, uid, requested.id, raced, input);
    throw error;
  }

  let payment: { paymentIntentId: string; clientSecret: string };
  try {
    payment = await createPaymentFor(deps, donationRef.id, donation, customerId);
  } catch (error) {
    // Explain the pending donation: it never reached the provider, and will never be charged.
    await donationRef.update({ status: "failed", paymentStatus: "failed", failureCode: "provider_unavailable", updatedAt: deps.clock.now() });
    throw unavailable("payment_intent", error);
  }
  await donationRef.update({ paymentIntentId: payment.paymentIntentId, updatedAt: deps.clock.now() });
  logger.info("donation created", { donationId: donationRef.id, wishId: input.wishId, amount: donation.amount, currency: donation.currency });
  return {
    donationId: donationRef.id,
    paymentIntentClientSecret: payment.clientSecret,
    customerId,
    ephemeralKeySecret,
  };
}
