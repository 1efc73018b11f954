import { DomainError, parseInput } from "../lib/errors";
import { z } from "zod";
import { admit } from "../lib/admission";
import { idSchema } from "../lib/ids";
import { requireVisibleWish } from "../lib/visibility";
import type { Donation } from "../model/donation";
import { CURRENCIES, currencySchema, minorAmountSchema } from "../model/money";
import type { Currency } from "../model/money";
import { requestDocId, requestIdSchema } from "../lib/requests";
import { refs } from "../store/donations";
import { cardRail } from "./card";
import type { PaymentDeps } from "./card";
import type { DonateResult, DonationRail, OtherRails } from "./rails";
import { DONATION_METHODS, newPendingDonationState } from "../model/donation";
import type { DonationMethod } from "../model/donation";
import { deadlinePassed } from "../lib/deadline";
import { wishIsBusy } from "../model/wish";
import type { Wish } from "../model/wish";

/** Callable input. `.strict()`: a client cannot smuggle in a status, a donor or anything else. */
export const donateInput = z
  .object({
    wishId: idSchema,
    amount: minorAmountSchema,
    currency: currencySchema,
    message: z.string().trim().max(500).optional(),
    anonymous: z.boolean().optional(),
    /** How the donor pays (docs/donations.md, "Payment rails"); card when absent. */
    method: z.enum(DONATION_METHODS).default("card"),
    /** Client-chosen id of this donation attempt: a retried call with the same id answers the same donation. */
    requestId: requestIdSchema.optional(),
  })
  .strict();

export type { BankTransferDonateResult, BitcoinDonateResult, CardDonateResult, DonateResult } from "./rails";
/** The card rail's Stripe port, and the other rails built with their own ports (a missing one is switched off). */
export type DonateDeps = PaymentDeps & { rails?: OtherRails };

/**
 * The most a donation may be, given what the wish still needs (overfunding policy, docs/donations.md): at most the
 * remaining amount, but never less than the currency's minimum charge, so a wish can always be completed.
 */
export function maxDonation(wish: { amount: number; raised: number; currency: Currency }): number {
  const limits = CURRENCIES[wish.currency];
  return Math.min(limits.maxMinor, Math.max(wish.amount - wish.raised, limits.minMinor));
}

function railOf(deps: DonateDeps, method: DonationMethod): DonationRail {
  const rail = method === "card" ? cardRail(deps) : deps.rails?.[method];
  if (!rail) throw new DomainError("payment_method_unavailable", { field: "method", params: { method } });
  return rail;
}

/**
 * A `donate` retried with the `requestId` of a donation that exists answers the same donation, but only if it is the
 * same request: a requestId reused for another wish, amount, currency or method is refused, and a donation that is
 * already paid or canceled cannot be paid again.
 */
function requireResumable(uid: string, existing: Donation, input: z.infer<typeof donateInput>): void {
  if (
    existing.donorId !== uid ||
    existing.wishId !== input.wishId ||
    existing.amount !== input.amount ||
    existing.currency !== input.currency ||
    existing.method !== input.method
  ) {
    throw new DomainError("request_id_reused", { field: "requestId" });
  }
  if (existing.paymentStatus === "succeeded" || existing.paymentStatus === "canceled") {
    throw new DomainError("donation_already_final", { params: { status: existing.paymentStatus } });
  }
}

/**
 * The wish checks every `donate` passes, a new donation and a retried one alike (a retry hands out a live payment
 * again, so the wish must still take this donor's money now, not only when the first call ran): the caller sees the
 * wish, does not own it, and it is open, not frozen and before its deadline.
 */
function requireDonatableWish(wish: Wish | undefined, uid: string, now: Date): Wish {
  // A missing wish and a wish the caller may not see (e.g. a surprise for them) are indistinguishable.
  const visible = requireVisibleWish(wish, uid);
  if (visible.ownerId === uid) throw new DomainError("donate_own_wish");
  if (visible.status !== "open") throw new DomainError("wish_not_open", { params: { status: visible.status } });
  // Ops froze it (freezeWish, docs/operations.md): refuse before any provider call, so no payment is left behind.
  if (visible.frozenAt != null) throw new DomainError("wish_frozen");
  if (deadlinePassed(visible.deadline, now)) throw new DomainError("wish_deadline_passed");
  return visible;
}

/**
 * F15: creates a pending donation and its provider payment through the rail of `method`, and returns what the app
 * needs to pay (card: the Payment Sheet; bitcoin: the invoice's checkout link; bank transfer: payment instructions).
 * The amount and currency the provider asks for are the server-validated ones; no callable can mark a donation paid
 * (only verified provider events move money state).
 */
/** `tokenName` is the caller's auth token name: the donor's display name when their profile has none. */
export async function donate(deps: DonateDeps, uid: string, data: unknown, tokenName?: unknown): Promise<DonateResult> {
  const input = parseInput(donateInput, data);
  await admit(deps, uid, "donations");
  const now = deps.clock.now();
  const requested = input.requestId ? refs.donation(deps.db, requestDocId(uid, input.requestId)) : undefined;
  const earlier = requested ? (await requested.get()).data() : undefined;
  if (requested && earlier) {
    // A retry of a donation that exists answers the same payment again, after the same wish checks as a new one: the
    // donor may have lost sight of the wish, or it may have been frozen or closed since. A refused retry leaves the
    // payment as it is (docs/donations.md, "donate callable").
    requireResumable(uid, earlier, input);
    requireDonatableWish((await refs.wish(deps.db, input.wishId).get()).data(), uid, now);
    return railOf(deps, earlier.method).resume(uid, requested.id, earlier);
  }
  const rail = railOf(deps, input.method);

  const wishSnap = await refs.wish(deps.db, input.wishId).get();
  const wish = requireDonatableWish(wishSnap.data(), uid, now);
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

  const donation: Donation = {
    wishId: input.wishId,
    donorId: uid,
    donorDisplayName,
    amount: input.amount,
    currency: wish.currency,
    message: input.message ? input.message : null,
    anonymous: input.anonymous ?? false,
    // A viral wish: its confirmation goes to a shard without the webhook reading the wish (ledger.ts).
    ...(wishIsBusy(wish, wishSnap.readTime.toMillis()) ? { busyWish: true } : {}),
    ...newPendingDonationState(now, input.method),
    customerId: null,
    paymentIntentId: null,
  };
  return rail.start({
    uid,
    wish,
    donationRef: requested ?? refs.donations(deps.db).doc(),
    donation,
    // A concurrent retry created it first: this call has just passed the wish checks.
    answerRaced: requested
      ? (existing) => {
          requireResumable(uid, existing, input);
          return railOf(deps, existing.method).resume(uid, requested.id, existing);
        }
      : null,
  });
}
