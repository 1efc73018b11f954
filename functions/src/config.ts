import { defineSecret, defineString } from "firebase-functions/params";

/** Every function runs here: close to our Czech and European users. */
export const REGION = "europe-west1";

/** Shown by the status endpoint; set at deploy time (e.g. the git commit). */
export const releaseVersion = defineString("RELEASE_VERSION", {
  default: "dev",
  description: "Release identifier reported by the status endpoint (e.g. a git commit hash).",
});

/** Donations and payments (docs/donations.md): Stripe's secret API key and the webhook endpoint's signing secret. */
export const stripeSecretKey = defineSecret("STRIPE_SECRET_KEY");
export const stripeWebhookSecret = defineSecret("STRIPE_WEBHOOK_SECRET");
