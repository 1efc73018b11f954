import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { systemClock } from "../lib/clock";
import { adminTaskEnqueuer } from "../lib/tasks";
import { StripeClosingProvider } from "../payments/refunds";
import type { ClosingProvider, ClosingProviderOf } from "../payments/refunds";
import type { ProviderName } from "../payments/provider";
import { PaymentProviderError } from "../payments/provider";
import { StripePaymentProvider, StripeWebhookVerifier, stripeClient } from "../payments/stripe";
import { StripePayoutProvider } from "../payments/transfers";
import { btcpayApiKey, btcpayStoreId, btcpayUrl, stripeSecretKey } from "./params";
import { BtcpayClient, BtcpayClosingProvider } from "../payments/btcpay";
import { FioClosingProvider } from "../settlement/fio-refunds";

/**
 * What the api modules hand the domain: the real Firestore, clock, task queue and Stripe ports. Built per invocation
 * (a param's value() is read at run time, never at deploy time), so every handler takes its dependencies as arguments.
 */
export const db = () => getFirestore();
export const baseDeps = () => ({ db: db(), clock: systemClock });
export const taskDeps = () => ({ ...baseDeps(), tasks: adminTaskEnqueuer });
/** The social callables; the task queue for deleteAccount's later sweep (social/account.ts). */
export const socialDeps = () => ({ ...taskDeps(), auth: getAuth() });

const stripe = () => stripeClient(stripeSecretKey.value());
/** Payment creation, customers, cancel (donate, cancelDonation, the abandoned-payment sweep). */
export const paymentProvider = () => new StripePaymentProvider(stripe());
/** Stripe's refunds, disputes and payment look-ups (Stripe's reconciliation). */
export const refundProvider = () => new StripeClosingProvider(stripe());
/**
 * The closing port of each provider (refund tasks, the money audit pick one by `donation.provider`). Built when first
 * asked for, so a function only reads the secrets of the providers its donations use.
 */
const closingPorts: Record<ProviderName, () => ClosingProvider> = {
  stripe: refundProvider,
  btcpay: () => (btcpayEnabled() ? new BtcpayClosingProvider(btcpayClient()) : notConfigured("btcpay")),
  // Bank transfers: refunds are payment orders queued in Firestore; the poller (fioPoll) sends them to Fio.
  fio: () => new FioClosingProvider(baseDeps()),
};
export const closingProviderOf = (): ClosingProviderOf => (provider) => closingPorts[provider]();
/** Connect accounts and transfers (payouts). */
export const payoutProvider = () => new StripePayoutProvider(stripe());
/** Webhook verification with one endpoint's signing secret: only the two webhook endpoints build one. */
export const webhookVerifier = (signingSecret: string) => new StripeWebhookVerifier(stripe(), signingSecret);

/** BTCPay Server (the bitcoin rail): on when BTCPAY_URL is set. */
export const btcpayEnabled = () => btcpayUrl.value() !== "";
export const btcpayClient = () => new BtcpayClient({ url: btcpayUrl.value(), storeId: btcpayStoreId.value(), apiKey: btcpayApiKey.value() }, systemClock);

/** A rail not wired in this build: every call fails as refused (the refund lands in the ops queue, never half-done). */
function notConfigured(provider: ProviderName): ClosingProvider {
  const fail = () => Promise.reject(new PaymentProviderError(`${provider} is not configured`, "provider_not_configured", 400));
  // eslint-disable-next-line require-yield -- an empty listing that fails like every other call
  const failList = async function* () {
    await fail();
  };
  return { refund: fail, refundsOfPayment: fail, disputesOfPayment: fail, payment: fail, refundsSince: failList, paymentsSince: failList };
}
