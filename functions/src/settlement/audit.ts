import type { Firestore } from "firebase-admin/firestore";
import { logger } from "../lib/log";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import type { TaskEnqueuer } from "../lib/tasks";
import { MONEY_AUDIT, MONEY_AUDIT_BREACHES, REFUND_REQUESTS, moneyBreachSchema, refundRequestSchema } from "../model/closing";
import type { MoneyBreach, MoneyBreachKind, MoneyFigures } from "../model/closing";
import { LEDGER, ledgerEntrySchema } from "../model/donation";
import type { Donation, LedgerEntry } from "../model/donation";
import type { Payout } from "../model/payout";
import type { Wish } from "../model/wish";
import { payoutRef, requestPayout } from "../payouts/payouts";
import type { Transfers } from "../payments/transfers";
import type { ClosingProvider } from "../payments/refunds";
import type { ProviderName } from "../model/donation";
import { refundPlan, settleDonation, syncPaymentFromProvider } from "../closing/refunds";
import type { RefundTaskDeps } from "../closing/refunds";
import { wishRef } from "../store/wishes";
import { foldWishCounters } from "../donations/counters";
import { refs } from "../store/donations";

/**
 * The money audit (N8): for every wish whose money moved recently, the one invariant of docs/donations.md ("The money
 * invariant"):
 *
 *   Σ charges received − Σ refunds − Σ disputes withdrawn − Σ transfers to the owner (net of reversals) − platform fee
 *     = what the wish holds,
 *
 * where a closed or expired wish holds 0, a paid-out wish holds 0, no wish holds less than 0 (more than it has left
 * the platform: a documented platform loss), the wish's `raised` and the payout's `paidAmount` are what the ledger
 * says, and every figure agrees with Stripe's own objects. Each breach is recorded for ops in
 * `ops/moneyAudit/breaches/{kind}_{wishId}` with the figures and a suspected cause; the two that have a safe automatic
 * remedy (a closed wish still holding a donor's money with no refund under way; a paid-out wish holding money with no
 * payout under way) are repaired through the ordinary refund and payout paths. A later audit that finds the wish
 * clean resolves its breaches.
 */
export interface AuditDeps {
  db: Firestore;
  clock: Clock;
  tasks: TaskEnqueuer;
  /** The closing port of each donation's provider (chosen by `donation.provider`). */
  providerOf: (provider: ProviderName) => Pick<ClosingProvider, "payment" | "refundsOfPayment" | "disputesOfPayment">;
  payouts: Pick<Transfers, "transfersOfWish">;
  /** The donations ledger's handler, to fold what Stripe holds into a donation before repairing it. */
  applyProviderEvent: RefundTaskDeps["applyProviderEvent"];
}

/** Wishes whose ledger moved, or that closed, expired or were funded, within this window are audited. */
export const AUDIT_LOOKBACK_MS = 4 * 24 * 60 * 60 * 1000;
/** A wish whose ledger moved less than this ago may still have webhooks in flight: judged on a later run. */
export const AUDIT_GRACE_MS = 10 * 60 * 1000;
/** At most this many wishes per run (the rest on the next runs, in turn: `auditRotation`; in-flight ones on a later run). */
export const AUDIT_MAX_WISHES = 300;

const ledgerConverter = zodConverter(ledgerEntrySchema);
const requestConverter = zodConverter(refundRequestSchema);
const breachConverter = zodConverter(moneyBreachSchema);

/** Our figures, from the ledger (the source of truth) alone. */
export function ledgerFigures(entries: Pick<LedgerEntry, "kind" | "amount">[], fee: number): MoneyFigures {
  const figures = { charges: 0, refunds: 0, disputes: 0, transfers: 0, fee };
  for (const entry of entries) {
    if (entry.kind === "charge" || entry.kind === "charge_adjustment") figures.charges += entry.amount;
    else if (entry.kind === "refund" || entry.kind === "refund_failed") figures.refunds -= entry.amount;
    else if (entry.kind === "dispute" || entry.kind === "dispute_reinstated") figures.disputes -= entry.amount;
    else figures.transfers -= entry.amount;
  }
  return figures;
}

export function heldBy(figures: MoneyFigures): number {
  return figures.charges - figures.refunds - figures.disputes - figures.transfers - figures.fee;
}

