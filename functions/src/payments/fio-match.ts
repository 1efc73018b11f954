import type { FioMovement } from "./fio";

/**
 * What one bank movement means for us: a pure function of the movement and what we hold for its variable symbol at
 * the moment it is first decided (src/settlement/fio.ts stores the decision on the movement's record in the same
 * transaction that claims the reference, so a movement is decided once, and two movements for one symbol are decided
 * one after the other). The rules (docs/donations.md, "Bank transfer"):
 * - exact amount → the donation succeeds;
 * - less than asked → the donation succeeds with what arrived (nothing waits for "the rest"; to give more, donate again);
 * - more than asked → booked as it arrived (the ledger holds what the bank statement shows); the excess over the amount
 *   asked goes back through the ordinary refund machinery (settleDonation's `overpayment` refund: a Fio order), and the
 *   payout holds it back meanwhile (src/payouts/payouts.ts), the same rule as bitcoin;
 * - timeliness is the bank's booking date (`date`, a day in Prague), never the time we happen to read the feed: a
 *   movement booked on or before the day the wish stopped taking money (its deadline, or the day it was closed or
 *   expired, whichever is earlier) is booked, even if the wish has closed since (a Fio outage, a slow poller) — the
 *   ordinary refund path then refunds it, as any donation to a closed wish; booked after that day → everything goes
 *   back, nothing is booked. A funded wish takes no more money (everything goes back);
 * - the reference expired or was paid already → everything goes back, nothing is booked. A reference expires only
 *   once the feed is known complete past the end of its expiry day (src/settlement/fio.ts), so every movement booked
 *   on or before that day has been decided (and booked) before it closes;
 * - an unknown symbol (or none) → an ops finding (it may not be ElateMe's money at all);
 * - money we would send back but cannot by a domestic order (a foreign account, no counter account, another currency)
 *   → an ops finding to return it by hand.
 */

/** The variable symbol's reference as the matcher needs it (`bankTransferReferences/{vs}`). */
export interface ReferenceView {
  donationId: string;
  wishId: string;
  /** What the donation asked for, in minor units of `currency`. */
  amount: number;
  currency: string;
  /** The movement that paid it; null while unpaid. */
  paidByMovementId: string | null;
  /** Set when the reference stopped taking money (the donation expired or was canceled). */
  closedAt: Date | null;
}

export interface WishView {
  status: string;
  deadline: Date;
  /** When it was closed or expired (null while open). */
  closedAt?: Date | null;
}

/** Fio's booking dates are days in Prague. */
export const BANK_TIME_ZONE = "Europe/Prague";
const bankDayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: BANK_TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" });

/** The bank day ("YYYY-MM-DD", Prague) an instant falls on. */
export function bankDay(at: Date): string {
  return bankDayFormat.format(at);
}

/** The first instant of the bank day `at` falls on (midnight in Prague: 23:00 or 22:00 UTC the day before). */
export function startOfBankDay(at: Date): Date {
  const day = bankDay(at);
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  for (const hours of [1, 2, 0, 3]) {
    const candidate = new Date(utcMidnight - hours * 3_600_000);
    if (bankDay(candidate) === day && bankDay(new Date(candidate.getTime() - 1)) !== day) return candidate;
  }
  return new Date(utcMidnight - 3_600_000);
}

/**
 * The last bank day on which money booked for the wish is in time: its deadline's day, or the day it was closed or
 * expired if earlier. Null: a funded wish, which takes no more money.
 */
export function wishLastBankDay(wish: WishView): string | null {
  if (wish.status === "open") return bankDay(wish.deadline);
  if (wish.status !== "closed" && wish.status !== "expired") return null;
  const closedAt = wish.closedAt ?? wish.deadline;
  return bankDay(closedAt.getTime() < wish.deadline.getTime() ? closedAt : wish.deadline);
}

export type ReturnReason = "wish_closed" | "reference_closed" | "already_paid";

export type IncomingDecision =
  | { kind: "book"; donationId: string; received: number }
  | { kind: "return"; donationId: string | null; amount: number; reason: ReturnReason }
  | { kind: "manual_return"; donationId: string | null; amount: number; reason: ReturnReason | "foreign_currency"; why: "foreign_account" | "foreign_currency" }
  | { kind: "unknown_reference" };

export type OutgoingDecision = { kind: "order_executed"; orderId: string } | { kind: "not_ours" };

export type MovementDecision = IncomingDecision | OutgoingDecision;

/** The comment we give every order we import (column25 of its movement): how we recognise it in the feed. */
export const ORDER_COMMENT_PREFIX = "ELATEME-ORDER-";
export const orderComment = (orderId: string) => `${ORDER_COMMENT_PREFIX}${orderId}`;

/** Variable symbols are 1-10 digits; banks drop leading zeros, so "0012" and "12" are one symbol. */
export function normaliseVariableSymbol(value: string | null): string | null {
  if (!value || !/^\d{1,10}$/.test(value.trim())) return null;
  const trimmed = value.trim().replace(/^0+/, "");
  return trimmed === "" ? null : trimmed;
}

/** A Czech domestic account we can send a return order to: an account number and a 4-digit bank code. */
export function canReturnDomestically(movement: Pick<FioMovement, "counterAccount" | "bankCode" | "bic">): boolean {
  return !!movement.counterAccount && /^(\d{1,6}-)?\d{1,10}$/.test(movement.counterAccount) && !!movement.bankCode && /^\d{4}$/.test(movement.bankCode);
}

function giveBack(movement: FioMovement, donationId: string | null, amount: number, reason: ReturnReason): IncomingDecision {
  if (!canReturnDomestically(movement)) return { kind: "manual_return", donationId, amount, reason, why: "foreign_account" };
  return { kind: "return", donationId, amount, reason };
}

export function decideIncoming(movement: FioMovement, reference: ReferenceView | null, wish: WishView | null): IncomingDecision {
  if (!reference) return { kind: "unknown_reference" };
  const received = movement.amount;
  if (movement.currency !== reference.currency) {
    // A CZK account credits CZK only (the bank converts); a mismatch means the account is not the one we configured.
    return { kind: "manual_return", donationId: reference.donationId, amount: received, reason: "foreign_currency", why: "foreign_currency" };
  }
  if (reference.paidByMovementId !== null && reference.paidByMovementId !== movement.movementId) return giveBack(movement, reference.donationId, received, "already_paid");
  if (reference.closedAt !== null) return giveBack(movement, reference.donationId, received, "reference_closed");
  const lastDay = wish ? wishLastBankDay(wish) : null;
  // Days compare as "YYYY-MM-DD" strings. Booked in time for a wish closed since: booked, then refunded by the refund path.
  if (lastDay === null || movement.date.slice(0, 10) > lastDay) return giveBack(movement, reference.donationId, received, "wish_closed");
  return { kind: "book", donationId: reference.donationId, received };
}

export function decideOutgoing(movement: FioMovement): OutgoingDecision {
  const comment = movement.comment ?? "";
  if (!comment.startsWith(ORDER_COMMENT_PREFIX)) return { kind: "not_ours" };
  const orderId = comment.slice(ORDER_COMMENT_PREFIX.length).trim();
  return /^[A-Za-z0-9_-]{1,100}$/.test(orderId) ? { kind: "order_executed", orderId } : { kind: "not_ours" };
}
