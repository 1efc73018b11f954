// The client contract as data: every document an app may read and every callable it may call, each with the zod
// schema the server uses (request schemas and document shapes come from src/; response schemas are declared here and
// type-checked against the handlers' return types) and a JSON example that the schema accepts (test/unit/contract.test.ts).
// devtools/contract/generate.ts turns this into JSON Schema files under docs/contract/ (`npm run contract`).
import { z } from "zod";
import { closeWishInput } from "../../src/closing/close";
import type { closeWish } from "../../src/closing/close";
import { freezeWishInput, retryRefundInput } from "../../src/ops/refunds";
import type { freezeWish, retryRefund } from "../../src/ops/refunds";
import { cancelDonationInput } from "../../src/donations/cancel";
import type { cancelDonation } from "../../src/donations/cancel";
import { donateInput } from "../../src/donations/donate";
import type { DonateResult } from "../../src/donations/donate";
import { reconcileInput } from "../../src/donations/reconcile";
import type { reconcileWishAction } from "../../src/donations/reconcile";
import { rateWindowSchema } from "../../src/lib/rate-limit";
import { contributionSchema, donationSchema, supporterSchema } from "../../src/model/donation";
import { payoutAccountSchema, payoutSchema } from "../../src/model/payout";
import { deviceSchema, friendGroupSchema, friendRequestSchema, friendSchema, privateAccountSchema, pushTargetsSchema, userProfileSchema } from "../../src/model/social";
import { commentSchema, feedItemSchema, wishSchema } from "../../src/model/wish";
import { reportContentInput, resolveReportInput } from "../../src/moderation/reports";
import type { reportContent, resolveReport } from "../../src/moderation/reports";
import { markNotificationsReadInput } from "../../src/notifications/inbox";
import type { markNotificationsRead } from "../../src/notifications/inbox";
import { inboxCounterSchema, inboxItemSchema } from "../../src/notifications/model";
import { createPayoutAccountLinkInput } from "../../src/payouts/accounts";
import type { PayoutAccountLink } from "../../src/payouts/accounts";
import { retryPayoutInput } from "../../src/ops/payouts";
import type { RetryPayoutResult } from "../../src/ops/payouts";
import type { DeleteAccountResult } from "../../src/social/account";
import { registerDeviceInput, unregisterDeviceInput } from "../../src/social/devices";
import type { registerDevice, signOutEverywhere, unregisterDevice } from "../../src/social/devices";
import { syncFacebookInput } from "../../src/social/facebook";
import type { SyncFacebookResult } from "../../src/social/facebook";
import { friendInput, fromUserInput, toUserInput } from "../../src/social/friends";
import type { acceptFriendRequest, sendFriendRequest } from "../../src/social/friends";
import { createGroupInput, deleteGroupInput, updateGroupInput } from "../../src/social/groups";
import type { createGroup, deleteGroup } from "../../src/social/groups";
import { createWishInput, setAudienceInput, wishIdInput } from "../../src/wishes/input";
import type { createWish } from "../../src/wishes/create";
import type { deleteWish, setWishAudience } from "../../src/wishes/manage";

/** A handler's answer type, for checking a response schema against it. */
type Answer<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;
/** A response schema whose output must be assignable to the handler's answer (tsc fails on drift). */
const answers = <T>(schema: z.ZodType<T>): z.ZodType<T> => schema;

export interface DocumentContract {
  /** File name in docs/contract/documents/. */
  name: string;
  /** Firestore path pattern. */
  path: string;
  readBy: string;
  schema: z.ZodType;
  example: unknown;
}

export interface CallableContract {
  name: string;
  /** Where the callable is described (errors, behaviour). */
  doc: string;
  request: z.ZodType;
  response: z.ZodType;
  requestExample: unknown;
  responseExample: unknown;
}

const at = (iso: string) => new Date(iso);
const T1 = at("2026-11-30T12:00:00.000Z");
const T2 = at("2026-12-01T09:30:00.000Z");

