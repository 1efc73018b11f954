// The deployed functions: one line (or a few) per export, binding a trigger and its options to an api handler.
// No logic lives here (docs/architecture.md): handlers build their dependencies, check auth and input, and call the
// domain. Every callable is declared through appCallable (App Check enforced) or replayProtectedCallable (App Check
// enforced and each token usable once: the money and admin callables); see src/api/callable.ts, docs/client-setup.md.
import "./api/setup";
import { onDocumentCreated, onDocumentDeleted, onDocumentWritten, onDocumentWrittenWithAuthContext } from "firebase-functions/v2/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { onMessagePublished } from "firebase-functions/v2/pubsub";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { appCallable, replayProtectedCallable } from "./api/callable";
import * as analytics from "./api/analytics";
import * as bankTransfer from "./api/bank-transfer";
import * as closing from "./api/closing";
import * as donations from "./api/donations";
import * as notifications from "./api/notifications";
import * as ops from "./api/ops";
import * as opsCommands from "./api/ops-commands";
import { btcpayApiKey, btcpayWebhookSecret, facebookAppSecret, fioToken, metaConversionsAccessToken, stripeConnectWebhookSecret, stripeSecretKey, stripeWebhookSecret } from "./api/params";
import * as payouts from "./api/payouts";
import { socialApi, socialTasks } from "./api/social";
import * as system from "./api/system";
import * as wishes from "./api/wishes";

// ---- system and domain events ----
export const status = onRequest({ cors: false }, system.status);
export const smokePing = onDocumentCreated("system/smoke/pings/{pingId}", system.smokePing);
export const smokeTask = onTaskDispatched({ retryConfig: { maxAttempts: 3, minBackoffSeconds: 1 }, rateLimits: { maxConcurrentDispatches: 5 } }, system.smokeTask);
/** The outbox relay: events/{id} -> Pub/Sub "domain-events". */
export const relayDomainEvent = onDocumentCreated({ document: `${system.OUTBOX}/{eventDocId}`, retry: true }, system.relayDomainEvent);

// ---- identity and social graph (docs/social.md) ----
export const syncFacebookProfile = appCallable("syncFacebookProfile", socialApi.syncFacebookProfile, { secrets: [facebookAppSecret] });
export const sendFriendRequest = appCallable("sendFriendRequest", socialApi.sendFriendRequest);
export const acceptFriendRequest = appCallable("acceptFriendRequest", socialApi.acceptFriendRequest);
export const declineFriendRequest = appCallable("declineFriendRequest", socialApi.declineFriendRequest);
export const cancelFriendRequest = appCallable("cancelFriendRequest", socialApi.cancelFriendRequest);
export const unfriend = appCallable("unfriend", socialApi.unfriend);
export const createGroup = appCallable("createGroup", socialApi.createGroup);
export const updateGroup = appCallable("updateGroup", socialApi.updateGroup);
export const deleteGroup = appCallable("deleteGroup", socialApi.deleteGroup);
export const registerDevice = appCallable("registerDevice", socialApi.registerDevice);
export const unregisterDevice = appCallable("unregisterDevice", socialApi.unregisterDevice);
export const signOutEverywhere = appCallable("signOutEverywhere", socialApi.signOutEverywhere);
export const deleteAccount = appCallable("deleteAccount", socialApi.deleteAccount);
// 15 minutes after each deletion: deletes what writers racing it left under users/{uid} (docs/social.md "Account
// deletion"). Retried with a long backoff: a Firestore or Auth hiccup, never a hot path.
export const sweepDeletedAccount = onTaskDispatched(
  { retryConfig: { maxAttempts: 10, minBackoffSeconds: 60, maxBackoffSeconds: 3600, maxDoublings: 6 }, rateLimits: { maxConcurrentDispatches: 5 } },
  socialTasks.sweepDeletedAccount,
);

