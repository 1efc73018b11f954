import { HttpsError } from "firebase-functions/v2/https";
import type { CallableRequest, Request } from "firebase-functions/v2/https";
import type { Request as TaskRequest } from "firebase-functions/v2/tasks";
import { FoldTooSoonError, foldTaskPayload, foldWishCounters as foldWishCountersOp } from "../donations/counters";
import { logger } from "../lib/log";
import { awaitScheduleTime } from "./tasks";
import { FOLD_INTERVAL_MS } from "../model/wish";
import { cancelAbandonedDonations, cancelDonation as cancelDonationOp } from "../donations/cancel";
import { bankTransferRail } from "../donations/bank-transfer";
import { donate as donateOp } from "../donations/donate";
import { reconcileWishAction } from "../donations/reconcile";
import { handlePaymentWebhook } from "../settlement/webhook";
import type { StripeEndpoint } from "../settlement/webhook";
import { adminTaskEnqueuer } from "../lib/tasks";
import { baseDeps, btcpayClient, btcpayEnabled, paymentProvider, webhookVerifier } from "./deps";
import { bitcoinRail } from "../donations/bitcoin";
import { handleBtcpayWebhook, reconcileBtcpay as reconcileBtcpayOp } from "../settlement/btcpay";
import { requireAdmin, requireAuth } from "./errors";
import type { HttpResponse } from "./http";
import type { Change, DocumentSnapshot, FirestoreEvent } from "firebase-functions/v2/firestore";
import { announceDonationReceived } from "../donations/received";
import { pubSubEventBus } from "../events/publisher";
import { donationWritten as refundOnDonationWritten } from "./closing";
import { btcpayRedirectUrl, btcpayStoreId, btcpayWebhookSecret, fioAccountIban, fioAccountNumber, fioBankCode, stripeConnectWebhookSecret, stripeWebhookSecret } from "./params";

/** Donations and the webhook endpoints of Stripe and BTCPay (docs/donations.md). Only the webhooks hold a signing secret. */
const paymentDeps = () => ({ ...baseDeps(), tasks: adminTaskEnqueuer, provider: paymentProvider() });
/**
 * The rails besides cards that this deployment has switched on (docs/donations.md): bitcoin through our BTCPay store,
 * and bank transfer to our Fio account (it calls no bank: instructions only; fioPoll does the rest).
 */
const otherRails = () => ({
  ...(btcpayEnabled() ? { bitcoin: bitcoinRail({ ...baseDeps(), invoices: btcpayClient(), redirectUrl: btcpayRedirectUrl.value() || null }) } : {}),
  bank_transfer: bankTransferRail({
    ...baseDeps(),
    account: { iban: fioAccountIban.value(), accountNumber: fioAccountNumber.value(), bankCode: fioBankCode.value() },
  }),
});

export const donate = (request: CallableRequest) => {
  const uid = requireAuth(request);
  return donateOp({ ...paymentDeps(), rails: otherRails() }, uid, request.data, request.auth?.token.name);
};
export const cancelDonation = (request: CallableRequest) => cancelDonationOp(paymentDeps(), requireAuth(request), request.data);
/** Admins only; audited as `reconcileWish`, like the ops command of that name (docs/operations.md). */
export const reconcileWishLedger = (request: CallableRequest) => reconcileWishAction(baseDeps(), requireAdmin(request), request.data);
export async function cancelAbandonedDonationsSweep(): Promise<void> {
  await cancelAbandonedDonations(paymentDeps());
}

/**
 * Every write of a donation: the one that booked its charge announces `donation.received` (the donation is that event's
 * outbox; received.ts), and a money change on a closed wish's donation is refunded (closing). Both are idempotent, so the
 * trigger's retries repeat them harmlessly.
 */
export async function donationWritten(event: FirestoreEvent<Change<DocumentSnapshot> | undefined, { donationId: string }>): Promise<void> {
  await announceDonationReceived({ bus: pubSubEventBus }, event.params.donationId, event.data?.before, event.data?.after);
  await refundOnDonationWritten(event);
}

async function webhook(endpoint: StripeEndpoint, signingSecret: string, req: Request, res: HttpResponse): Promise<void> {
  const deps = { ...baseDeps(), tasks: adminTaskEnqueuer, webhooks: webhookVerifier(signingSecret), endpoint };
  const result = await handlePaymentWebhook(deps, { method: req.method, rawBody: req.rawBody, signature: req.get("stripe-signature") });
  res.status(result.status).json(result.body);
}
/** Payment, refund and dispute events (and transfers), signed with the payments endpoint's secret. */
export const stripeWebhook = (req: Request, res: HttpResponse) => webhook("payments", stripeWebhookSecret.value(), req, res);
/** Connect events (account.updated), signed with the Connect endpoint's own secret. */
export const stripeConnectWebhook = (req: Request, res: HttpResponse) => webhook("connect", stripeConnectWebhookSecret.value(), req, res);

const btcpayDeps = () => ({ ...baseDeps(), tasks: adminTaskEnqueuer, btcpay: btcpayClient(), storeId: btcpayStoreId.value() });
/** BTCPay's invoice and payout events, signed `BTCPay-Sig` with the store webhook's secret. */
export async function btcpayWebhook(req: Request, res: HttpResponse): Promise<void> {
  const result = await handleBtcpayWebhook({ ...btcpayDeps(), webhookSecret: btcpayWebhookSecret.value() }, { method: req.method, rawBody: req.rawBody, signature: req.get("btcpay-sig") });
  res.status(result.status).json(result.body);
}
/** The hourly reconciliation with BTCPay (a no-op while the rail is off). */
export async function reconcileBtcpay(): Promise<void> {
  if (btcpayEnabled()) await reconcileBtcpayOp(btcpayDeps());
}

/** The fold task (one per wish per second): shards → `raised`/`donorCount`, and the funded flip. */
export async function foldWishCounters(request: TaskRequest): Promise<void> {
  // Within a second of the last write of the wish it waits out the rest of that second (at most a second: the task
  // is billed for it, and the wish's writes stay a second apart), or, written again meanwhile, refuses, and Cloud
  // Tasks retries it (minBackoffSeconds 1, index.ts). An HttpsError answers 503 without the SDK's "Unhandled error"
  // log: a refusal is routine, not an alert.
  const { wishId } = foldTaskPayload.parse(request.data);
  await awaitScheduleTime(request, "foldWishCounters");
  try {
    await foldWishCountersOp(baseDeps(), wishId, { minSpacingMs: FOLD_INTERVAL_MS, waitUpToMs: FOLD_INTERVAL_MS });
  } catch (error) {
    if (!(error instanceof FoldTooSoonError)) throw error;
    logger.info("fold refused: the wish was written less than a second ago; Cloud Tasks retries it", { wishId });
    throw new HttpsError("unavailable", "fold too soon; retry");
  }
}
