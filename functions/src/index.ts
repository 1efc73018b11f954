// Wiring only: each export binds a trigger to a handler module. Logic lives in the modules.
import { initializeApp } from "firebase-admin/app";
import { getAuth } from "firebase-admin/auth";
import { getFirestore } from "firebase-admin/firestore";
import { getMessaging } from "firebase-admin/messaging";
import { setGlobalOptions } from "firebase-functions/v2";
import { onDocumentCreated, onDocumentDeleted, onDocumentWritten, onDocumentWrittenWithAuthContext } from "firebase-functions/v2/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { onMessagePublished } from "firebase-functions/v2/pubsub";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import {
  REGION,
  facebookAppId,
  facebookAppSecret,
  payoutOnboardingRefreshUrl,
  payoutOnboardingReturnUrl,
  releaseVersion,
  stripeConnectWebhookSecret,
  stripeSecretKey,
  stripeWebhookSecret,
} from "./config";
import { systemClock } from "./lib/clock";
import { adminAppOptions, isEmulator } from "./lib/env";
import { appCallable, replayProtectedCallable } from "./lib/app-check";
import { requireAdmin, requireAuth } from "./lib/errors";
import { adminTaskEnqueuer } from "./lib/tasks";
// system and domain events
import { relayOutboxEvent, pubSubEventBus } from "./events/publisher";
import { DOMAIN_EVENTS_TOPIC, OUTBOX } from "./events/schema";
import { onSmokePingCreated, runSmokeTask, smokeTaskPayload } from "./system/smoke";
import { checkStatus } from "./system/status";
// identity and social graph
import { socialCallables } from "./social/callables";
import { graphBaseUrl, sdkGraphClient } from "./social/graph-client";
// wishes, comments, feed
import { onCommentAdded } from "./comments/added";
import { fanOutEvent, parseDomainEvent } from "./feed/worker";
import { reportContent as reportContentHandler, resolveReport as resolveReportHandler } from "./moderation/reports";
import { createWish as createWishHandler } from "./wishes/create";
import { cleanUpDeletedWish, deleteWish as deleteWishHandler, onFriendshipChanged, onGroupChanged, setWishAudience as setWishAudienceHandler } from "./wishes/manage";
// donations and payments
import { cancelAbandonedDonations, cancelDonation as cancelDonationHandler } from "./donations/cancel";
import { donate as donateHandler } from "./donations/donate";
import { processPaymentEvent } from "./donations/ledger";
import { reconcileWishCallable } from "./donations/reconcile";
import { handlePaymentWebhook } from "./donations/webhook";
import { StripePaymentProvider, stripeClient } from "./payments/stripe";
// notifications
import { markNotificationsRead as markNotificationsReadHandler } from "./notifications/inbox";
import { pushTransportFor } from "./notifications/transport";
import { handleDomainEventMessage } from "./notifications/worker";
// closing, refunds, ops
import { auditMoney } from "./closing/audit";
import { refreshOpsStatus } from "./ops/status";
import { opsActions } from "./ops/actions";
import { OPS_COMMANDS, runOpsCommand } from "./ops/commands";
import { closeWish as closeWishHandler } from "./closing/close";
import { deadlineTaskPayload, runDeadlineTask, scheduleDeadline, sweepExpiredWishes } from "./closing/deadline";
import { freezeWish as freezeWishHandler, retryRefund as retryRefundHandler } from "./closing/ops";
import { StripeClosingProvider } from "./closing/provider";
import { reconcileWithStripe } from "./closing/reconcile";
import { REFUND_MAX_ATTEMPTS, donationRefundView, fanOutRefunds, onDonationWrittenForRefunds, refundTaskPayload, runRefundTask, settleDonation } from "./closing/refunds";
import { closingView, onWishWrittenForClosing } from "./closing/trigger";
// payouts (Stripe Connect)
import { createPayoutAccountLink as createPayoutAccountLinkHandler } from "./payouts/accounts";
import { retryPayout as retryPayoutHandler } from "./payouts/ops";
import { PAYOUT_MAX_ATTEMPTS, payoutTaskPayload, processPayoutEvent, releaseOnboardingHolds, requestPayout, runPayoutTask } from "./payouts/payouts";
import { StripePayoutProvider } from "./payouts/provider";

