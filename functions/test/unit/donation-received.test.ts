// donation.received is derived from the donation's own writes (src/donations/received.ts): exactly the write that
// books the charge announces it, with an id and time that a redelivered trigger derives again.
import assert from "node:assert/strict";
import { donationReceivedEvent } from "../../src/donations/received";
import { donationSchema, newPendingDonationState } from "../../src/model/donation";
import type { Donation } from "../../src/model/donation";

const CREATED = new Date("2026-12-01T08:00:00.000Z");
const SUCCEEDED = new Date("2026-12-01T08:00:05.000Z");

function pending(over: Partial<Donation> = {}): Donation {
  return donationSchema.parse({
    wishId: "wish-bike",
    donorId: "dana",
    donorDisplayName: "Dana D.",
    amount: 50_000,
    currency: "CZK",
    message: null,
    anonymous: false,
    ...newPendingDonationState(CREATED, "card"),
    customerId: "cus_1",
    paymentIntentId: "pi_1",
    ...over,
  });
}

const paid = (over: Partial<Donation> = {}): Donation =>
  pending({ paymentStatus: "succeeded", status: "succeeded", amountReceived: 50_000, netAmount: 50_000, ledgerEntryIds: ["charge_pi_1"], succeededAt: SUCCEEDED, updatedAt: SUCCEEDED, ...over });

describe("donation.received from the donation's write", () => {
  it("the write that books the charge announces it: id by donation, time of the payment, amount received", () => {
    const event = donationReceivedEvent("don-1", pending(), paid({ amountReceived: 52_000, updatedAt: new Date(SUCCEEDED.getTime() + 900) }));
    assert.deepEqual(event, {
      id: "donation.received:don-1",
      type: "donation.received",
      occurredAt: SUCCEEDED.toISOString(),
      wishId: "wish-bike",
      donationId: "don-1",
      donorId: "dana",
      amount: 52_000,
      currency: "CZK",
      anonymous: false,
    });
  });

  it("a donation created already booked (an import, a seed) announces it too; a redelivered trigger derives the same event", () => {
    const first = donationReceivedEvent("don-1", undefined, paid({ anonymous: true }));
    assert.equal(first?.id, "donation.received:don-1");
    assert.equal(first?.type === "donation.received" && first.anonymous, true);
    assert.deepEqual(donationReceivedEvent("don-1", undefined, paid({ anonymous: true })), first);
  });

  it("no other write announces anything: the pending donation, a failure, later writes (refund, dispute, event ids), a deletion", () => {
    assert.equal(donationReceivedEvent("don-1", undefined, pending()), null, "created by donate");
    assert.equal(donationReceivedEvent("don-1", pending(), pending({ paymentStatus: "failed", status: "failed", failureCode: "card_declined" })), null, "failed");
    assert.equal(donationReceivedEvent("don-1", paid(), paid({ ledgerEntryIds: ["charge_pi_1", "refund_re_1"], netAmount: 0 })), null, "refunded");
    assert.equal(donationReceivedEvent("don-1", paid(), paid({ providerEventIds: ["evt_2"] })), null, "another event recorded");
    assert.equal(donationReceivedEvent("don-1", paid(), undefined), null, "deleted");
  });

  it("an over-payment's adjustment entry is not a second charge", () => {
    assert.equal(donationReceivedEvent("don-1", paid(), paid({ ledgerEntryIds: ["charge_pi_1", "charge_pi_1_received"] })), null);
  });
});
