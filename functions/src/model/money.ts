import { z } from "zod";

/**
 * Currencies we accept, with the smallest and largest wish/donation amount in minor units.
 * Minimums follow Stripe's minimum charge amounts (e.g. 15.00 CZK, 0.50 EUR/USD); maximums cap the risk of one wish.
 */
export const CURRENCIES = {
  CZK: { minMinor: 1_500, maxMinor: 10_000_000, exponent: 2 },
  EUR: { minMinor: 50, maxMinor: 500_000, exponent: 2 },
  USD: { minMinor: 50, maxMinor: 500_000, exponent: 2 },
  GBP: { minMinor: 30, maxMinor: 500_000, exponent: 2 },
  PLN: { minMinor: 200, maxMinor: 2_000_000, exponent: 2 },
} as const;

export const currencySchema = z.enum(Object.keys(CURRENCIES) as [keyof typeof CURRENCIES, ...(keyof typeof CURRENCIES)[]], {
  message: `must be one of ${Object.keys(CURRENCIES).join(", ")}`,
});
export type Currency = z.infer<typeof currencySchema>;

/** Integer amount in minor units (haléře, cents). */
export const minorAmountSchema = z.number().int("must be an integer amount in minor units").positive("must be positive");