// ---- wishes, comments, feed, reports ----
export const createWish = appCallable("createWish", wishes.createWish);
export const deleteWish = appCallable("deleteWish", wishes.deleteWish);
export const setWishAudience = appCallable("setWishAudience", wishes.setWishAudience);
// Reports of wishes and comments, and their resolution by ops (admin claim; audited). docs/operations.md "Reports".
export const reportContent = appCallable("reportContent", wishes.reportContentHandler);
export const resolveReport = replayProtectedCallable("resolveReport", wishes.resolveReportHandler);
export const wishDeleted = onDocumentDeleted({ document: "wishes/{wishId}", retry: true }, wishes.wishDeleted);
export const wishAudienceOnFriendChange = onDocumentWritten({ document: "users/{uid}/friends/{friendId}", retry: true }, wishes.friendshipWritten);
export const wishAudienceOnGroupChange = onDocumentWritten({ document: "users/{uid}/groups/{groupId}", retry: true }, wishes.groupWritten);
export const commentAdded = onDocumentCreated({ document: "wishes/{wishId}/comments/{commentId}", retry: true }, wishes.commentAdded);
export const feedFanOut = onMessagePublished({ topic: system.DOMAIN_EVENTS_TOPIC, retry: true }, wishes.feedFanOut);
// Shared donations reach the feeds as one digest item per wish, rewritten at most every 10 s (docs/wishes.md "Feed").
export const foldFeedDigest = onTaskDispatched(
  { retryConfig: { maxAttempts: 20, minBackoffSeconds: 1, maxBackoffSeconds: 60, maxDoublings: 3 }, rateLimits: { maxConcurrentDispatches: 20 }, timeoutSeconds: 300 },
  wishes.foldFeedDigest,
);

// ---- donations and the Stripe and BTCPay webhooks (docs/donations.md) ----
export const donate = replayProtectedCallable("donate", donations.donate, { secrets: [stripeSecretKey, btcpayApiKey] });
export const cancelDonation = replayProtectedCallable("cancelDonation", donations.cancelDonation, { secrets: [stripeSecretKey] });
// Pending donations nobody paid for ABANDONED_AFTER_MS are canceled at Stripe and marked so (docs/donations.md).
export const cancelAbandonedDonationsSweep = onSchedule(
  { schedule: "every 60 minutes", timeZone: "Etc/UTC", secrets: [stripeSecretKey], timeoutSeconds: 300 },
  donations.cancelAbandonedDonationsSweep,
);
// Bank transfers (Fio banka, docs/donations.md "Bank transfer"): one bank call per run at most (Fio's 30 s limit,
// held by a lease across overlapping runs); the run records, matches and applies the account's movements.
export const fioPoll = onSchedule(
  { schedule: "every 1 minutes", timeZone: "Etc/UTC", secrets: [fioToken], timeoutSeconds: 120, retryCount: 0 },
  bankTransfer.fioPoll,
);
export const reconcileWishLedger = replayProtectedCallable("reconcileWishLedger", donations.reconcileWishLedger);
// The webhook writes a wish's counter shards, never the (possibly hot) wish, and schedules one fold task per wish per
// second, which sums the shards into raised/donorCount and flips the wish to funded (docs/donations.md).
export const foldWishCounters = onTaskDispatched(
  { retryConfig: { maxAttempts: 20, minBackoffSeconds: 1, maxBackoffSeconds: 10, maxDoublings: 2 }, rateLimits: { maxConcurrentDispatches: 50 } },
  donations.foldWishCounters,
);
export const stripeWebhook = onRequest({ secrets: [stripeSecretKey, stripeWebhookSecret], cors: false }, donations.stripeWebhook);
// Connect events (account.updated) come to their own endpoint, signed with the Connect endpoint's secret.
export const stripeConnectWebhook = onRequest({ secrets: [stripeSecretKey, stripeConnectWebhookSecret], cors: false }, donations.stripeConnectWebhook);
// The bitcoin rail: BTCPay Server's invoice and payout events (signed BTCPay-Sig), and its hourly reconciliation.
export const btcpayWebhook = onRequest({ secrets: [btcpayApiKey, btcpayWebhookSecret], cors: false }, donations.btcpayWebhook);
export const reconcileBtcpay = onSchedule({ schedule: "every 60 minutes", timeZone: "Etc/UTC", secrets: [btcpayApiKey], timeoutSeconds: 540 }, donations.reconcileBtcpay);

// ---- notifications (docs/notifications.md) ----
// timeoutSeconds: a friend.joined fan-out to thousands of friends; the worker's push lease (6 min) outlasts it.
export const notifyOnDomainEvent = onMessagePublished({ topic: system.DOMAIN_EVENTS_TOPIC, retry: true, timeoutSeconds: 300 }, notifications.notifyOnDomainEvent);
export const markNotificationsRead = appCallable("markNotificationsRead", notifications.markNotificationsRead);
// donation.received goes into its wish's digest: one fold task per recipient, wish and second writes the digest item
// and pushes at most once a minute per wish (docs/notifications.md "Donation digests"). timeoutSeconds: below the
// digest's 60 s push lease.
export const foldDonationDigest = onTaskDispatched(
  { retryConfig: { maxAttempts: 20, minBackoffSeconds: 1, maxBackoffSeconds: 30, maxDoublings: 3 }, rateLimits: { maxConcurrentDispatches: 50 }, timeoutSeconds: 50 },
  notifications.foldDonationDigest,
);