/** Stripe's figures for one wish: its donations' payments, refunds and disputes, and the wish's transfers. */
export async function stripeFigures(deps: Pick<AuditDeps, "providerOf" | "payouts">, wishId: string, donations: Donation[], fee: number): Promise<MoneyFigures> {
  const figures = { charges: 0, refunds: 0, disputes: 0, transfers: 0, fee };
  // One look-up per provider payment, at the donation's own provider.
  const payments = new Map(donations.flatMap((donation) => (donation.paymentIntentId && donation.paymentStatus !== "canceled" ? [[donation.paymentIntentId, donation.provider] as const] : [])));
  const perPayment = await Promise.all(
    [...payments].map(async ([paymentIntentId, providerName]) => {
      const provider = deps.providerOf(providerName);
      const [payment, refunds, disputes] = await Promise.all([
        provider.payment(paymentIntentId),
        provider.refundsOfPayment(paymentIntentId),
        provider.disputesOfPayment(paymentIntentId),
      ]);
      return { payment, refunds, disputes };
    }),
  );
  for (const { payment, refunds, disputes } of perPayment) {
    if (payment.status === "succeeded") figures.charges += payment.amountReceived;
    figures.refunds += refunds.reduce((sum, refund) => sum + (refund.status === "succeeded" ? refund.amount : 0), 0);
    figures.disputes += disputes.reduce((sum, dispute) => sum + (dispute.status === "open" || dispute.status === "lost" ? dispute.amount : 0), 0);
  }
  const transfers = await deps.payouts.transfersOfWish(wishId);
  figures.transfers = transfers.reduce((sum, transfer) => sum + transfer.amount - transfer.amountReversed, 0);
  return figures;
}

const FIGURE_NAMES: Record<keyof Omit<MoneyFigures, "fee">, string> = { charges: "charges", refunds: "refunds", disputes: "dispute withdrawals", transfers: "transfers" };

/** Why our ledger and Stripe may disagree on one figure. */
function disagreementCause(figure: keyof typeof FIGURE_NAMES, ours: number, stripe: number): string {
  const more = stripe > ours ? "Stripe shows more" : "our ledger shows more";
  const lost = figure === "transfers" ? "a transfer.* webhook" : figure === "charges" ? "a payment_intent.* webhook" : figure === "refunds" ? "a refund.* webhook" : "a charge.dispute.* webhook";
  return `${FIGURE_NAMES[figure]}: ours ${ours}, Stripe ${stripe} (${more}: ${stripe > ours ? `${lost} never arrived, or the money moved outside our code` : "an object we booked that Stripe does not hold in that state"}).`;
}

/**
 * What a closed wish may still hold while a chargeback is open on a donation: Stripe refuses any refund of that
 * payment until the bank decides (the donation's refund request is `disputed`, and resumes by itself).
 */
export function waitingForTheBank(donations: Pick<Donation, "paymentStatus" | "netAmount" | "refunds" | "disputes">[]): number {
  return donations.reduce((sum, donation) => sum + (refundPlan(donation).kind === "wait_dispute" ? Math.max(0, donation.netAmount) : 0), 0);
}

/** One donation's part in a closed wish that still holds money, in words for ops. */
function donationCause(donation: Donation, request: { status: string; lastError: string | null } | undefined): string {
  const plan = refundPlan(donation);
  if (plan.kind === "wait_dispute") return "a chargeback is open: the bank decides";
  if (!request) return "no refund was ever requested (a payment or a dispute that ended after the close?)";
  if (request.status === "failed") return `its refund failed (${request.lastError ?? "unknown"}): see ops/refundFailures`;
  if (request.status === "succeeded" || request.status === "settled") return `its refund request is ${request.status} but money is left (a refund that failed later, a won dispute?)`;
  return `its refund request is ${request.status}`;
}

export interface WishAudit {
  wishId: string;
  /** The wish's money is still moving (a refund or a payout under way, or a ledger entry younger than the grace): not judged. */
  inFlight: boolean;
  held: number;
  ours: MoneyFigures;
  stripe: MoneyFigures | null;
  breaches: Omit<MoneyBreach, "detectedAt" | "lastSeenAt" | "resolvedAt">[];
}

