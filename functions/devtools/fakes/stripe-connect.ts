// Connect for the fake Stripe server (devtools/fakes/stripe.ts), used by payouts (issue 6): Express accounts,
// account links (whose URL, opened in a browser, plays the owner finishing onboarding), and transfers from the
// platform balance with Idempotency-Key replay (the host does that), reversals and listing. Objects follow Stripe's
// fixtures (resources.account / account_link / transfer / transfer_reversal in /work/shared/stripe/fixtures3.json).
// Never deployed.
import { ScriptedErrors, StripeApiError, invalidParam, listPage, nowSeconds, randomId } from "./stripe-common";
import type { Obj } from "./stripe-common";

/** What the Connect routes need from the fake Stripe that hosts them. */
export interface ConnectHost {
  charges: Map<string, Obj>;
  /** Money disputes keep away from the platform in `currency` (open and lost disputes). */
  withdrawnByDisputes(currency: string): number;
  /** Records an event of `type` carrying `object` (for a Connect event, `account` names the connected account). */
  emit(type: string, object: Obj, account?: string): unknown;
  /** The fake's own base URL, for account links that a browser can open. */
  baseUrl(): string;
}

const ONBOARDING_DUE = ["external_account", "individual.dob.day", "individual.first_name", "individual.last_name", "tos_acceptance.date"];

function stringMap(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object") return {};
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, String(inner)]));
}

export class FakeStripeConnect {
  readonly accounts = new Map<string, Obj>();
  readonly transfers = new Map<string, Obj>();
  private readonly scripted = new ScriptedErrors();
  /** Money the platform holds from elsewhere (other products, earlier days), by currency: `addPlatformBalance`. */
  private readonly float = new Map<string, number>();

  constructor(private readonly host: ConnectHost) {}

  reset(): void {
    this.accounts.clear();
    this.transfers.clear();
    this.scripted.clear();
    this.float.clear();
  }

  /** The platform has `amount` more available in `currency` (lower-case), from business other than these wishes. */
  addPlatformBalance(currency: string, amount: number): void {
    this.float.set(currency, (this.float.get(currency) ?? 0) + amount);
  }

  /** The next `count` transfer creations fail with `code` (HTTP `status`), as Stripe would answer them. */
  failTransfers(count: number, code: string, status = 400, message = `Fake Stripe: scripted ${code}.`): void {
    this.scripted.set(count, code, status, message);
  }

  /** Transfers made for one transfer group (a wish), newest first. */
  transfersOf(transferGroup: string): Obj[] {
    return [...this.transfers.values()].filter((transfer) => transfer.transfer_group === transferGroup).reverse();
  }

  route(method: string, resource: string | undefined, id: string | undefined, params: Obj): Obj | undefined {
    if (resource === "accounts") {
      if (method === "POST" && !id) return this.createAccount(params);
      if (method === "GET" && id) return structuredClone(this.account(id));
    }
    if (resource === "account_links" && method === "POST" && !id) return this.createAccountLink(params);
    if (resource === "transfers") {
      if (method === "POST" && !id) return this.createTransfer(params);
      if (method === "GET" && id) return structuredClone(this.transfer(id));
      if (method === "GET" && !id) return this.listTransfers(params);
    }
    return undefined;
  }

  private account(id: string): Obj {
    const account = this.accounts.get(id);
    if (!account) throw new StripeApiError(404, { type: "invalid_request_error", code: "account_invalid", param: "account", message: `No such account: '${id}'` });
    return account;
  }

  private transfer(id: string): Obj {
    const transfer = this.transfers.get(id);
    if (!transfer) throw new StripeApiError(404, { type: "invalid_request_error", code: "resource_missing", param: "id", message: `No such transfer: '${id}'` });
    return transfer;
  }

