import type { Firestore } from "firebase-admin/firestore";
import * as logger from "firebase-functions/logger";
import type { Clock } from "../lib/clock";
import { zodConverter } from "../lib/converter";
import { DONATIONS, donationSchema } from "../model/donation";
import type { RefundEvent } from "../payments/provider";
import type { ClosingProvider, ProviderRefund } from "./provider";
import { markRefundFailed } from "./refunds";

/**
 * Reconciliation of refunds with Stripe (N8), run hourly. Lists every refund Stripe created in the last
 * {@link RECONCILE_LOOKBACK_MS} and compares it with our donations (whose `refunds` map is built from the ledger):
 * - a succeeded refund our ledger does not have (a dropped `charge.refunded` webhook) is repaired by feeding the same
 *   handler the webhook uses (the donations ledger, idempotent per refund id) and recorded as a repaired finding;
 * - a refund Stripe reports failed/canceled that we still think is on its way is marked failed (ops queue);
 * - a refund of a payment we cannot match is recorded for ops.
 * Findings live in `ops/reconciliation/findings/{kind}_{refundId}` (deterministic: a rerun updates, never duplicates);
 * the last run's summary in `ops/reconciliation`.
 */

/**
 * Four days: Stripe retries a webhook for up to 3 days, so anything older that our ledger lacks is lost for good,
 * plus one day of margin for reconciliation runs that themselves failed. Stripe's list reaches back 30 days if ops
 * ever need a wider run.
 */
export const RECONCILE_LOOKBACK_MS = 4 * 24 * 60 * 60 * 1000;
/** Refunds younger than this may still have their webhook in flight: not judged yet. */
export const RECONCILE_GRACE_MS = 5 * 60 * 1000;

export const RECONCILIATION_DOC = "ops/reconciliation";
export const FINDINGS = "ops/reconciliation/findings";

export interface ReconcileDeps {
  db: Firestore;
  clock: Clock;
  provider: ClosingProvider;
  /** The webhook's own event handler (donations ledger): a repaired refund goes through exactly the same code. */
  applyRefundEvent: (event: RefundEvent) => Promise<unknown>;
}

export type FindingKind = "missed_refund_webhook" | "refund_failed_at_provider" | "refund_unknown_payment";

export interface ReconcileSummary {
  refundsChecked: number;
  repaired: number;
  findings: number;
}

const donationConverter = zodConverter(donationSchema);

async function findDonationId(db: Firestore, refund: ProviderRefund): Promise<string | null> {
  if (refund.donationId) return refund.donationId;
  if (!refund.paymentIntentId) return null;
  const found = await db.collection(DONATIONS).where("paymentIntentId", "==", refund.paymentIntentId).limit(1).get();
  return found.docs[0]?.id ?? null;
}

async function recordFinding(
  deps: Pick<ReconcileDeps, "db" | "clock">,
  kind: FindingKind,
  refund: ProviderRefund,
  donationId: string | null,
  repaired: boolean,
  detail: string,
): Promise<void> {
  const ref = deps.db.collection(FINDINGS).doc(`${kind}_${refund.refundId}`);
  const now = deps.clock.now();
  await deps.db.runTransaction(async (tx) => {
    const existing = await tx.get(ref);
    tx.set(
      ref,
      {
        kind,
        provider: "stripe",
        providerObjectId: refund.refundId,
        paymentIntentId: refund.paymentIntentId,
        donationId,
        amount: refund.amount,
        currency: refund.currency,
        repaired,
        detail,
        lastSeenAt: now,
        ...(existing.exists ? {} : { detectedAt: now, resolvedAt: repaired ? now : null }),
      },
      { merge: true },
    );
  });
}

export async function reconcileRefunds(deps: ReconcileDeps): Promise<ReconcileSummary> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - RECONCILE_LOOKBACK_MS);
  const summary: ReconcileSummary = { refundsChecked: 0, repaired: 0, findings: 0 };
  for await (const refund of deps.provider.refundsSince(since)) {
    if (now.getTime() - refund.createdMs < RECONCILE_GRACE_MS) continue;
    summary.refundsChecked++;
    const donationId = await findDonationId(deps.db, refund);
    const donation = donationId ? (await deps.db.collection(DONATIONS).doc(donationId).withConverter(donationConverter).get()).data() : undefined;
    if (!donationId || !donation) {
      await recordFinding(deps, "refund_unknown_payment", refund, donationId, false, "Stripe refunded a payment we have no donation for.");
      summary.findings++;
      continue;
    }
    if (refund.status === "succeeded" && donation.refunds[refund.refundId] === undefined) {
      await deps.applyRefundEvent({
        kind: "refund",
        eventId: `reconcile_${refund.refundId}`,
        type: "reconciliation.refund",
        createdMs: refund.createdMs,
        paymentIntentId: refund.paymentIntentId,
        chargeId: refund.chargeId ?? "",
        currency: refund.currency,
        refunds: [{ id: refund.refundId, amount: refund.amount }],
      });
      await recordFinding(deps, "missed_refund_webhook", refund, donationId, true, "The charge.refunded webhook never arrived; applied from the refund list.");
      summary.repaired++;
      summary.findings++;
      continue;
    }
    if ((refund.status === "failed" || refund.status === "canceled") && (await markRefundFailed(deps, donationId, refund.refundId, `refund_${refund.status}`))) {
      await recordFinding(deps, "refund_failed_at_provider", refund, donationId, false, refund.failureReason ?? `Stripe reports the refund ${refund.status}.`);
      summary.findings++;
    }
  }
  await deps.db.doc(RECONCILIATION_DOC).set({ lastRunAt: now, windowStart: since, ...summary });
  logger.info("refund reconciliation finished", { ...summary });
  return summary;
}