initializeApp(adminAppOptions());
// Every callable below is declared with appCallable (App Check enforced) or replayProtectedCallable (App Check enforced
// and each token usable once: the money and admin callables). See src/lib/app-check.ts and docs/client-setup.md.
setGlobalOptions({ region: REGION, maxInstances: 20 });

const db = () => getFirestore();

export const status = onRequest({ cors: false }, async (_req, res) => {
  const report = await checkStatus({ db: db(), clock: systemClock, version: releaseVersion.value(), emulator: isEmulator() });
  res.status(report.firestore.ok ? 200 : 503).json(report);
});

export const smokePing = onDocumentCreated("system/smoke/pings/{pingId}", async (event) => {
  await onSmokePingCreated({ db: db(), clock: systemClock, tasks: adminTaskEnqueuer }, event.params.pingId);
});

export const smokeTask = onTaskDispatched(
  { retryConfig: { maxAttempts: 3, minBackoffSeconds: 1 }, rateLimits: { maxConcurrentDispatches: 5 } },
  async (request) => {
    await runSmokeTask({ db: db(), clock: systemClock }, smokeTaskPayload.parse(request.data));
  },
);

// ---- domain events: the outbox relay (events/{id} -> Pub/Sub "domain-events") ----
export const relayDomainEvent = onDocumentCreated({ document: `${OUTBOX}/{eventDocId}`, retry: true }, async (event) => {
  await relayOutboxEvent({ db: db(), bus: pubSubEventBus, now: systemClock.now() }, event.params.eventDocId);
});

// ---- identity and social graph ----
const socialDeps = () => ({ db: db(), auth: getAuth(), clock: systemClock });
const facebookDeps = () => ({
  ...socialDeps(),
  appId: facebookAppId.value(),
  graph: sdkGraphClient({ appId: facebookAppId.value(), appSecret: facebookAppSecret.value(), baseUrl: graphBaseUrl(isEmulator()) }),
});

export const syncFacebookProfile = appCallable("syncFacebookProfile", (request) => socialCallables.syncFacebookProfile(facebookDeps(), request), {
  secrets: [facebookAppSecret],
});
export const sendFriendRequest = appCallable("sendFriendRequest", (request) => socialCallables.sendFriendRequest(socialDeps(), request));
export const acceptFriendRequest = appCallable("acceptFriendRequest", (request) => socialCallables.acceptFriendRequest(socialDeps(), request));
export const declineFriendRequest = appCallable("declineFriendRequest", (request) => socialCallables.declineFriendRequest(socialDeps(), request));
export const cancelFriendRequest = appCallable("cancelFriendRequest", (request) => socialCallables.cancelFriendRequest(socialDeps(), request));
export const unfriend = appCallable("unfriend", (request) => socialCallables.unfriend(socialDeps(), request));
export const createGroup = appCallable("createGroup", (request) => socialCallables.createGroup(socialDeps(), request));
export const updateGroup = appCallable("updateGroup", (request) => socialCallables.updateGroup(socialDeps(), request));
export const deleteGroup = appCallable("deleteGroup", (request) => socialCallables.deleteGroup(socialDeps(), request));
export const registerDevice = appCallable("registerDevice", (request) => socialCallables.registerDevice(socialDeps(), request));
export const unregisterDevice = appCallable("unregisterDevice", (request) => socialCallables.unregisterDevice(socialDeps(), request));
export const signOutEverywhere = appCallable("signOutEverywhere", (request) => socialCallables.signOutEverywhere(socialDeps(), request));
export const deleteAccount = appCallable("deleteAccount", (request) => socialCallables.deleteAccount(socialDeps(), request));

// ---- wishes, comments, feed ----
const wishDeps = () => ({ db: db(), clock: systemClock });

export const createWish = appCallable("createWish", (request) => createWishHandler(wishDeps(), requireAuth(request), request.data));
export const deleteWish = appCallable("deleteWish", (request) => deleteWishHandler(wishDeps(), requireAuth(request), request.data));
export const setWishAudience = appCallable("setWishAudience", (request) => setWishAudienceHandler(wishDeps(), requireAuth(request), request.data));