  private createAccount(params: Obj): Obj {
    if (params.type !== "express") {
      throw invalidParam("type", "The fake supports Express accounts only.");
    }
    const id = randomId("acct");
    const requested = (params.capabilities as Obj | undefined)?.transfers as Obj | undefined;
    const account: Obj = {
      id,
      object: "account",
      business_profile: { mcc: null, name: null, product_description: null, support_email: null, support_phone: null, support_url: null, url: null },
      business_type: typeof params.business_type === "string" ? params.business_type : null,
      capabilities: requested?.requested === "true" ? { transfers: "inactive" } : {},
      charges_enabled: false,
      controller: { type: "application", is_controller: true },
      country: typeof params.country === "string" ? params.country : "CZ",
      created: nowSeconds(),
      default_currency: "czk",
      details_submitted: false,
      email: typeof params.email === "string" ? params.email : null,
      external_accounts: { object: "list", data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
      future_requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
      metadata: stringMap(params.metadata),
      payouts_enabled: false,
      requirements: {
        alternatives: [],
        current_deadline: null,
        currently_due: [...ONBOARDING_DUE],
        disabled_reason: "requirements.past_due",
        errors: [],
        eventually_due: [...ONBOARDING_DUE],
        past_due: [...ONBOARDING_DUE],
        pending_verification: [],
      },
      settings: { payouts: { debit_negative_balances: true, schedule: { delay_days: 7, interval: "daily" }, statement_descriptor: null } },
      tos_acceptance: { date: null, ip: null, user_agent: null },
      type: "express",
    };
    this.accounts.set(id, account);
    return structuredClone(account);
  }

  private createAccountLink(params: Obj): Obj {
    const accountId = typeof params.account === "string" ? params.account : "";
    this.account(accountId);
    for (const field of ["refresh_url", "return_url"]) {
      if (typeof params[field] !== "string") throw invalidParam(field, `Missing required param: ${field}.`);
    }
    if (params.type !== "account_onboarding" && params.type !== "account_update") {
      throw invalidParam("type", "Invalid type: must be account_onboarding or account_update.");
    }
    const created = nowSeconds();
    return { object: "account_link", created, expires_at: created + 300, url: `${this.host.baseUrl()}/_fake/onboarding/${accountId}` };
  }

  /** The owner finished Stripe's hosted onboarding: the account can receive transfers; Stripe sends account.updated. */
  completeOnboarding(accountId: string): unknown {
    const account = this.account(accountId);
    Object.assign(account, {
      capabilities: { transfers: "active" },
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      external_accounts: { object: "list", data: [{ id: randomId("ba"), object: "bank_account", country: account.country, currency: "czk", last4: "6789", status: "new" }], has_more: false, url: `/v1/accounts/${accountId}/external_accounts` },
      requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
      tos_acceptance: { date: nowSeconds(), ip: "127.0.0.1", user_agent: "fake-browser" },
    });
    return this.host.emit("account.updated", account, accountId);
  }

  /** The platform's available balance in `currency`: charges, less refunds, disputes and transfers, plus reversals. */
  availableBalance(currency: string): number {
    let balance = (this.float.get(currency) ?? 0) - this.host.withdrawnByDisputes(currency);
    for (const charge of this.host.charges.values()) {
      if (charge.currency === currency && charge.status === "succeeded") balance += Number(charge.amount) - Number(charge.amount_refunded);
    }
    for (const transfer of this.transfers.values()) {
      if (transfer.currency === currency) balance -= Number(transfer.amount) - Number(transfer.amount_reversed);
    }
    return balance;
  }

  private createTransfer(params: Obj): Obj {
    this.scripted.throwIfDue((status, body) => new StripeApiError(status, body));
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1) throw invalidParam("amount", "Invalid positive integer", "parameter_invalid_integer");
    const currency = typeof params.currency === "string" ? params.currency : "";
    const destination = typeof params.destination === "string" ? params.destination : "";
    const account = this.account(destination);
    if ((account.capabilities as Obj).transfers !== "active") {
      throw new StripeApiError(400, {
        type: "invalid_request_error",
        code: "insufficient_capabilities_for_transfer",
        param: "destination",
        message: "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      });
    }
    if (amount > this.availableBalance(currency)) {
      throw new StripeApiError(400, { type: "invalid_request_error", code: "balance_insufficient", message: "You have insufficient available funds in your Stripe account." });
    }
    const id = randomId("tr");
    const transfer: Obj = {
      id,
      object: "transfer",
      amount,
      amount_reversed: 0,
      balance_transaction: randomId("txn"),
      created: nowSeconds(),
      currency,
      description: null,
      destination,
      destination_payment: randomId("py"),
      livemode: false,
      metadata: stringMap(params.metadata),
      reversals: { object: "list", data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
      reversed: false,
      source_transaction: null,
      source_type: "card",
      transfer_group: typeof params.transfer_group === "string" ? params.transfer_group : null,
    };
    this.transfers.set(id, transfer);
    this.host.emit("transfer.created", transfer);
    return structuredClone(transfer);
  }

  /** The platform reverses (part of) a transfer, e.g. ops recovering money; Stripe sends transfer.reversed. */
  reverseTransfer(transferId: string, amount?: number): unknown {
    const transfer = this.transfer(transferId);
    const reversal: Obj = {
      id: randomId("trr"),
      object: "transfer_reversal",
      amount: amount ?? Number(transfer.amount) - Number(transfer.amount_reversed),
      balance_transaction: randomId("txn"),
      created: nowSeconds(),
      currency: transfer.currency,
      destination_payment_refund: randomId("pyr"),
      metadata: {},
      source_refund: null,
      transfer: transferId,
    };
    (transfer.reversals as { data: Obj[] }).data.unshift(reversal);
    transfer.amount_reversed = Number(transfer.amount_reversed) + Number(reversal.amount);
    transfer.reversed = transfer.amount_reversed === transfer.amount;
    return this.host.emit("transfer.reversed", transfer);
  }

  private listTransfers(params: Obj): Obj {
    const transfers = [...this.transfers.values()]
      .filter((transfer) => !params.transfer_group || transfer.transfer_group === params.transfer_group)
      .filter((transfer) => !params.destination || transfer.destination === params.destination);
    return listPage(transfers, params, "/v1/transfers");
  }
}
