import type { Firestore } from "firebase-admin/firestore";
import { DomainError, parseInput } from "../lib/errors";
import { logger } from "../lib/log";
import { z } from "zod";
import type { Clock } from "../lib/clock";
import { admit } from "../lib/admission";
import type { PayoutAccount } from "../model/payout";
import { PaymentProviderError } from "../payments/provider";
import type { ProviderAccountState } from "../payments/provider";
import { accountRef as privateAccountRef } from "../store/social";
import { payoutAccountRef } from "./payouts";
import type { ConnectAccounts } from "../payments/transfers";

/**
 * Onboarding owners for payouts (Stripe Connect Express). `createPayoutAccountLink()` creates the caller's connected
 * account the first time (one per user, even under concurrent first calls: the idempotency key is the uid) and
 * returns a single-use link to Stripe's hosted onboarding, which the app opens in a browser. Each call also reads the
 * account's current state from Stripe, so a lost account.updated webhook is repaired the next time the user looks.
 */
export interface OnboardingDeps {
  db: Firestore;
  clock: Clock;
  provider: ConnectAccounts;
  /** Where Stripe sends the user back: when done (`returnUrl`), or when the link expired (`refreshUrl`). */
  urls: { returnUrl: string; refreshUrl: string };
}

export const createPayoutAccountLinkInput = z.object({}).strict();

export interface PayoutAccountLink {
  url: string;
  expiresAt: string;
  transfersActive: boolean;
  requirementsDue: string[];
}

export function connectAccountIdempotencyKey(uid: string): string {
  return `connect-account-${uid}`;
}

/**
 * The stored state of an account read from the provider at `atMs`. Stripe's event times have one-second resolution,
 * so the read is stamped with the start of its second: an account.updated from that same second still applies.
 */
function stateFields(state: ProviderAccountState, atMs: number) {
  const { transfersActive, payoutsEnabled, detailsSubmitted, requirementsDue } = state;
  return { transfersActive, payoutsEnabled, detailsSubmitted, requirementsDue, stateAt: Math.floor(atMs / 1000) * 1000 };
}

async function providerCall<T>(what: string, uid: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!(error instanceof PaymentProviderError)) throw error;
    logger.warn("payout onboarding: provider call failed", { what, uid, code: error.providerCode });
    throw new DomainError("provider_unavailable");
  }
}

/** Creates or refreshes `payoutAccounts/{uid}`, returning the stored account. */
async function ensureAccount(deps: OnboardingDeps, uid: string): Promise<PayoutAccount> {
  const ref = payoutAccountRef(deps.db, uid);
  const existing = (await ref.get()).data();
  if (existing) {
    const state = await providerCall("retrieve account", uid, () => deps.provider.retrieveAccount(existing.accountId));
    const now = deps.clock.now();
    const refreshed = { ...stateFields(state, now.getTime()), updatedAt: now };
    await ref.update(refreshed);
    return { ...existing, ...refreshed };
  }
  const email = ((await privateAccountRef(deps.db, uid).get()).get("email") as string | null | undefined) ?? null;
  const state = await providerCall("create account", uid, () =>
    deps.provider.createAccount({ uid, email, idempotencyKey: connectAccountIdempotencyKey(uid) }),
  );
  const now = deps.clock.now();
  const created: PayoutAccount = { uid, provider: "stripe", accountId: state.accountId, ...stateFields(state, now.getTime()), createdAt: now, updatedAt: now };
  // A concurrent first call got the same account from Stripe (same idempotency key); whichever stores it first wins.
  return deps.db.runTransaction(async (tx) => {
    const raced = (await tx.get(ref)).data();
    if (raced) return raced;
    tx.create(ref, created);
    logger.info("payout account created", { uid, accountId: state.accountId });
    return created;
  });
}

export async function createPayoutAccountLink(deps: OnboardingDeps, uid: string, data: unknown): Promise<PayoutAccountLink> {
  parseInput(createPayoutAccountLinkInput, data);
  await admit(deps, uid);
  const account = await ensureAccount(deps, uid);
  const link = await providerCall("create account link", uid, () =>
    deps.provider.createOnboardingLink({ accountId: account.accountId, refreshUrl: deps.urls.refreshUrl, returnUrl: deps.urls.returnUrl }),
  );
  return { url: link.url, expiresAt: new Date(link.expiresAtMs).toISOString(), transfersActive: account.transfersActive, requirementsDue: account.requirementsDue };
}