/** A donation digest of wish-1: Frank and Grace by name, one anonymous donation (the feed's sum leaves it out). */
const digestExample = (amount: number) => ({
  wishId: "wish-1",
  donations: 3,
  amount,
  currency: "CZK",
  donors: [
    { userId: "uid-frank", name: "Frank Walker" },
    { userId: "uid-grace", name: "Grace Hopper" },
  ],
  anonymous: 1,
  people: 3,
  firstAt: T1,
  lastAt: T2,
});
const ok = z.object({ ok: z.literal(true) });

export const DOCUMENTS: DocumentContract[] = [
  {
    name: "user-profile",
    path: "users/{uid}",
    readBy: "self, friends, either party of a pending friend request",
    schema: userProfileSchema,
    example: { displayName: "Erin Walker", photoUrl: "https://graph.facebook.com/erin/picture", facebookLinked: true, createdAt: T1, updatedAt: T1 },
  },
  {
    name: "private-account",
    path: "users/{uid}/private/account",
    readBy: "owner (may update settings only)",
    schema: privateAccountSchema,
    example: {
      firstName: "Erin",
      lastName: "Walker",
      email: "erin@example.com",
      birthday: "1994-12-04",
      facebookId: "10200000000000001",
      settings: { locale: "en", mutedCategories: [], showDonationsInFeed: true, adsConsent: false },
      facebookSync: { status: "complete", lastAttemptAt: T1, lastCompletedAt: T1, friendsSyncedAt: T1 },
    },
  },
  { name: "friend", path: "users/{uid}/friends/{friendUid}", readBy: "owner", schema: friendSchema, example: { friendId: "uid-frank", source: "facebook", since: T1 } },
  { name: "friend-request", path: "friendRequests/{fromUid}_{toUid}", readBy: "from and to", schema: friendRequestSchema, example: { from: "uid-dana", to: "uid-bob", createdAt: T1 } },
  {
    name: "friend-group",
    path: "users/{uid}/groups/{groupId}",
    readBy: "owner",
    schema: friendGroupSchema,
    example: { name: "Family", memberIds: ["uid-bob"], createdAt: T1, updatedAt: T1 },
  },
  {
    name: "device",
    path: "users/{uid}/devices/{deviceId}",
    readBy: "owner",
    schema: deviceSchema,
    example: { platform: "ios", token: "fcm-registration-token", locale: "en-GB", appVersion: "1.0.0", lastSeenAt: T1 },
  },
  {
    name: "push-targets",
    path: "users/{uid}/private/push",
    readBy: "owner",
    schema: pushTargetsSchema,
    example: { devices: { "erin-iphone-01": { platform: "ios", token: "fcm-registration-token", locale: "en-GB" } } },
  },
  { name: "inbox-counter", path: "users/{uid}/private/inbox", readBy: "owner", schema: inboxCounterSchema, example: { unread: 2 } },
  {
    name: "rate-window",
    path: "users/{uid}/rateLimits/{action}",
    readBy: "owner (writes the comments window with each comment)",
    schema: rateWindowSchema,
    example: { windowStart: T1, count: 3, last: T2, lastKey: "donations" },
  },
  {
    name: "wish",
    path: "wishes/{wishId}",
    readBy: "uids in viewerIds (the organizer edits title, description, imageUrl)",
    schema: wishSchema,
    example: {
      ownerId: "uid-erin",
      organizerId: "uid-erin",
      isSurprise: false,
      title: "Walking boots",
      description: "For the Tatras in spring",
      imageUrl: null,
      amount: 300000,
      currency: "CZK",
      deadline: at("2027-01-31T18:00:00.000Z"),
      audience: { kind: "friends", groupIds: [], userIds: [] },
      viewerIds: ["uid-erin", "uid-frank"],
      status: "open",
      raised: 120000,
      donorCount: 1,
      hasSucceededDonation: true,
      raisedAsOf: T2,
      createdAt: T1,
      updatedAt: T2,
      fundedAt: null,
      closedAt: null,
      revealedAt: null,
    },
  },
  {
    name: "comment",
    path: "wishes/{wishId}/comments/{commentId}",
    readBy: "viewers of the wish (a viewer creates their own: authorId, text, createdAt)",
    schema: commentSchema,
    example: { authorId: "uid-frank", text: "Good luck!", createdAt: T2, authorName: "Frank Walker", authorPhotoUrl: null },
  },
  {
    name: "supporter",
    path: "wishes/{wishId}/supporters/{donationId}",
    readBy: "viewers of the wish",
    schema: supporterSchema,
    example: { donorId: "uid-frank", displayName: "Frank Walker", amount: 120000, currency: "CZK", message: "Enjoy!", anonymous: false, createdAt: T2 },
  },
  {
    name: "feed-item",
    path: "users/{uid}/feed/{itemId}",
    readBy: "owner",
    schema: feedItemSchema,
    example: {
      // A donation digest (id donations_wish-1_1): every shared donation of the wish in one item, rewritten by its fold.
      type: "donation.received",
      eventId: "donation.received:don-3",
      wishId: "wish-1",
      wishTitle: "Walking boots",
      ownerId: "uid-erin",
      organizerId: "uid-erin",
      isSurprise: false,
      actorId: "uid-grace",
      amount: 170000,
      currency: "CZK",
      commentId: null,
      createdAt: T2,
      digest: digestExample(170000),
    },
  },
  {
    name: "contribution",
    path: "users/{uid}/contributions/{wishId}",
    readBy: "owner",
    schema: contributionSchema,
    example: { wishId: "wish-1", donorId: "uid-frank", currency: "CZK", amount: 120000, donationCount: 1, firstGivenAt: T2, updatedAt: T2 },
  },
  {
    name: "notification",
    path: "users/{uid}/notifications/{eventDocId | donations_{wishId}_{n}}",
    readBy: "owner (queries carry limit(n ≤ 50))",
    schema: inboxItemSchema,
    example: {
      // A donation digest (id donations_wish-1_1): a busy wish's donations in one item that its fold task updates.
      type: "donation.received",
      category: "donations",
      eventId: "donation.received:don-3",
      titleKey: "notif_donation_digest_title",
      bodyKey: "notif_donation_digest_body",
      args: ["3 friends chipped in", "CZK 4,300.00", "Walking boots", "Frank Walker, Grace Hopper and 1 more"],
      title: "3 friends chipped in",
      body: "CZK 4,300.00 in total for “Walking boots”: Frank Walker, Grace Hopper and 1 more",
      locale: "en",
      data: { wishId: "wish-1" },
      read: false,
      createdAt: T2,
      push: { state: "sent", leaseUntil: null, attempts: 1, devices: 1, delivered: 1, removedTokens: 0, lastError: null, finishedAt: T2 },
      digest: digestExample(430000),
    },
  },
  {
    name: "donation",
    path: "donations/{donationId}",
    readBy: "the donor (list only with where(donorId == myUid))",
    schema: donationSchema,
    example: {
      wishId: "wish-1",
      donorId: "uid-frank",
      donorDisplayName: "Frank Walker",
      amount: 120000,
      currency: "CZK",
      message: "Enjoy!",
      anonymous: false,
      status: "succeeded",
      paymentStatus: "succeeded",
      paymentStatusAt: 1796117400000,
      failureCode: null,
      cancellationReason: null,
      amountReceived: 120000,
      method: "card",
      provider: "stripe",
      customerId: "cus_Q1example",
      paymentIntentId: "pi_3Q1example",
      chargeId: "ch_3Q1example",
      refunds: {},
      refundedAmount: 0,
      disputes: {},
      ledgerEntryIds: ["charge_pi_3Q1example"],
      netAmount: 120000,
      createdAt: T2,
      updatedAt: T2,
      succeededAt: T2,
    },
  },
  {
    name: "payout-account",
    path: "payoutAccounts/{uid}",
    readBy: "the user, admins",
    schema: payoutAccountSchema,
    example: {
      uid: "uid-erin",
      provider: "stripe",
      accountId: "acct_1Q1example",
      transfersActive: true,
      payoutsEnabled: true,
      detailsSubmitted: true,
      requirementsDue: [],
      stateAt: 1796117400000,
      createdAt: T1,
      updatedAt: T2,
    },
  },
  {
    name: "payout",
    path: "payouts/{wishId}",
    readBy: "the wish's owner, admins",
    schema: payoutSchema,
    example: {
      wishId: "wish-1",
      ownerId: "uid-erin",
      currency: "CZK",
      status: "paid",
      reason: null,
      destinationAccountId: "acct_1Q1example",
      grossAccounted: 300000,
      feeAmount: 15000,
      paidAmount: 285000,
      shortfall: 0,
      pendingTransfer: null,
      transfers: { tr_1Q1example: { seq: 0, amount: 285000, confirmed: true, reversals: {} } },
      nextSeq: 1,
      round: 0,
      attempts: 1,
      createdAt: T2,
      updatedAt: T2,
      paidAt: T2,
    },
  },
];

