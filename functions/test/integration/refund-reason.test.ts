// The refund reason of a donation whose own trigger runs after its wish closed (in-process against the Firestore
// emulator's "money" database, no emulated triggers): the payment's time decides, not which trigger ran last.
import assert from "node:assert/strict";
import { onDonationWrittenForRefunds } from "../../src/closing/refunds";
import { clearMoneyDb, moneyDb, TaskQueue } from "../helpers/money";
import { donationData, wishData } from "../helpers/closing";
import { fixedClock } from "../helpers/clock";

describe("closing: the refund reason of a payment whose trigger runs after the close", () => {
  beforeEach(() => clearMoneyDb());

  it("succeeded before the close → closed; succeeded after it → late_donation", async () => {
    const db = moneyDb();
    const closedAt = new Date("2026-11-30T12:00:00Z");
    await db.doc("wishes/trip").set(wishData({ status: "closed", closedAt }));
    const deps = { db, clock: fixedClock(new Date("2026-11-30T12:05:00Z")), tasks: new TaskQueue() };
    for (const [donationId, succeededAt, reason] of [
      ["before", new Date("2026-11-30T11:59:00Z"), "closed"],
      ["after", new Date("2026-11-30T12:01:00Z"), "late_donation"],
    ] as const) {
      const donation = donationData("trip", { succeededAt });
      await db.doc(`donations/${donationId}`).set(donation);
      const pending = { ...donation, paymentStatus: "pending" as const, netAmount: 0 };
      assert.equal(await onDonationWrittenForRefunds(deps, donationId, pending, donation), "create", donationId);
      assert.equal((await db.doc(`refundRequests/${donationId}`).get()).get("reason"), reason, donationId);
    }
  });
});
