// cancelDonation while donate is still making the donation's PaymentIntent (docs/donations.md "Canceling"): the
// cancel finds no PaymentIntent and cancels the donation alone; donate must then not hand out a payment sheet for a
// donation that will never book its money. In-process against the money database and the fake Stripe.
import assert from "node:assert/strict";
import { donate } from "../../src/donations/donate";
import type { DonateDeps } from "../../src/donations/donate";
import { cancelDonation } from "../../src/donations/cancel";
import { emulatorsRunning } from "../../devtools/support/emulators";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";

describe("donate and cancelDonation racing", function () {
  this.timeout(60_000);

  before(async function () {
    if (!emulatorsRunning()) throw new Error("run through the emulators");
    await clearMoneyDb();
  });

  it("a cancel that lands while the PaymentIntent is being made: donate answers already final and cancels the intent at Stripe", async () => {
    const world = new MoneyWorld();
    const wishId = `race-${Date.now()}`;
    await world.seedWish(wishId);
    const now = world.clock.now();
    await world.db.doc("users/dana").set({ displayName: "Dana", photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now });
    const cancelDeps = { ...world.ledger, provider: world.payments, tasks: world.tasks };
    let canceled: string | null = null;
    // Stripe makes the PaymentIntent; meanwhile the donor, on another device, cancels the pending donation.
    const provider = Object.create(world.payments) as typeof world.payments;
    provider.createPayment = async (input) => {
      canceled = input.metadata.donationId;
      assert.deepEqual(await cancelDonation(cancelDeps, "dana", { donationId: input.metadata.donationId }), { status: "canceled" });
      return world.payments.createPayment(input);
    };
    const deps: DonateDeps = { ...world.ledger, provider };

    await assert.rejects(donate(deps, "dana", { wishId, amount: 20_000, currency: "CZK" }), { code: "failed-precondition", message: /already canceled/ });
    assert.ok(canceled);
    const donation = await world.doc(`donations/${String(canceled)}`);
    assert.equal(donation?.paymentStatus, "canceled");
    assert.equal(donation?.paymentIntentId, null, "the intent is not stored on the canceled donation");
    const intents = [...world.stripe.paymentIntents.values()].filter((intent) => (intent.metadata as Record<string, string>).donationId === canceled);
    assert.deepEqual(intents.map((intent) => intent.status), ["canceled"], "nobody can pay it");
  });
});