/**
 * Audits one wish: computes the figures, judges the invariant, records new breaches (and resolves those that are
 * gone), and repairs what is safe to repair. With `repair: false` it only reports (tests, a dry run).
 */
export async function auditWish(deps: AuditDeps, wishId: string, options: { repair: boolean } = { repair: true }): Promise<WishAudit | null> {
  // The wish's counters are first folded from its shards (a fold lost for any reason heals here), so `raised` below is
  // what the shards say, and the check against the ledger covers the shards.
  if (options.repair) await foldWishCounters(deps, wishId);
  const [wishSnap, entriesSnap, donationsSnap, requestsSnap, payoutSnap] = await Promise.all([
    wishRef(deps.db, wishId).get(),
    deps.db.collection(LEDGER).withConverter(ledgerConverter).where("wishId", "==", wishId).get(),
    refs.donations(deps.db).where("wishId", "==", wishId).get(),
    deps.db.collection(REFUND_REQUESTS).withConverter(requestConverter).where("wishId", "==", wishId).get(),
    payoutRef(deps.db, wishId).get(),
  ]);
  const entries = entriesSnap.docs.map((doc) => doc.data());
  const donations = donationsSnap.docs.map((doc) => ({ id: doc.id, ...doc.data() }));
  const requests = new Map(requestsSnap.docs.map((doc) => [doc.id, doc.data()]));
  const payout = payoutSnap.data();
  const ours = ledgerFigures(entries, payout?.feeAmount ?? 0);
  const wish = wishSnap.data() ?? deletedWish(entries, donations, ours);
  if (!wish) return null;
  const held = heldBy(ours);
  const now = deps.clock.now();
  const newest = Math.max(0, ...entries.map((entry) => entry.createdAt.getTime()));
  const refundsUnderWay = [...requests.values()].some((request) => request.status === "queued" || request.status === "requested");
  const payoutUnderWay = payout?.status === "queued" || payout?.status === "transferring";
  const inFlight = refundsUnderWay || payoutUnderWay || now.getTime() - newest < AUDIT_GRACE_MS;
  const audit: WishAudit = { wishId, inFlight, held, ours, stripe: null, breaches: [] };
  if (inFlight) return audit;

  audit.stripe = await stripeFigures(deps, wishId, donations, ours.fee);
  audit.breaches = judge(wish, wishId, payout, donations, requests, ours, audit.stripe);
  if (options.repair) {
    for (const breach of audit.breaches) breach.repaired = await repair(deps, breach, wishId, donations);
  }
  await recordAudit(deps, wishId, audit.breaches, now);
  return audit;
}

/** What the audit judges: a wish, or what is left of one that was deleted while money still reached it. */
type AuditedWish = Pick<Wish, "raised" | "ownerId" | "currency"> & { status: Wish["status"] | "deleted" };

/**
 * A wish whose document is gone (deleteWish refuses a wish with a succeeded donation, but a payment still pending
 * may succeed after the delete): judged as a closed wish that must hold 0, its `raised` taken from the ledger (there
 * is no counter left to drift). Null when nothing of its money exists either.
 */
function deletedWish(entries: Pick<LedgerEntry, "currency">[], donations: Pick<Donation, "currency">[], ours: MoneyFigures): AuditedWish | null {
  const currency = entries[0]?.currency ?? donations[0]?.currency;
  if (!currency) return null;
  return { status: "deleted", raised: ours.charges - ours.refunds - ours.disputes, ownerId: "", currency };
}

