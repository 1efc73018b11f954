import { toDecimal } from "./fio";

/**
 * The Czech QR payment string ("QR Platba", Short Payment Descriptor 1.0 of the Czech Banking Association):
 * `SPD*1.0*ACC:<IBAN>*AM:<amount>*CC:<currency>*X-VS:<symbol>*MSG:<message>`. The app renders it as a QR code; every
 * Czech banking app reads it. What we emit, by the specification:
 * - keys and values are separated by `:`, pairs by `*`; a `*` inside a value is written `%2A` (and `%` itself `%25`,
 *   since `%` starts an escape);
 * - ACC: the IBAN (max 46 characters with an optional `+BIC`); AM: at most 10 characters, 2 decimals, dot separator,
 *   at most 9 999 999.99; CC: ISO 4217; X-VS: at most 10 digits; MSG: at most 60 characters; RN: at most 35;
 * - characters: we transliterate Czech diacritics and upper-case the text, keeping to the QR alphanumeric set
 *   (0-9 A-Z space $ % + - . / :), which every reader accepts and which keeps the QR code small;
 * - no DT (due date): a banking app would schedule the payment for that date instead of sending it now.
 */

export const SPD_LIMITS = { acc: 46, am: 10, msg: 60, rn: 35, vs: 10 } as const;

export interface SpdPayment {
  iban: string;
  /** Minor units, 1..999 999 999. */
  amount: number;
  currency: string;
  variableSymbol: string;
  message?: string | null;
  recipientName?: string | null;
}

/** Upper-case ASCII of the QR alphanumeric set; other characters become spaces, runs of spaces one. */
export function spdText(value: string): string {
  return value
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toUpperCase()
    .replace(/[^0-9A-Z $%*+\-./:]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Escapes `%` and `*` and cuts to `max` characters without splitting an escape. */
export function spdValue(value: string, max: number): string {
  let out = "";
  for (const char of value) {
    const piece = char === "%" ? "%25" : char === "*" ? "%2A" : char;
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out.trim();
}

export function buildSpd(payment: SpdPayment): string {
  const iban = payment.iban.replace(/\s+/g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$/.test(iban) || iban.length > SPD_LIMITS.acc) throw new Error(`SPD: not an IBAN: ${iban}`);
  const amount = toDecimal(payment.amount);
  if (!Number.isInteger(payment.amount) || payment.amount <= 0 || amount.length > SPD_LIMITS.am) throw new Error(`SPD: amount out of range: ${payment.amount}`);
  if (!/^[A-Z]{3}$/.test(payment.currency)) throw new Error(`SPD: not a currency: ${payment.currency}`);
  if (!/^\d{1,10}$/.test(payment.variableSymbol)) throw new Error(`SPD: not a variable symbol: ${payment.variableSymbol}`);
  const pairs = [`ACC:${iban}`, `AM:${amount}`, `CC:${payment.currency}`, `X-VS:${payment.variableSymbol}`];
  const message = payment.message ? spdValue(spdText(payment.message), SPD_LIMITS.msg) : "";
  if (message) pairs.push(`MSG:${message}`);
  const name = payment.recipientName ? spdValue(spdText(payment.recipientName), SPD_LIMITS.rn) : "";
  if (name) pairs.push(`RN:${name}`);
  return `SPD*1.0*${pairs.join("*")}`;
}
