// Constants of the product (region, rate limits, moderation threshold). Deploy-time params and secrets are declared
// in src/api/params.ts: only the api layer reads them and hands the values to the domain.

/** Every function runs here: close to our Czech and European users. */
export const REGION = "europe-west1";

/**
 * Rate limits per user (docs/security.md, "Rate limits"): at most `max` actions in a window of `windowSeconds` that
 * starts at the first action after the previous window ended. The callables enforce them server-side
 * (src/lib/rate-limit.ts); comments are client writes, so firestore.rules enforces `comments` with the same numbers
 * (a unit test keeps the two in step). Over the limit: `resource-exhausted` with the time to retry.
 */
export const RATE_LIMITS = {
  friendRequests: { max: 20, windowSeconds: 60 * 60, noun: "friend requests" },
  comments: { max: 30, windowSeconds: 10 * 60, noun: "comments" },
  wishes: { max: 10, windowSeconds: 60 * 60, noun: "new wishes" },
  donations: { max: 10, windowSeconds: 60 * 60, noun: "donation attempts" },
  reports: { max: 10, windowSeconds: 60 * 60, noun: "reports" },
} as const;
export type RateLimitedAction = keyof typeof RATE_LIMITS;

/** Moderation (docs/operations.md, "Reports"): this many distinct reporters hide a wish or comment pending review. */
export const REPORT_HIDE_THRESHOLD = 3;

/**
 * Currencies we accept, with the smallest and largest wish/donation amount in minor units (model/money.ts builds the
 * schemas from this table; lib/locale.ts formats amounts with its exponents).
 * Minimums follow Stripe's minimum charge amounts (e.g. 15.00 CZK, 0.50 EUR/USD); maximums cap the risk of one wish.
 */
export const CURRENCIES = {
  CZK: { minMinor: 1_500, maxMinor: 10_000_000, exponent: 2 },
  EUR: { minMinor: 50, maxMinor: 500_000, exponent: 2 },
  USD: { minMinor: 50, maxMinor: 500_000, exponent: 2 },
  GBP: { minMinor: 30, maxMinor: 500_000, exponent: 2 },
  PLN: { minMinor: 200, maxMinor: 2_000_000, exponent: 2 },
} as const;