// Reports of wishes and comments, and their resolution by ops (admin claim; audited). docs/operations.md "Reports".
export const reportContent = appCallable("reportContent", (request) => reportContentHandler(wishDeps(), requireAuth(request), request.data));
export const resolveReport = replayProtectedCallable("resolveReport", (request) => resolveReportHandler(wishDeps(), requireAdmin(request), request.data));

export const wishDeleted = onDocumentDeleted({ document: "wishes/{wishId}", retry: true }, async (event) => {
  await cleanUpDeletedWish(db(), event.params.wishId);
});

export const wishAudienceOnFriendChange = onDocumentWritten({ document: "users/{uid}/friends/{friendId}", retry: true }, async (event) => {
  if (event.data?.before.exists === event.data?.after.exists) return; // an update of an existing friendship changes no access
  await onFriendshipChanged(wishDeps(), event.params.uid, event.params.friendId);
});

export const wishAudienceOnGroupChange = onDocumentWritten({ document: "users/{uid}/groups/{groupId}", retry: true }, async (event) => {
  await onGroupChanged(wishDeps(), event.params.uid, event.params.groupId);
});

export const commentAdded = onDocumentCreated({ document: "wishes/{wishId}/comments/{commentId}", retry: true }, async (event) => {
  await onCommentAdded(wishDeps(), event.params.wishId, event.params.commentId);
});

export const feedFanOut = onMessagePublished({ topic: DOMAIN_EVENTS_TOPIC, retry: true }, async (event) => {
  const domainEvent = parseDomainEvent(event.data.message);
  if (domainEvent) await fanOutEvent(wishDeps(), domainEvent);
});

// ---- donations and payments ----
const paymentProvider = () => new StripePaymentProvider(stripeClient(stripeSecretKey.value()), stripeWebhookSecret.value());
const paymentDeps = () => ({ db: db(), clock: systemClock, provider: paymentProvider(), tasks: adminTaskEnqueuer });

export const donate = replayProtectedCallable("donate", (request) => donateHandler(paymentDeps(), request), {
  secrets: [stripeSecretKey, stripeWebhookSecret],
});

export const stripeWebhook = onRequest({ secrets: [stripeSecretKey, stripeWebhookSecret], cors: false }, async (req, res) => {
  const result = await handlePaymentWebhook(paymentDeps(), { method: req.method, rawBody: req.rawBody, signature: req.get("stripe-signature") });
  res.status(result.status).json(result.body);
});

export const cancelDonation = replayProtectedCallable("cancelDonation", (request) => cancelDonationHandler(paymentDeps(), request), {
  secrets: [stripeSecretKey, stripeWebhookSecret],
});

// Pending donations nobody paid for ABANDONED_AFTER_MS are canceled at Stripe and marked so (docs/donations.md).
export const cancelAbandonedDonationsSweep = onSchedule(
  { schedule: "every 60 minutes", timeZone: "Etc/UTC", secrets: [stripeSecretKey, stripeWebhookSecret], timeoutSeconds: 300 },
  async () => {
    await cancelAbandonedDonations(paymentDeps());
  },
);

export const reconcileWishLedger = replayProtectedCallable("reconcileWishLedger", (request) =>
  reconcileWishCallable({ db: db(), clock: systemClock }, request),
);

// ---- notifications ----
const pushTransport = pushTransportFor(process.env, () => getMessaging());

// timeoutSeconds: a friend.joined fan-out to thousands of friends; the worker's push lease (6 min) outlasts it.
export const notifyOnDomainEvent = onMessagePublished({ topic: DOMAIN_EVENTS_TOPIC, retry: true, timeoutSeconds: 300 }, async (event) => {
  const { messageId, data, attributes } = event.data.message;
  await handleDomainEventMessage({ db: db(), clock: systemClock, push: pushTransport }, { messageId, data, attributes });
});

export const markNotificationsRead = appCallable("markNotificationsRead", (request) =>
  markNotificationsReadHandler({ db: db(), clock: systemClock }, requireAuth(request), request.data),
);

