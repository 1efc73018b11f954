import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { systemClock } from "../lib/clock";
import { adminTaskEnqueuer } from "../lib/tasks";
import { StripeClosingProvider } from "../payments/refunds";
import { StripePaymentProvider, StripeWebhookVerifier, stripeClient } from "../payments/stripe";
import { StripePayoutProvider } from "../payments/transfers";
import { stripeSecretKey } from "./params";

/**
 * What the api modules hand the domain: the real Firestore, clock, task queue and Stripe ports. Built per invocation
 * (a param's value() is read at run time, never at deploy time), so every handler takes its dependencies as arguments.
 */
export const db = () => getFirestore();
export const baseDeps = () => ({ db: db(), clock: systemClock });
export const taskDeps = () => ({ ...baseDeps(), tasks: adminTaskEnqueuer });
export const socialDeps = () => ({ ...baseDeps(), auth: getAuth() });

const stripe = () => stripeClient(stripeSecretKey.value());
/** Payment creation, customers, cancel (donate, cancelDonation, the abandoned-payment sweep). */
export const paymentProvider = () => new StripePaymentProvider(stripe());
/** Refunds, disputes and payment look-ups (refund tasks, reconciliation, the money audit). */
export const refundProvider = () => new StripeClosingProvider(stripe());
/** Connect accounts and transfers (payouts). */
export const payoutProvider = () => new StripePayoutProvider(stripe());
/** Webhook verification with one endpoint's signing secret: only the two webhook endpoints build one. */
export const webhookVerifier = (signingSecret: string) => new StripeWebhookVerifier(stripe(), signingSecret);
