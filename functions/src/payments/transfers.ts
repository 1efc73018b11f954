import type Stripe from "stripe";
import type { ProviderAccountState, ProviderTransfer } from "./provider";
import { callStripe, stripeListSince, toAccountState, toProviderTransfer } from "./stripe";

/**
 * What payouts need from the payment provider: Connect accounts, onboarding links and transfers. A seam of its own
 * beside `PaymentProvider` (donations) and `ClosingProvider` (refunds). Errors are `PaymentProviderError`s whose
 * `providerCode` is the provider's error code (e.g. `balance_insufficient`).
 */
export interface TransferInput {
  amount: number;
  currency: string;
  destination: string;
  wishId: string;
  ownerId: string;
  seq: number;
  idempotencyKey: string;
}

/** The Connect-accounts port: onboarding (payouts/accounts.ts). */
export interface ConnectAccounts {
  /** Creates a Connect account for a user. Idempotent per `idempotencyKey` (concurrent first calls). */
  createAccount(input: { uid: string; email: string | null; idempotencyKey: string }): Promise<ProviderAccountState>;
  retrieveAccount(accountId: string): Promise<ProviderAccountState>;
  /** A single-use, short-lived URL of the provider's hosted onboarding. */
  createOnboardingLink(input: { accountId: string; refreshUrl: string; returnUrl: string }): Promise<{ url: string; expiresAtMs: number }>;
}

/** The transfers port: paying a wish's owner (payouts/payouts.ts) and finding what was paid (reconciliation, audit). */
export interface Transfers {
  /** Moves `amount` from the platform to the connected account. Idempotent per `idempotencyKey` (24 h at Stripe). */
  transfer(input: TransferInput): Promise<ProviderTransfer>;
  /** Every transfer made for one wish (to adopt a transfer whose result an earlier attempt never stored). */
  transfersOfWish(wishId: string): Promise<ProviderTransfer[]>;
  /** Every transfer created at or after `since`, newest first (auto-paginated; for reconciliation). */
  transfersSince(since: Date): AsyncIterable<ProviderTransfer>;
}

/** Both ports, as one Stripe client implements them. */
export type PayoutProvider = ConnectAccounts & Transfers;

/** Transfers of a wish share this transfer_group, so Stripe's dashboard and list filter show them together. */
export const transferGroupOf = (wishId: string) => `wish_${wishId}`;

/** The Stripe implementation (the client comes from src/payments/stripe.ts: fake server in the emulator). */
export class StripePayoutProvider implements PayoutProvider {
  constructor(private readonly stripe: Stripe) {}

  createAccount(input: { uid: string; email: string | null; idempotencyKey: string }) {
    return callStripe(async () => {
      const account = await this.stripe.accounts.create(
        {
          type: "express",
          capabilities: { transfers: { requested: true } },
          business_type: "individual",
          ...(input.email ? { email: input.email } : {}),
          metadata: { uid: input.uid },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return toAccountState(account);
    });
  }

  retrieveAccount(accountId: string) {
    return callStripe(async () => toAccountState(await this.stripe.accounts.retrieve(accountId)));
  }

  createOnboardingLink(input: { accountId: string; refreshUrl: string; returnUrl: string }) {
    return callStripe(async () => {
      const link = await this.stripe.accountLinks.create({
        account: input.accountId,
        refresh_url: input.refreshUrl,
        return_url: input.returnUrl,
        type: "account_onboarding",
      });
      return { url: link.url, expiresAtMs: link.expires_at * 1000 };
    });
  }

  transfer(input: TransferInput) {
    return callStripe(async () => {
      const transfer = await this.stripe.transfers.create(
        {
          amount: input.amount,
          currency: input.currency.toLowerCase(),
          destination: input.destination,
          transfer_group: transferGroupOf(input.wishId),
          metadata: { wishId: input.wishId, ownerId: input.ownerId, seq: String(input.seq) },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return toProviderTransfer(transfer);
    });
  }

  transfersOfWish(wishId: string) {
    return callStripe(async () => {
      const list = await this.stripe.transfers.list({ transfer_group: transferGroupOf(wishId), limit: 100 });
      return list.data.map(toProviderTransfer);
    });
  }

  transfersSince(since: Date): AsyncIterable<ProviderTransfer> {
    return stripeListSince((params) => this.stripe.transfers.list(params), since, toProviderTransfer);
  }
}
