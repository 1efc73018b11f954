// Money the way production moves it, for the closing and payout tests: PaymentIntents on the (fake) Stripe with our
// metadata, and Stripe's events delivered to our webhooks (account events to stripeWebhook, Connect events to
// stripeConnectWebhook), signed with the endpoints' secrets.
import { stripeClient } from "../../src/payments/stripe";
import { adminDb } from "../../devtools/support/admin";
import { donationData } from "./closing";
import { fakeStripe } from "../../devtools/support/fakes";
import { deliver } from "../../devtools/support/stripe-webhooks";
export { deliver, deliverNewEvents, resetDeliveries } from "../../devtools/support/stripe-webhooks";
import { waitFor } from "./wait";

export const LONG_WAIT = { timeoutMs: 150_000 };
export const testStripe = () => stripeClient("sk_test_elateme_tests");

/**
 * A donation as donate() leaves it (pending) and its PaymentIntent on the fake Stripe with our metadata.
 * `stripeAmount` makes the PaymentIntent disagree with the donation.
 */
export async function pendingDonation(wishId: string, donorId: string, amount: number, stripeAmount = amount): Promise<{ donationId: string; paymentIntentId: string }> {
  const donationId = `don-${donorId}-${Math.random().toString(36).slice(2, 10)}`;
  const intent = await testStripe().paymentIntents.create({ amount: stripeAmount, currency: "czk", metadata: { donationId, wishId, donorId } });
  await adminDb()
    .collection("donations")
    .doc(donationId)
    .set(
      donationData(wishId, {
        donorId,
        amount,
        status: "pending",
        paymentStatus: "pending",
        paymentStatusAt: null,
        paymentIntentId: intent.id,
        chargeId: null,
        netAmount: 0,
        succeededAt: null,
      }),
    );
  return { donationId, paymentIntentId: intent.id };
}

/** A donation paid as production pays one: {@link pendingDonation}, then Stripe's payment_intent.succeeded delivered. */
export async function paidDonation(wishId: string, donorId: string, amount: number): Promise<{ donationId: string; paymentIntentId: string }> {
  const pending = await pendingDonation(wishId, donorId, amount);
  await deliver(fakeStripe().succeed(pending.paymentIntentId));
  await waitFor(
    "the donation to succeed",
    async () => ((await adminDb().collection("donations").doc(pending.donationId).get()).get("paymentStatus") === "succeeded" ? true : undefined),
    LONG_WAIT,
  );
  return pending;
}