// ---- closing, refunds, payouts, ops ----
const closingDeps = () => ({ db: db(), clock: systemClock, tasks: adminTaskEnqueuer });
const closingProvider = () => new StripeClosingProvider(stripeClient(stripeSecretKey.value()));

export const closeWish = replayProtectedCallable("closeWish", (request) => closeWishHandler(closingDeps(), requireAuth(request), request.data));

// Wish created / deadline moved → deadline chain; open → closed | expired → refund fan-out.
export const wishClosingOnWrite = onDocumentWritten({ document: "wishes/{wishId}", retry: true }, async (event) => {
  const deps = closingDeps();
  const wishId = event.params.wishId;
  await onWishWrittenForClosing(
    {
      scheduleDeadline: (deadline) => scheduleDeadline(deps, wishId, deadline, 0),
      refundAll: (reason) => fanOutRefunds(deps, wishId, reason),
      payOut: () => requestPayout(deps, wishId),
    },
    closingView(event.data?.before),
    closingView(event.data?.after),
    event.data?.after.updateTime?.toDate() ?? deps.clock.now(),
  );
});

export const wishDeadline = onTaskDispatched(
  { retryConfig: { maxAttempts: 10, minBackoffSeconds: 30, maxBackoffSeconds: 3600 }, rateLimits: { maxConcurrentDispatches: 20 } },
  async (request) => {
    const scheduled = new Date(request.scheduledTime);
    await runDeadlineTask(closingDeps(), deadlineTaskPayload.parse(request.data), Number.isNaN(scheduled.getTime()) ? undefined : scheduled);
  },
);

export const wishDeadlineSweep = onSchedule({ schedule: "every 15 minutes", timeZone: "Etc/UTC" }, async () => {
  await sweepExpiredWishes(closingDeps());
});

export const refundDonation = onTaskDispatched(
  {
    secrets: [stripeSecretKey],
    retryConfig: { maxAttempts: REFUND_MAX_ATTEMPTS, minBackoffSeconds: 5, maxBackoffSeconds: 3600, maxDoublings: 8 },
    rateLimits: { maxConcurrentDispatches: 10, maxDispatchesPerSecond: 20 },
  },
  async (request) => {
    const deps = closingDeps();
    await runRefundTask(
      { ...deps, provider: closingProvider(), applyProviderEvent: (event) => processPaymentEvent(deps, event) },
      refundTaskPayload.parse(request.data),
      request.retryCount,
    );
  },
);

// A donation fully refunded → our refund request completes; a donation succeeding on a closed wish → refund it.
export const donationRefundOnWrite = onDocumentWritten({ document: "donations/{donationId}", retry: true }, async (event) => {
  await onDonationWrittenForRefunds(
    closingDeps(),
    event.params.donationId,
    donationRefundView(event.data?.before),
    donationRefundView(event.data?.after),
  );
});

// Ops (admin custom claim only; every action lands in auditLog).
export const retryRefund = replayProtectedCallable("retryRefund", (request) => retryRefundHandler(closingDeps(), requireAdmin(request), request.data));
export const freezeWish = replayProtectedCallable("freezeWish", (request) => freezeWishHandler(closingDeps(), requireAdmin(request), request.data));

// Reconciliation with Stripe (look-back and reasons in src/closing/reconcile.ts and docs/operations.md).
// A 4-day window can hold thousands of objects: allow more than the default 60 s.
export const reconcileStripe = onSchedule(
  { schedule: "every 60 minutes", timeZone: "Etc/UTC", secrets: [stripeSecretKey], timeoutSeconds: 540 },
  async () => {
    const deps = { db: db(), clock: systemClock };
    await reconcileWithStripe({
      ...deps,
      provider: closingProvider(),
      applyPaymentEvent: (event) => processPaymentEvent(deps, event),
      applyRefundEvent: (event) => processPaymentEvent(deps, event),
      settleDonation: (donationId) => settleDonation(closingDeps(), donationId),
      payouts: payoutProvider(),
      applyTransferEvent: (event) => processPayoutEvent({ ...deps, tasks: adminTaskEnqueuer }, event),
    });
  },
);