const donateResult = answers<DonateResult>(
  z.discriminatedUnion("method", [
    z.object({ method: z.literal("card"), donationId: z.string(), paymentIntentClientSecret: z.string(), customerId: z.string(), ephemeralKeySecret: z.string() }),
    z.object({ method: z.literal("bitcoin"), donationId: z.string(), invoiceId: z.string(), checkoutLink: z.string(), expiresAt: z.string() }),
    z.object({
      method: z.literal("bank_transfer"),
      donationId: z.string(),
      instructions: z.object({
        iban: z.string(),
        accountNumber: z.string(),
        bankCode: z.string(),
        amount: z.number().int(),
        currency: z.string(),
        variableSymbol: z.string(),
        message: z.string(),
        spdQr: z.string(),
        dueAt: z.string(),
      }),
    }),
  ]),
);
const syncResult = answers<SyncFacebookResult>(
  z.object({
    status: z.enum(["complete", "incomplete"]),
    profileSynced: z.boolean(),
    friendsSynced: z.boolean(),
    newFriendIds: z.array(z.string()),
    firstSignUp: z.boolean(),
  }),
);
const counts = z.object({ raised: z.number().int(), donorCount: z.number().int(), hasSucceededDonation: z.boolean() });

const social = "docs/social.md";
const wishes = "docs/wishes.md";
const donations = "docs/donations.md";
const ops = "docs/operations.md";

