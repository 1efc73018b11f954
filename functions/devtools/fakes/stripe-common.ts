// Pieces the fake Stripe's modules share (devtools/fakes/stripe*.ts): Stripe-like ids, times, scripted errors and
// the list endpoint's paging. Never deployed.
import { randomBytes } from "node:crypto";

export type Obj = Record<string, unknown>;

/** A Stripe-looking id: `pi_`, `re_`, `tr_`… followed by 24 random alphanumerics. */
export function randomId(prefix: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (const byte of randomBytes(24)) out += alphabet[byte % alphabet.length];
  return `${prefix}_${out}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export type ApiErrorBody = { type: string; code?: string; message: string; param?: string };

/**
 * An error answer of the API. `stored`: Stripe's idempotency layer saves the answer of a request whose endpoint began
 * executing, errors included, and replays it for the same key; it saves nothing for a request that failed validation
 * or conflicted with a concurrent one (https://docs.stripe.com/api/idempotent_requests), so those may be retried.
 */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
    readonly stored = true,
  ) {
    super(body.message);
  }
}

/** A parameter Stripe rejects before executing anything (not stored under the idempotency key). */
export function invalidParam(param: string, message: string, code?: string): StripeApiError {
  return new StripeApiError(400, { type: "invalid_request_error", param, message, ...(code ? { code } : {}) }, false);
}

/** The next `count` calls of one operation answer a given Stripe error (`failRefunds`, `failTransfers`). */
export class ScriptedErrors {
  private scripted: { count: number; status: number; code: string; message: string } | undefined;

  set(count: number, code: string, status: number, message: string): void {
    this.scripted = { count, status, code, message };
  }

  clear(): void {
    this.scripted = undefined;
  }

  /** Throws the scripted error (made by `error`) if one is due. */
  throwIfDue(error: (status: number, body: ApiErrorBody) => Error): void {
    if (!this.scripted || this.scripted.count <= 0) return;
    this.scripted.count -= 1;
    const { status, code, message } = this.scripted;
    throw error(status, { type: status >= 500 ? "api_error" : "invalid_request_error", code, message });
  }
}

/**
 * Stripe's list answer over `objects` (in creation order): newest first, `created[gte]` (the GET query arrives as
 * that literal key), `limit` (default 10, at most 100), `starting_after`, `has_more`.
 */
export function listPage(objects: Obj[], params: Obj, url: string): Obj {
  const limit = Math.min(Number(params.limit ?? 10) || 10, 100);
  const createdGte = Number(params["created[gte]"] ?? (params.created as Obj | undefined)?.gte ?? 0) || 0;
  const startingAfter = typeof params.starting_after === "string" ? params.starting_after : undefined;
  // Reversed insertion order first, so objects created in the same second keep newest-first order.
  let all = [...objects].reverse().sort((a, b) => Number(b.created) - Number(a.created));
  if (startingAfter) all = all.slice(all.findIndex((object) => object.id === startingAfter) + 1);
  all = all.filter((object) => Number(object.created) >= createdGte);
  const page = all.slice(0, limit);
  return { object: "list", data: structuredClone(page), has_more: all.length > page.length, url };
}