/** The invariant, judged on a wish whose money is at rest. Pure (given the figures). */
export function judge(
  wish: AuditedWish,
  wishId: string,
  payout: Pick<Payout, "status" | "paidAmount" | "shortfall"> | undefined,
  donations: (Donation & { id: string })[],
  requests: Map<string, { status: string; lastError: string | null }>,
  ours: MoneyFigures,
  stripe: MoneyFigures,
): WishAudit["breaches"] {
  const held = heldBy(ours);
  const base = { wishId, ownerId: wish.ownerId, wishStatus: wish.status, currency: wish.currency, held, ours, stripe, raised: wish.raised, paidAmount: payout?.paidAmount ?? 0, donations: [], repaired: false };
  const breaches: WishAudit["breaches"] = [];
  const add = (kind: MoneyBreachKind, suspectedCause: string, extra: Partial<Pick<MoneyBreach, "donations">> = {}) => breaches.push({ ...base, kind, suspectedCause, ...extra });

  const disagreements = (Object.keys(FIGURE_NAMES) as (keyof typeof FIGURE_NAMES)[]).filter((figure) => ours[figure] !== stripe[figure]);
  if (disagreements.length > 0) add("stripe_disagrees", disagreements.map((figure) => disagreementCause(figure, ours[figure], stripe[figure])).join(" "));

  const raisedByLedger = ours.charges - ours.refunds - ours.disputes;
  if (wish.raised !== raisedByLedger || (payout && payout.paidAmount !== ours.transfers)) {
    add(
      "ledger_totals_drift",
      `wish.raised ${wish.raised} vs the ledger's ${raisedByLedger}; payout.paidAmount ${payout?.paidAmount ?? 0} vs the ledger's ${ours.transfers}. ` +
        "A write that bypassed the ledger, or a crash between the ledger and the totals: run reconcileWishLedger({wishId, repair: true, reason}), " +
        "which re-derives both from the ledger (paidAmount moves no money: what is owed comes from grossAccounted). " +
        "If the transfers also disagree with Stripe (stripe_disagrees), the ledger itself is off: settle that first.",
    );
  }

  if (held < 0) {
    add(
      "platform_loss",
      `${-held} more has left the platform than this wish took in: refunds or lost disputes after the payout (payout shortfall ${payout?.shortfall ?? 0}). ` +
        "The platform carries it (Connect platforms are liable), unless ops reverse part of the transfer in the Stripe dashboard.",
    );
  } else if (held - waitingForTheBank(donations) > 0 && (wish.status === "closed" || wish.status === "expired" || wish.status === "deleted")) {
    const holding = donations
      .filter((donation) => donation.netAmount > 0 && refundPlan(donation).kind !== "wait_dispute")
      .slice(0, 20)
      .map((donation) => ({ donationId: donation.id, held: donation.netAmount, cause: donationCause(donation, requests.get(donation.id)) }));
    add("closed_wish_holds_money", `A ${wish.status} wish must hold 0 once its refunds are done; it holds ${held}. ${holding.map((item) => `${item.donationId}: ${item.cause}.`).join(" ")}`, {
      donations: holding,
    });
  } else if (held > 0 && wish.status === "funded" && payout?.status === "paid") {
    add("paid_out_wish_holds_money", `The payout is paid but the wish still holds ${held}: a donation that succeeded after the payout and was not paid out.`);
  }
  return breaches;
}

/** The safe remedies: refund what a closed wish still holds; pay out what a paid-out wish still holds. */
async function repair(deps: AuditDeps, breach: WishAudit["breaches"][number], wishId: string, donations: (Donation & { id: string })[]): Promise<boolean> {
  if (breach.kind === "closed_wish_holds_money") {
    let repaired = false;
    for (const donation of donations) {
      if (donation.netAmount <= 0 || !donation.paymentIntentId) continue;
      // First fold in whatever Stripe did that our ledger missed (a dispute that closed, a refund), then settle.
      await syncPaymentFromProvider({ provider: deps.providerOf(donation.provider), applyProviderEvent: deps.applyProviderEvent }, donation.paymentIntentId, donation);
      const outcome = await settleDonation(deps, donation.id, { reason: "audit_repair" });
      if (outcome === "create" || outcome === "next" || outcome === "finish") repaired = true;
    }
    return repaired;
  }
  if (breach.kind === "paid_out_wish_holds_money") return (await requestPayout(deps, wishId)) === "queued";
  return false;
}

/** Records this audit's breaches and resolves the wish's earlier ones that are gone. */
async function recordAudit(deps: Pick<AuditDeps, "db">, wishId: string, breaches: WishAudit["breaches"], now: Date): Promise<void> {
  const collection = deps.db.collection(MONEY_AUDIT_BREACHES).withConverter(breachConverter);
  const open = await collection.where("wishId", "==", wishId).where("resolvedAt", "==", null).get();
  const found = new Set(breaches.map((breach) => breach.kind));
  const batch = deps.db.batch();
  for (const doc of open.docs) if (!found.has(doc.data().kind)) batch.update(doc.ref, { resolvedAt: now, lastSeenAt: now });
  for (const breach of breaches) {
    const ref = collection.doc(`${breach.kind}_${wishId}`);
    const earlier = open.docs.find((doc) => doc.id === ref.id)?.data();
    batch.set(ref, { ...breach, detectedAt: earlier?.detectedAt ?? now, lastSeenAt: now, resolvedAt: null });
  }
  await batch.commit();
  for (const breach of breaches) logger.error("money invariant breached", { wishId, kind: breach.kind, held: breach.held, repaired: breach.repaired });
}

