import { CURRENCIES } from "../config";

/**
 * The languages the backend speaks to people (pushes, inbox items, callable error messages): English and Czech.
 * Anything else falls back to English. The apps ship the same keys in their own string files.
 */
export const LOCALES = ["en", "cs"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

/** "cs-CZ", "cs_CZ", "CS" → "cs"; anything we do not speak → undefined. */
export function toLocale(tag: unknown): Locale | undefined {
  if (typeof tag !== "string") return undefined;
  const language = tag.trim().toLowerCase().split(/[-_]/)[0];
  return LOCALES.find((locale) => locale === language);
}

/** The first candidate we speak (device locale, then the account's settings locale, ...), else English. */
export function pickLocale(...candidates: unknown[]): Locale {
  for (const candidate of candidates) {
    const locale = toLocale(candidate);
    if (locale) return locale;
  }
  return DEFAULT_LOCALE;
}

/**
 * The best language we speak from an HTTP `Accept-Language` header ("cs-CZ,cs;q=0.9,en;q=0.8"), by its q-values
 * (ties keep the header's order); undefined when the header names none of ours (the caller then falls back).
 */
export function localeFromAcceptLanguage(header: unknown): Locale | undefined {
  if (typeof header !== "string") return undefined;
  const ranked = header
    .split(",")
    .map((part, order) => {
      const [tag = "", ...options] = part.trim().split(";");
      const q = options.map((option) => /^\s*q=([0-9.]+)\s*$/.exec(option)?.[1]).find((value) => value !== undefined);
      return { locale: toLocale(tag), q: q === undefined ? 1 : Number(q), order };
    })
    .filter((entry) => entry.locale !== undefined && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  return ranked[0]?.locale;
}

const INTL_LOCALE: Record<Locale, string> = { en: "en-GB", cs: "cs-CZ" };

/** 150000 CZK → "CZK 1,500.00" (en) / "1 500,00 Kč" (cs). Amounts are integer minor units. */
export function formatMoney(amount: number, currency: string, locale: Locale): string {
  const exponent = currency in CURRENCIES ? CURRENCIES[currency as keyof typeof CURRENCIES].exponent : 2;
  const major = amount / 10 ** exponent;
  try {
    return new Intl.NumberFormat(INTL_LOCALE[locale], { style: "currency", currency, currencyDisplay: locale === "cs" ? "symbol" : "code" }).format(major);
  } catch {
    return `${major.toFixed(exponent)} ${currency}`;
  }
}

/**
 * A Czech count with the noun's form for it, as after "za", "alespoň", "nejvýše": 1 minutu, 2–4 minuty, 5+ minut
 * (the number formatted for Czech: 1 234).
 */
export function czechCount(count: number, one: string, few: string, many: string): string {
  return `${formatNumber(count, "cs")} ${count === 1 ? one : count >= 2 && count <= 4 ? few : many}`;
}

/** 1234 → "1,234" (en) / "1 234" (cs). */
export function formatNumber(value: number, locale: Locale): string {
  return new Intl.NumberFormat(INTL_LOCALE[locale]).format(value);
}
