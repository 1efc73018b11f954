import { z } from "zod";
import { CURRENCIES } from "../config";

export { CURRENCIES };

export const currencySchema = z.enum(Object.keys(CURRENCIES) as [keyof typeof CURRENCIES, ...(keyof typeof CURRENCIES)[]]);
export type Currency = z.infer<typeof currencySchema>;

/** Integer amount in minor units (haléře, cents). */
export const minorAmountSchema = z.number().int().positive();