// The money invariant of every wish whose money moved lately, against Stripe (docs/operations.md "The money audit").
// At half past the hour, so the hourly reconciliation's repairs come first.
/** `ops/status`: what needs a human, for the console (docs/operations.md, "The status page"). */
export const refreshOpsStatusJob = onSchedule({ schedule: "every 5 minutes", timeZone: "Etc/UTC" }, async () => {
  await refreshOpsStatus({ db: db(), clock: systemClock });
});

export const auditWishMoney = onSchedule({ schedule: "30 * * * *", timeZone: "Etc/UTC", secrets: [stripeSecretKey], timeoutSeconds: 540 }, async () => {
  const deps = closingDeps();
  await auditMoney({
    ...deps,
    provider: closingProvider(),
    payouts: payoutProvider(),
    applyProviderEvent: (event) => processPaymentEvent(deps, event),
  });
});

// ---- payouts (Stripe Connect Express; docs/operations.md "Payouts") ----
const payoutProvider = () => new StripePayoutProvider(stripeClient(stripeSecretKey.value()));

export const createPayoutAccountLink = replayProtectedCallable(
  "createPayoutAccountLink",
  (request) =>
    createPayoutAccountLinkHandler(
      {
        db: db(),
        clock: systemClock,
        provider: payoutProvider(),
        urls: { returnUrl: payoutOnboardingReturnUrl.value(), refreshUrl: payoutOnboardingRefreshUrl.value() },
      },
      requireAuth(request),
      request.data,
    ),
  { secrets: [stripeSecretKey] },
);

export const payOutWish = onTaskDispatched(
  {
    secrets: [stripeSecretKey],
    // Long backoff: a transfer waits for the donations' charges to settle into the available balance (days).
    retryConfig: { maxAttempts: PAYOUT_MAX_ATTEMPTS, minBackoffSeconds: 60, maxBackoffSeconds: 6 * 3600, maxDoublings: 8 },
    rateLimits: { maxConcurrentDispatches: 5, maxDispatchesPerSecond: 5 },
  },
  async (request) => {
    await runPayoutTask({ ...closingDeps(), provider: payoutProvider() }, payoutTaskPayload.parse(request.data), request.retryCount);
  },
);

// The owner's account became able to receive transfers → their held payouts go out.
export const payoutAccountOnWrite = onDocumentWritten({ document: "payoutAccounts/{uid}", retry: true }, async (event) => {
  const before = event.data?.before.get("transfersActive") === true;
  const after = event.data?.after.get("transfersActive") === true;
  if (after && !before) await releaseOnboardingHolds(closingDeps(), event.params.uid);
});

// Connect events (account.updated) come to their own endpoint, signed with the Connect endpoint's secret.
export const stripeConnectWebhook = onRequest({ secrets: [stripeSecretKey, stripeConnectWebhookSecret], cors: false }, async (req, res) => {
  const provider = new StripePaymentProvider(stripeClient(stripeSecretKey.value()), stripeConnectWebhookSecret.value());
  const result = await handlePaymentWebhook(
    { db: db(), clock: systemClock, provider, tasks: adminTaskEnqueuer },
    { method: req.method, rawBody: req.rawBody, signature: req.get("stripe-signature") },
  );
  res.status(result.status).json(result.body);
});

export const retryPayout = replayProtectedCallable(
  "retryPayout",
  (request) => retryPayoutHandler({ ...closingDeps(), provider: payoutProvider() }, requireAdmin(request), request.data),
  { secrets: [stripeSecretKey] },
);

// ---- ops commands: actions as documents an admin creates in the console (docs/operations.md, "Ops commands") ----
// retry: a delivery that fails before the command is claimed is tried again; the run record makes it exactly once.
export const opsCommandOnWrite = onDocumentWrittenWithAuthContext(
  { document: `${OPS_COMMANDS}/{commandId}`, secrets: [stripeSecretKey], retry: true, timeoutSeconds: 300 },
  async (event) => {
    if (!event.data?.after.exists) return;
    const actions = opsActions({
      ops: closingDeps(),
      payoutProvider,
      notifications: () => ({ db: db(), clock: systemClock, push: pushTransport }),
      auth: () => getAuth(),
    });
    await runOpsCommand({ db: db(), clock: systemClock, actions }, event.params.commandId, event.id, { authType: event.authType, authId: event.authId });
  },
);
