import { defineSecret, defineString } from "firebase-functions/params";

/** Shown by the status endpoint; set at deploy time (e.g. the git commit). */
export const releaseVersion = defineString("RELEASE_VERSION", {
  default: "dev",
  description: "Release identifier reported by the status endpoint (e.g. a git commit hash).",
});

/** Identity and social graph (docs/social.md): our Facebook app, whose tokens syncFacebookProfile accepts. */
export const facebookAppId = defineString("FACEBOOK_APP_ID", {
  description: "Facebook app id; debug_token must report it as the token's app_id.",
});
/** Facebook app secret: the app access token for debug_token and the appsecret_proof of user-token calls. */
export const facebookAppSecret = defineSecret("FACEBOOK_APP_SECRET");

/** Donations and payments (docs/donations.md): Stripe's secret API key and the webhook endpoint's signing secret. */
export const stripeSecretKey = defineSecret("STRIPE_SECRET_KEY");
export const stripeWebhookSecret = defineSecret("STRIPE_WEBHOOK_SECRET");

/**
 * Payouts (docs/operations.md): Connect account events (account.updated) reach a Connect webhook endpoint, which
 * Stripe signs with its own secret; the app's pages Stripe's hosted onboarding returns to.
 */
export const stripeConnectWebhookSecret = defineSecret("STRIPE_CONNECT_WEBHOOK_SECRET");
export const payoutOnboardingReturnUrl = defineString("PAYOUT_ONBOARDING_RETURN_URL", {
  default: "https://elateme.app/payouts/done",
  description: "Where Stripe's hosted onboarding sends the owner when they finish (an app link).",
});
export const payoutOnboardingRefreshUrl = defineString("PAYOUT_ONBOARDING_REFRESH_URL", {
  default: "https://elateme.app/payouts/retry",
  description: "Where Stripe sends the owner when an onboarding link expired; the app asks for a new link.",
});

/**
 * Ads attribution (docs/analytics.md): Meta's Conversions API. Switched off entirely while META_DATASET_ID is empty.
 * The access token is a Conversions API token of the dataset (Events Manager → Settings → Generate access token).
 */
export const metaDatasetId = defineString("META_DATASET_ID", {
  default: "",
  description: "Meta dataset (pixel) id the Conversions API events go to; empty = ads attribution off.",
});
export const metaConversionsAccessToken = defineSecret("META_CONVERSIONS_ACCESS_TOKEN");
export const metaTestEventCode = defineString("META_TEST_EVENT_CODE", {
  default: "",
  description: "Events Manager test event code (TEST12345): events show under Test events and are not used for ads. Empty in production.",
});

/**
 * The bitcoin rail (docs/donations.md, "Bitcoin"): our BTCPay Server store. Empty BTCPAY_URL switches the rail off
 * (`donate` with method bitcoin answers payment_method_unavailable). The API key needs the store's invoice and pull
 * payment permissions (btcpay.store.canmodifyinvoices, btcpay.store.canviewinvoices, btcpay.store.canmanagepullpayments);
 * the webhook secret is the one BTCPay shows when the store's webhook is created (it signs BTCPay-Sig).
 */
export const btcpayUrl = defineString("BTCPAY_URL", {
  default: "",
  description: "Base URL of our BTCPay Server (https://btcpay.example.com); empty = bitcoin donations off.",
});
export const btcpayStoreId = defineString("BTCPAY_STORE_ID", { default: "", description: "The BTCPay store that receives bitcoin donations." });
export const btcpayRedirectUrl = defineString("BTCPAY_REDIRECT_URL", {
  default: "https://elateme.app/donations/done",
  description: "Where BTCPay's checkout sends the donor after paying (an app link).",
});
export const btcpayApiKey = defineSecret("BTCPAY_API_KEY");
export const btcpayWebhookSecret = defineSecret("BTCPAY_WEBHOOK_SECRET");

/**
 * Bank transfers (docs/donations.md "Bank transfer", docs/operations.md "Bank transfers (Fio)"): Fio banka's REST API
 * and ElateMe's account there. One token serves one system (the bank keeps the download cursor per token).
 */
export const fioToken = defineSecret("FIO_TOKEN");
export const fioApiUrl = defineString("FIO_API_URL", {
  default: "https://fioapi.fio.cz/v1/rest",
  description: "Fio banka's REST API base URL.",
});
export const fioAccountIban = defineString("FIO_ACCOUNT_IBAN", {
  description: "IBAN of ElateMe's Fio account (bank-transfer instructions and the QR payment string).",
});
export const fioAccountNumber = defineString("FIO_ACCOUNT_NUMBER", {
  description: "Number of ElateMe's Fio account, without the bank code (instructions; the payer of return orders).",
});
export const fioBankCode = defineString("FIO_BANK_CODE", {
  default: "2010",
  description: "Fio banka's bank code.",
});