export const CALLABLES: CallableContract[] = [
  {
    name: "syncFacebookProfile",
    doc: social,
    request: syncFacebookInput,
    response: syncResult,
    requestExample: { accessToken: "EAAB…", adsConsent: true },
    responseExample: { status: "complete", profileSynced: true, friendsSynced: true, newFriendIds: ["uid-erin"], firstSignUp: true },
  },
  {
    name: "sendFriendRequest",
    doc: social,
    request: toUserInput,
    response: answers<Answer<typeof sendFriendRequest>>(z.object({ requestId: z.string() })),
    requestExample: { toUid: "uid-bob" },
    responseExample: { requestId: "uid-dana_uid-bob" },
  },
  {
    name: "acceptFriendRequest",
    doc: social,
    request: fromUserInput,
    response: answers<Answer<typeof acceptFriendRequest>>(z.object({ friendUid: z.string() })),
    requestExample: { fromUid: "uid-dana" },
    responseExample: { friendUid: "uid-dana" },
  },
  { name: "declineFriendRequest", doc: social, request: fromUserInput, response: ok, requestExample: { fromUid: "uid-dana" }, responseExample: { ok: true } },
  { name: "cancelFriendRequest", doc: social, request: toUserInput, response: ok, requestExample: { toUid: "uid-bob" }, responseExample: { ok: true } },
  { name: "unfriend", doc: social, request: friendInput, response: ok, requestExample: { friendUid: "uid-bob" }, responseExample: { ok: true } },
  {
    name: "createGroup",
    doc: social,
    request: createGroupInput,
    response: answers<Answer<typeof createGroup>>(z.object({ groupId: z.string() })),
    requestExample: { name: "Family", memberIds: ["uid-bob"] },
    responseExample: { groupId: "grp-1" },
  },
  {
    name: "updateGroup",
    doc: social,
    request: updateGroupInput,
    response: answers<Answer<typeof createGroup>>(z.object({ groupId: z.string() })),
    requestExample: { groupId: "grp-1", name: "Close family" },
    responseExample: { groupId: "grp-1" },
  },
  {
    name: "deleteGroup",
    doc: social,
    request: deleteGroupInput,
    response: answers<Answer<typeof deleteGroup>>(z.object({ deleted: z.boolean() })),
    requestExample: { groupId: "grp-1" },
    responseExample: { deleted: true },
  },
  {
    name: "registerDevice",
    doc: social,
    request: registerDeviceInput,
    response: answers<Answer<typeof registerDevice>>(z.object({ deviceId: z.string() })),
    requestExample: { deviceId: "erin-iphone-01", platform: "ios", token: "fcm-registration-token", locale: "en-GB", appVersion: "1.0.0" },
    responseExample: { deviceId: "erin-iphone-01" },
  },
  {
    name: "unregisterDevice",
    doc: social,
    request: unregisterDeviceInput,
    response: answers<Answer<typeof unregisterDevice>>(ok),
    requestExample: { deviceId: "erin-iphone-01" },
    responseExample: { ok: true },
  },
  {
    name: "signOutEverywhere",
    doc: social,
    request: z.object({}),
    response: answers<Answer<typeof signOutEverywhere>>(z.object({ devicesRemoved: z.number().int() })),
    requestExample: {},
    responseExample: { devicesRemoved: 2 },
  },
  {
    name: "deleteAccount",
    doc: social,
    request: z.object({}),
    response: answers<DeleteAccountResult>(z.object({ friendshipsRemoved: z.number().int(), requestsRemoved: z.number().int(), devicesRemoved: z.number().int() })),
    requestExample: {},
    responseExample: { friendshipsRemoved: 3, requestsRemoved: 1, devicesRemoved: 2 },
  },
  {
    name: "createWish",
    doc: wishes,
    request: createWishInput(T1),
    response: answers<Answer<typeof createWish>>(z.object({ wishId: z.string() })),
    requestExample: {
      title: "Walking boots",
      description: "For the Tatras in spring",
      amount: 300000,
      currency: "CZK",
      deadline: "2027-01-31T18:00:00Z",
      audience: { kind: "friends" },
      requestId: "create-7f3a9c21",
    },
    responseExample: { wishId: "wish-1" },
  },
  {
    name: "deleteWish",
    doc: wishes,
    request: wishIdInput,
    response: answers<Answer<typeof deleteWish>>(z.object({ deleted: z.literal(true) })),
    requestExample: { wishId: "wish-1" },
    responseExample: { deleted: true },
  },
  {
    name: "setWishAudience",
    doc: wishes,
    request: setAudienceInput,
    response: answers<Answer<typeof setWishAudience>>(z.object({ viewerCount: z.number().int() })),
    requestExample: { wishId: "wish-1", audience: { kind: "people", userIds: ["uid-frank"] } },
    responseExample: { viewerCount: 2 },
  },
  {
    name: "reportContent",
    doc: wishes,
    request: reportContentInput,
    response: answers<Answer<typeof reportContent>>(z.object({ received: z.literal(true), alreadyReported: z.boolean() })),
    requestExample: { wishId: "wish-1", commentId: "c-1", reason: "spam" },
    responseExample: { received: true, alreadyReported: false },
  },
  {
    name: "resolveReport",
    doc: ops,
    request: resolveReportInput,
    response: answers<Answer<typeof resolveReport>>(z.object({ result: z.enum(["kept", "removed", "unchanged"]) })),
    requestExample: { caseId: "case-1", resolution: "keep", reason: "not spam" },
    responseExample: { result: "kept" },
  },
  {
    name: "donate",
    doc: donations,
    request: donateInput,
    response: donateResult,
    requestExample: { wishId: "wish-1", amount: 120000, currency: "CZK", message: "Enjoy!", requestId: "tap-0b7c2e19", method: "card" },
    responseExample: { method: "card", donationId: "don-1", paymentIntentClientSecret: "pi_3Q1example_secret_abc", customerId: "cus_Q1example", ephemeralKeySecret: "ek_test_abc" },
  },
  {
    name: "cancelDonation",
    doc: donations,
    request: cancelDonationInput,
    response: answers<Answer<typeof cancelDonation>>(z.object({ status: z.literal("canceled") })),
    requestExample: { donationId: "don-1" },
    responseExample: { status: "canceled" },
  },
  {
    name: "reconcileWishLedger",
    doc: donations,
    request: reconcileInput,
    response: answers<Answer<typeof reconcileWishAction>>(
      z.object({
        result: z.enum(["in_order", "drift", "repaired"]),
        drift: z.boolean(),
        repaired: z.boolean(),
        expected: counts,
        actual: counts,
        paidAmount: z.object({ expected: z.number().int(), actual: z.number().int() }).nullable(),
      }),
    ),
    requestExample: { wishId: "wish-1", repair: false, reason: "donor asked why the total changed" },
    responseExample: {
      result: "in_order",
      drift: false,
      repaired: false,
      expected: { raised: 120000, donorCount: 1, hasSucceededDonation: true },
      actual: { raised: 120000, donorCount: 1, hasSucceededDonation: true },
      paidAmount: null,
    },
  },
  {
    name: "markNotificationsRead",
    doc: "docs/notifications.md",
    request: markNotificationsReadInput,
    response: answers<Answer<typeof markNotificationsRead>>(z.object({ marked: z.number().int() })),
    requestExample: { ids: ["donation.received:don-1"] },
    responseExample: { marked: 1 },
  },
  {
    name: "closeWish",
    doc: ops,
    request: closeWishInput,
    response: answers<Answer<typeof closeWish>>(z.object({ status: z.literal("closed") })),
    requestExample: { wishId: "wish-1" },
    responseExample: { status: "closed" },
  },
  {
    name: "retryRefund",
    doc: ops,
    request: retryRefundInput,
    response: answers<Answer<typeof retryRefund>>(
      z.discriminatedUnion("result", [z.object({ result: z.literal("queued"), generation: z.number().int() }), z.object({ result: z.literal("waiting_dispute") })]),
    ),
    requestExample: { donationId: "don-1", reason: "card reissued, retry" },
    responseExample: { result: "queued", generation: 1 },
  },
  {
    name: "freezeWish",
    doc: ops,
    request: freezeWishInput,
    response: answers<Answer<typeof freezeWish>>(z.object({ result: z.enum(["frozen", "unfrozen", "unchanged"]) })),
    requestExample: { wishId: "wish-1", frozen: true, reason: "suspected fraud" },
    responseExample: { result: "frozen" },
  },
  {
    name: "createPayoutAccountLink",
    doc: ops,
    request: createPayoutAccountLinkInput,
    response: answers<PayoutAccountLink>(z.object({ url: z.string(), expiresAt: z.string(), transfersActive: z.boolean(), requirementsDue: z.array(z.string()) })),
    requestExample: {},
    responseExample: { url: "https://connect.stripe.com/setup/e/acct_1Q1example/abc", expiresAt: "2026-11-30T12:05:00.000Z", transfersActive: false, requirementsDue: ["external_account"] },
  },
  {
    name: "retryPayout",
    doc: ops,
    request: retryPayoutInput,
    response: answers<RetryPayoutResult>(
      z.discriminatedUnion("result", [z.object({ result: z.literal("queued"), round: z.number().int() }), z.object({ result: z.literal("adopted"), transferId: z.string() })]),
    ),
    requestExample: { wishId: "wish-1", reason: "bank details fixed" },
    responseExample: { result: "queued", round: 1 },
  },
];