/**
 * The wishes to audit: money moved, or they closed, expired or were funded, within the window; or a breach is open.
 * Beyond `max` of them a run takes the next `max` in id order after the last wish the previous run took (`cursor`,
 * kept in `ops/moneyAudit`), wrapping round, so consecutive runs go through all of them in turn rather than auditing
 * the same head every hour. A wish that joins the list is reached within one round.
 */
export function auditRotation(candidates: ReadonlySet<string>, cursor: string | null, max: number): { wishIds: string[]; cursor: string | null } {
  const all = [...candidates].sort();
  if (all.length <= max) return { wishIds: all, cursor: null };
  const after = cursor === null ? 0 : all.findIndex((wishId) => wishId > cursor);
  const from = after < 0 ? 0 : after;
  const wishIds = [...all.slice(from), ...all.slice(0, from)].slice(0, max);
  return { wishIds, cursor: wishIds[wishIds.length - 1] ?? null };
}

async function auditCandidates(db: Firestore, since: Date): Promise<Set<string>> {
  const [ledger, closed, funded, open] = await Promise.all([
    db.collection(LEDGER).where("createdAt", ">=", since).select("wishId").get(),
    db.collection("wishes").where("closedAt", ">=", since).select().get(),
    db.collection("wishes").where("fundedAt", ">=", since).select().get(),
    db.collection(MONEY_AUDIT_BREACHES).where("resolvedAt", "==", null).select("wishId").get(),
  ]);
  const ids = new Set<string>();
  for (const doc of [...open.docs, ...ledger.docs]) {
    const wishId: unknown = doc.get("wishId");
    if (typeof wishId === "string") ids.add(wishId);
  }
  for (const doc of [...closed.docs, ...funded.docs]) ids.add(doc.id);
  return ids;
}

export interface MoneyAuditSummary {
  wishesAudited: number;
  inFlight: number;
  breaches: number;
  repaired: number;
}

/** One run: its summary, and the wishes it took (in order). */
export type MoneyAuditRun = MoneyAuditSummary & { wishIds: string[] };

/**
 * The hourly job (`auditMoney`): audits the wishes whose money moved in the window, at most `maxWishes` of them in
 * turn (`auditRotation`), and writes one summary to `ops/moneyAudit` with the rotation's `cursor`. A run that fails
 * (Stripe unreachable) writes no summary: a stale `lastRunAt` tells ops, and the next run takes the same wishes again.
 */
export async function auditMoney(deps: AuditDeps, options: { maxWishes?: number } = {}): Promise<MoneyAuditRun> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - AUDIT_LOOKBACK_MS);
  const summary: MoneyAuditSummary = { wishesAudited: 0, inFlight: 0, breaches: 0, repaired: 0 };
  const [candidates, previous] = await Promise.all([auditCandidates(deps.db, since), deps.db.doc(MONEY_AUDIT).get()]);
  const previousCursor: unknown = previous.get("cursor");
  const { wishIds, cursor } = auditRotation(candidates, typeof previousCursor === "string" ? previousCursor : null, options.maxWishes ?? AUDIT_MAX_WISHES);
  for (const wishId of wishIds) {
    const audit = await auditWish(deps, wishId);
    if (!audit) continue;
    summary.wishesAudited++;
    if (audit.inFlight) summary.inFlight++;
    summary.breaches += audit.breaches.length;
    summary.repaired += audit.breaches.filter((breach) => breach.repaired).length;
  }
  await deps.db.doc(MONEY_AUDIT).set({ lastRunAt: now, windowStart: since, ...summary, candidates: candidates.size, cursor });
  logger.info("money audit finished", { ...summary, candidates: candidates.size, cursor });
  return { ...summary, wishIds };
}