// ---- ads attribution: Conversions API events of consenting users (docs/analytics.md) ----
export const adsConversionsOnDomainEvent = onMessagePublished(
  { topic: system.DOMAIN_EVENTS_TOPIC, retry: true, secrets: [metaConversionsAccessToken] },
  analytics.conversionsOnDomainEvent,
);

// ---- closing, refunds, reconciliation (docs/operations.md) ----
export const closeWish = replayProtectedCallable("closeWish", closing.closeWish);
export const wishClosingOnWrite = onDocumentWritten({ document: "wishes/{wishId}", retry: true }, closing.wishWritten);
export const wishDeadline = onTaskDispatched(
  { retryConfig: { maxAttempts: 10, minBackoffSeconds: 30, maxBackoffSeconds: 3600 }, rateLimits: { maxConcurrentDispatches: 20 } },
  closing.wishDeadline,
);
export const wishDeadlineSweep = onSchedule({ schedule: "every 15 minutes", timeZone: "Etc/UTC" }, closing.wishDeadlineSweep);
export const refundDonation = onTaskDispatched(
  {
    secrets: [stripeSecretKey, btcpayApiKey],
    retryConfig: { maxAttempts: closing.REFUND_MAX_ATTEMPTS, minBackoffSeconds: 5, maxBackoffSeconds: 3600, maxDoublings: 8 },
    rateLimits: { maxConcurrentDispatches: 10, maxDispatchesPerSecond: 20 },
  },
  closing.refundDonation,
);
// Every donation write: the charge's booking publishes donation.received; a closed wish's donation money is refunded.
export const donationOnWrite = onDocumentWritten({ document: "donations/{donationId}", retry: true }, donations.donationWritten);
// Reconciliation with Stripe (look-back and reasons in src/settlement/reconcile.ts and docs/operations.md).
// A 4-day window can hold thousands of objects: allow more than the default 60 s.
export const reconcileStripe = onSchedule(
  { schedule: "every 60 minutes", timeZone: "Etc/UTC", secrets: [stripeSecretKey], timeoutSeconds: 540 },
  closing.reconcileStripe,
);
// The money invariant of every wish whose money moved lately, against Stripe (docs/operations.md "The money audit").
// At half past the hour, so the hourly reconciliation's repairs come first.
export const auditWishMoney = onSchedule({ schedule: "30 * * * *", timeZone: "Etc/UTC", secrets: [stripeSecretKey, btcpayApiKey], timeoutSeconds: 540 }, closing.auditWishMoney);

// ---- payouts (Stripe Connect Express; docs/operations.md "Payouts") ----
export const createPayoutAccountLink = replayProtectedCallable("createPayoutAccountLink", payouts.createPayoutAccountLink, { secrets: [stripeSecretKey] });
export const payOutWish = onTaskDispatched(
  {
    secrets: [stripeSecretKey],
    // Long backoff: a transfer waits for the donations' charges to settle into the available balance (days).
    retryConfig: { maxAttempts: payouts.PAYOUT_MAX_ATTEMPTS, minBackoffSeconds: 60, maxBackoffSeconds: 6 * 3600, maxDoublings: 8 },
    rateLimits: { maxConcurrentDispatches: 5, maxDispatchesPerSecond: 5 },
  },
  payouts.payOutWish,
);
export const payoutAccountOnWrite = onDocumentWritten({ document: "payoutAccounts/{uid}", retry: true }, payouts.payoutAccountWritten);

// ---- ops (admin custom claim only; every action lands in auditLog) ----
export const retryRefund = replayProtectedCallable("retryRefund", ops.retryRefund);
export const freezeWish = replayProtectedCallable("freezeWish", ops.freezeWish);
export const retryPayout = replayProtectedCallable("retryPayout", ops.retryPayout, { secrets: [stripeSecretKey] });

// ---- ops from the console (docs/operations.md): actions as documents, the status page ----
// retry: a delivery that fails before the command is claimed is tried again; the run record makes it exactly once.
export const opsCommandOnWrite = onDocumentWrittenWithAuthContext(
  { document: "opsCommands/{commandId}", secrets: [stripeSecretKey], retry: true, timeoutSeconds: 300 },
  opsCommands.opsCommandOnWrite,
);
export const refreshOpsStatusJob = onSchedule({ schedule: "every 5 minutes", timeZone: "Etc/UTC" }, opsCommands.refreshOpsStatusJob);
