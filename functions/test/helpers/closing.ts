// Test data for the closing domain (issue 6): wishes and donations written as the server would write them.
import type { Wish } from "../../src/model/wish";
import type { Donation } from "../../src/model/donation";
import { adminDb } from "../../devtools/support/admin";
import { newWishState } from "../../src/model/wish";

let counter = 0;

export function wishData(overrides: Partial<Wish> = {}): Wish {
  const now = new Date();
  return {
    ownerId: "owner",
    organizerId: overrides.ownerId ?? "owner",
    isSurprise: false,
    title: "A bicycle",
    description: "",
    imageUrl: null,
    amount: 100_000,
    currency: "CZK",
    deadline: new Date(now.getTime() + 24 * 60 * 60 * 1000),
    audience: { kind: "friends", groupIds: [], userIds: [] },
    viewerIds: ["owner", "friend"],
    ...newWishState(now),
    ...overrides,
  };
}

/** Writes `wishes/{id}` through the Admin SDK (so the wish triggers run as for a created wish). */
export async function seedWish(overrides: Partial<Wish> = {}, id = `wish-${Date.now()}-${++counter}`): Promise<string> {
  await adminDb().collection("wishes").doc(id).set(wishData(overrides));
  return id;
}

export function donationData(wishId: string, overrides: Partial<Donation> = {}): Donation {
  const now = new Date();
  return {
    wishId,
    donorId: "friend",
    donorDisplayName: "Friend",
    amount: 20_000,
    currency: "CZK",
    message: null,
    anonymous: false,
    status: "succeeded",
    paymentStatus: "succeeded",
    paymentStatusAt: now.getTime(),
    failureCode: null,
    cancellationReason: null,
    amountReceived: null,
    method: "card",
    provider: "stripe",
    customerId: "cus_test",
    paymentIntentId: `pi_test_${++counter}`,
    chargeId: `ch_test_${counter}`,
    refunds: {},
    refundedAmount: 0,
    disputes: {},
    ledgerEntryIds: [],
    netAmount: overrides.amount ?? 20_000,
    createdAt: now,
    updatedAt: now,
    succeededAt: now,
    ...overrides,
  };
}

export async function seedDonation(wishId: string, overrides: Partial<Donation> = {}, id = `don-${Date.now()}-${++counter}`): Promise<string> {
  await adminDb().collection("donations").doc(id).set(donationData(wishId, overrides));
  return id;
}

/** The outbox document of a domain event id (see src/events/outbox.ts). */
export async function outboxEvent(eventId: string): Promise<Record<string, unknown> | undefined> {
  const snap = await adminDb().collection("events").doc(eventId.replaceAll("/", "_")).get();
  return snap.exists ? snap.data() : undefined;
}
