// Issue 19, the bitcoin rail (BTCPay Server): donate → invoice → BTCPay's signed webhooks → the same ledger and state
// machine as cards; short, over and late payments, unknown invoices, duplicate and reordered deliveries, BTCPay down,
// refunds as pull payments the donor claims, and reconciliation. In-process against the Firestore emulator (the money
// database of test/helpers/money.ts, so no emulated trigger runs behind the test's back) and the fake BTCPay Server.
import assert from "node:assert/strict";
import { donate } from "../../src/donations/donate";
import { INVOICE_LEASE_MS, bitcoinRail } from "../../src/donations/bitcoin";
import type { BitcoinInvoices } from "../../src/donations/bitcoin";
import { PaymentProviderError } from "../../src/payments/provider";
import { refs } from "../../src/store/donations";
import type { BitcoinDonateResult } from "../../src/donations/rails";
import { reconcileWish } from "../../src/donations/reconcile";
import { DomainError } from "../../src/lib/errors";
import { requestDocId } from "../../src/lib/requests";
import { encodeEventId } from "../../src/events/outbox";
import type { Donation } from "../../src/model/donation";
import { auditWish } from "../../src/settlement/audit";
import { reconcileBtcpay } from "../../src/settlement/btcpay";
import { retryRefund } from "../../src/ops/refunds";
import { MoneyWorld, clearMoneyDb } from "../helpers/money";
import { fakeBtcpay, fakeStripe } from "../../devtools/support/fakes";
import { doc, getDoc } from "firebase/firestore";
import { adminDb } from "../../devtools/support/admin";
import { signedInClient } from "../../devtools/support/clients";
import { functionUrl } from "../../devtools/support/emulators";
import { seedWish } from "../helpers/donation-fixtures";
import { platformFee } from "../../src/model/payout";

const AMOUNT = 100_000;

async function signUp(world: MoneyWorld, uid: string): Promise<void> {
  const now = world.clock.now();
  await world.db.collection("users").doc(uid).set({ displayName: uid, photoUrl: null, facebookLinked: false, createdAt: now, updatedAt: now });
  // A fresh rate window: the tests share the money database and donate more than 10 times an hour.
  await world.db.doc(`users/${uid}/rateLimits/donations`).delete();
}

function donateBitcoin(world: MoneyWorld, uid: string, wishId: string, amount = AMOUNT, requestId?: string): Promise<BitcoinDonateResult> {
  const deps = { ...world.ledger, provider: world.payments, rails: { bitcoin: bitcoinRail({ ...world.ledger, invoices: world.btcpayClient, redirectUrl: null }) } };
  return donate(deps, uid, { wishId, amount, currency: "CZK", method: "bitcoin", ...(requestId ? { requestId } : {}) }) as Promise<BitcoinDonateResult>;
}

async function donationOf(world: MoneyWorld, donationId: string): Promise<Donation> {
  const data = (await world.db.collection("donations").doc(donationId).get()).data();
  assert.ok(data, `donation ${donationId}`);
  return data as Donation;
}

async function ledgerOf(world: MoneyWorld, donationId: string): Promise<{ kind: string; amount: number; provider: string }[]> {
  const snap = await world.db.collection("ledger").where("donationId", "==", donationId).get();
  return snap.docs.map((doc) => ({ kind: String(doc.get("kind")), amount: Number(doc.get("amount")), provider: String(doc.get("provider")) })).sort((a, b) => a.kind.localeCompare(b.kind));
}

let seq = 0;
async function openWish(world: MoneyWorld): Promise<string> {
  const wishId = `btc-wish-${Date.now()}-${++seq}`;
  await world.seedWish(wishId, { amount: 1_000_000 });
  await Promise.all(["dana", "dave", "dora"].map((uid) => signUp(world, uid)));
  return wishId;
}

/** The refund pull payment of a donation (the one its refunds map names), with the claim link the donor sees. */
/** Dana's bitcoin donation to the wish, paid (`fraction` of the amount asked), confirmed, and at rest. */
async function settledBitcoinDonation(world: MoneyWorld, wishId: string, fraction: number): Promise<BitcoinDonateResult> {
  const result = await donateBitcoin(world, "dana", wishId);
  world.btcpay.pay(result.invoiceId, fraction);
  world.btcpay.confirm(result.invoiceId);
  await world.quiesce(wishId);
  return result;
}

async function pullPaymentOf(world: MoneyWorld, donationId: string): Promise<{ id: string; amount: number; status: string; claimLink: string | null | undefined }> {
  const refunds = Object.entries((await donationOf(world, donationId)).refunds);
  assert.equal(refunds.length, 1, "one refund");
  const [id, refund] = refunds[0] ?? ["", { amount: 0, status: "", claimLink: null }];
  return { id, amount: refund.amount, status: refund.status, claimLink: refund.claimLink };
}

describe("bitcoin rail (BTCPay Server)", function () {
  this.timeout(120_000);
  let world: MoneyWorld;

  before(() => clearMoneyDb());
  beforeEach(() => {
    fakeStripe().reset();
    world = new MoneyWorld();
    world.btcpay.reset();
  });

  it("pays exactly: an invoice in the wish's currency, processing on payment, succeeded on settlement; a retry answers the same invoice", async () => {
    const wishId = await openWish(world);
    const result = await donateBitcoin(world, "dana", wishId, AMOUNT, "btc-exact-1");
    assert.equal(result.method, "bitcoin");
    assert.match(result.checkoutLink, /\/i\//);
    const invoice = world.btcpay.invoices.get(result.invoiceId);
    assert.equal(invoice?.amount, "1000.00");
    assert.equal(invoice?.currency, "CZK");
    assert.equal(invoice?.metadata.orderId, result.donationId);
    assert.deepEqual(await donateBitcoin(world, "dana", wishId, AMOUNT, "btc-exact-1"), result, "a retry answers the same invoice");
    assert.equal(world.btcpay.calls.filter((call) => call === "POST /invoices").length, 1, "one invoice for one donation");

    world.btcpay.pay(result.invoiceId, 1);
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, result.donationId)).paymentStatus, "processing");
    world.btcpay.confirm(result.invoiceId);
    await world.quiesce(wishId);
    const paid = await donationOf(world, result.donationId);
    assert.equal(paid.status, "succeeded");
    assert.equal(paid.method, "bitcoin");
    assert.equal(paid.provider, "btcpay");
    assert.equal(paid.amountReceived, AMOUNT);
    assert.deepEqual(await ledgerOf(world, result.donationId), [{ kind: "charge", amount: AMOUNT, provider: "btcpay" }]);
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, AMOUNT);
    assert.ok(await world.doc(`wishes/${wishId}/supporters/${result.donationId}`), "the supporter entry appears");
    assert.equal((await world.db.collection("ops/reconciliation/findings").where("donationId", "==", result.donationId).get()).size, 0, "an exact payment is no finding");
  });

  it("pays short: the invoice expires partly paid, the donation succeeds with what arrived, nothing is refunded", async () => {
    const wishId = await openWish(world);
    const result = await donateBitcoin(world, "dana", wishId);
    world.btcpay.pay(result.invoiceId, 0.4);
    world.btcpay.expire(result.invoiceId);
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, result.donationId)).paymentStatus, "processing", "a payment still confirming keeps it processing");
    world.btcpay.confirm(result.invoiceId);
    await world.quiesce(wishId);
    const paid = await donationOf(world, result.donationId);
    assert.equal(paid.status, "succeeded");
    assert.equal(paid.amountReceived, 40_000);
    assert.equal(paid.netAmount, 40_000);
    assert.deepEqual(await ledgerOf(world, result.donationId), [
      { kind: "charge", amount: AMOUNT, provider: "btcpay" },
      { kind: "charge_adjustment", amount: -60_000, provider: "btcpay" },
    ]);
    assert.equal((await world.db.collection("refundRequests").doc(result.donationId).get()).exists, false);
    assert.equal((await world.db.collection("ops/reconciliation/findings").where("donationId", "==", result.donationId).get()).size, 0, "a short bitcoin payment is an expected outcome");
  });

  it("pays over: what arrived is booked and the excess goes back as a pull payment the donor claims; booked when the payout completes", async () => {
    const wishId = await openWish(world);
    const result = await settledBitcoinDonation(world, wishId, 1.25);
    const refund = await pullPaymentOf(world, result.donationId);
    assert.equal(refund.amount, 25_000);
    assert.equal(refund.status, "pending", "pending until the donor claims it and the payout completes");
    assert.match(refund.claimLink ?? "", /\/pull-payments\//, "the donor sees the claim link");
    const claimable = await world.doc(`events/${encodeEventId(`refund.claimable:${refund.id}`)}`);
    assert.equal(claimable?.donorId, "dana", "the donor is told to claim it, once");
    assert.equal(JSON.stringify(claimable).includes("pull-payments"), false, "the claim link is never in an event");
    assert.equal((await donationOf(world, result.donationId)).netAmount, 125_000);
    const request = await world.doc(`refundRequests/${result.donationId}`);
    assert.equal(request?.reason, "overpayment");
    assert.equal(request?.status, "requested");

    world.btcpay.claim(refund.id);
    await world.quiesce(wishId);
    const settled = await donationOf(world, result.donationId);
    assert.equal(settled.status, "succeeded", "the donation still counts: only the excess went back");
    assert.equal(settled.netAmount, AMOUNT);
    assert.equal((await pullPaymentOf(world, result.donationId)).status, "succeeded");
    assert.deepEqual(await ledgerOf(world, result.donationId), [
      { kind: "charge", amount: AMOUNT, provider: "btcpay" },
      { kind: "charge_adjustment", amount: 25_000, provider: "btcpay" },
      { kind: "refund", amount: -25_000, provider: "btcpay" },
    ]);
    assert.equal((await world.doc(`refundRequests/${result.donationId}`))?.status, "succeeded");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, AMOUNT);
    assert.equal(world.btcpay.pullPayments.size, 1, "one pull payment, however often the task and the trigger ran");
  });

  it("an over-payment's refund the donor never claimed, archived, then retried by ops: the new pull payment is for the excess again", async () => {
    const wishId = await openWish(world);
    const result = await settledBitcoinDonation(world, wishId, 1.25);
    const first = await pullPaymentOf(world, result.donationId);
    assert.equal(first.amount, 25_000);
    // Ops archive the unclaimed pull payment in BTCPay (docs/operations.md): the refund is canceled, the request fails.
    const archived = world.btcpay.pullPayments.get(first.id);
    assert.ok(archived);
    archived.archived = true;
    world.clock.advance(10 * 60_000);
    await reconcileBtcpay(world.btcpayDeps); // BTCPay sends no webhook for an archive: the reconciliation learns it
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${result.donationId}`))?.status, "failed");

    assert.deepEqual(await retryRefund(world.refundDeps, "ada", { donationId: result.donationId, reason: "the donor asked again" }), { result: "queued", generation: 1 });
    await world.quiesce(wishId);
    const refunds = Object.values((await donationOf(world, result.donationId)).refunds);
    assert.deepEqual(refunds.map((refund) => [refund.amount, refund.status]).sort(), [[25_000, "canceled"], [25_000, "pending"]], "the excess again, never the whole donation");
    world.btcpay.claim([...world.btcpay.pullPayments.keys()].find((id) => id !== first.id) ?? "");
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, result.donationId)).netAmount, AMOUNT, "the wish keeps the amount asked");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, AMOUNT);
  });

  it("an over-payment that funds the wish: the owner is paid the amount asked, never the excess waiting for its donor", async () => {
    const wishId = `btc-funded-${Date.now()}-${++seq}`;
    await world.seedWish(wishId, { amount: AMOUNT });
    await signUp(world, "dana");
    await world.onboard("olga");
    // Transfers draw on the Stripe balance: treasury has moved the bitcoin proceeds there (docs/operations.md).
    world.stripe.connect.addPlatformBalance("czk", 125_000);
    const result = await settledBitcoinDonation(world, wishId, 1.25);
    const wish = await world.doc(`wishes/${wishId}`);
    assert.deepEqual([wish?.status, wish?.raised], ["funded", 125_000], "booked as it arrived");
    let payout = await world.doc(`payouts/${wishId}`);
    assert.equal(payout?.paidAmount, AMOUNT - platformFee(AMOUNT), "the excess is held back while the donor has not claimed it");
    assert.equal((await pullPaymentOf(world, result.donationId)).status, "pending");

    world.btcpay.claim((await pullPaymentOf(world, result.donationId)).id);
    await world.quiesce(wishId);
    payout = await world.doc(`payouts/${wishId}`);
    assert.deepEqual([payout?.status, payout?.paidAmount], ["paid", AMOUNT - platformFee(AMOUNT)], "nothing more once the excess went back");
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, AMOUNT);
  });

  it("an invoice of the store that matches no donation is recorded and ignored (an ops finding); a bad signature writes nothing", async () => {
    const stray = await world.btcpayClient.createInvoice({ amount: 50_000, currency: "CZK", metadata: { donationId: "no-such-donation", wishId: "w", donorId: "u" }, expirationMinutes: 30, redirectUrl: null });
    world.btcpay.pay(stray.id, 1);
    world.btcpay.confirm(stray.id);
    const deliveries = world.btcpay.takeDeliveries();
    const forged = deliveries[deliveries.length - 1];
    assert.ok(forged);
    assert.equal(await world.deliverBtcpay({ ...forged, signature: `sha256=${"0".repeat(64)}` }), 400);
    assert.equal(await world.deliverBtcpay({ ...forged, signature: "sha256=abc" }), 400, "a signature of another length");
    assert.equal((await world.db.collection("providerEvents").where("donationId", "==", "no-such-donation").get()).size, 0, "nothing written on a bad signature");
    for (const delivery of deliveries) assert.equal(await world.deliverBtcpay(delivery), 200);
    const record = await world.doc(`providerEvents/btcpay_${stray.id}_succeeded`);
    assert.equal(record?.outcome, "unknown_donation");
    assert.equal(record?.provider, "btcpay");
    const finding = await world.doc(`ops/reconciliation/findings/btcpay_unknown_invoice_${stray.id}`);
    assert.equal(finding?.provider, "btcpay");
    assert.equal(finding?.repaired, false);
    assert.equal((await world.db.collection("ledger").where("donationId", "==", "no-such-donation").get()).size, 0, "nothing credited");
  });

  it("paid after the wish closed: booked, then refunded in full through a pull payment, final when the payout completes", async () => {
    const wishId = await openWish(world);
    const result = await donateBitcoin(world, "dana", wishId);
    await world.db.collection("wishes").doc(wishId).update({ status: "closed", closedAt: world.clock.now() });
    await world.quiesce(wishId);
    world.clock.advance(60_000);
    world.btcpay.pay(result.invoiceId, 1);
    world.btcpay.confirm(result.invoiceId);
    await world.quiesce(wishId);
    assert.equal((await world.doc(`refundRequests/${result.donationId}`))?.reason, "late_donation");
    const refund = await pullPaymentOf(world, result.donationId);
    assert.equal(refund.amount, AMOUNT);
    assert.equal(refund.status, "pending");
    world.btcpay.claim(refund.id);
    await world.quiesce(wishId);
    const refunded = await donationOf(world, result.donationId);
    assert.equal(refunded.status, "refunded");
    assert.equal(refunded.netAmount, 0);
    assert.equal((await world.doc(`refundRequests/${result.donationId}`))?.status, "succeeded");
  });

  it("expiry refunds a paid bitcoin donation; the refund stays pending until BTCPay's payout completes", async () => {
    const wishId = await openWish(world);
    const result = await settledBitcoinDonation(world, wishId, 1);
    await world.db.collection("wishes").doc(wishId).update({ status: "expired", closedAt: world.clock.now() });
    await world.quiesce(wishId);
    const refund = await pullPaymentOf(world, result.donationId);
    assert.equal(refund.status, "pending");
    assert.equal((await world.doc(`refundRequests/${result.donationId}`))?.status, "requested");
    assert.equal((await donationOf(world, result.donationId)).netAmount, AMOUNT, "not booked before the provider confirms");
    world.btcpay.claim(refund.id);
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, result.donationId)).status, "refunded");
    assert.equal((await world.doc(`refundRequests/${result.donationId}`))?.reason, "expired");
  });

  it("duplicate, re-delivered and reordered webhooks converge on one charge", async () => {
    const wishId = await openWish(world);
    const result = await donateBitcoin(world, "dana", wishId);
    world.btcpay.pay(result.invoiceId, 1);
    world.btcpay.confirm(result.invoiceId);
    const deliveries = world.btcpay.takeDeliveries().reverse();
    for (const delivery of [...deliveries, ...deliveries, world.btcpay.redeliver(deliveries[0] ?? assert.fail("no delivery"))]) assert.equal(await world.deliverBtcpay(delivery), 200);
    world.btcpay.takeDeliveries();
    await world.quiesce(wishId);
    const paid = await donationOf(world, result.donationId);
    assert.equal(paid.status, "succeeded");
    assert.deepEqual(await ledgerOf(world, result.donationId), [{ kind: "charge", amount: AMOUNT, provider: "btcpay" }]);
    assert.equal((await world.doc(`wishes/${wishId}`))?.raised, AMOUNT);
  });

  it("BTCPay down: donate answers unavailable and nothing can be paid; webhooks answer 500 until it is back, then apply", async () => {
    const wishId = await openWish(world);
    world.btcpay.down = true;
    await assert.rejects(donateBitcoin(world, "dana", wishId, AMOUNT, "btc-down-1"), (error: unknown) => error instanceof DomainError && error.reason === "provider_unavailable");
    assert.equal(world.btcpay.invoices.size, 0, "no invoice: nothing to pay");
    const failed = await world.doc(`donations/${requestDocId("dana", "btc-down-1")}`);
    assert.equal(failed?.failureCode, "provider_unavailable");
    world.btcpay.down = false;
    const result = await donateBitcoin(world, "dana", wishId, AMOUNT, "btc-down-1");
    assert.equal((await donationOf(world, result.donationId)).paymentStatus, "pending", "the retry made the invoice");

    world.btcpay.pay(result.invoiceId, 1);
    world.btcpay.confirm(result.invoiceId);
    // (InvoiceCreated is answered 200 without a call: we do not act on it.)
    const deliveries = world.btcpay.takeDeliveries().filter((delivery) => delivery.body.type !== "InvoiceCreated");
    world.btcpay.down = true;
    for (const delivery of deliveries) assert.equal(await world.deliverBtcpay(delivery), 500);
    assert.equal((await donationOf(world, result.donationId)).paymentStatus, "pending", "nothing applied while BTCPay is down");
    world.btcpay.down = false;
    for (const delivery of deliveries) assert.equal(await world.deliverBtcpay(world.btcpay.redeliver(delivery)), 200);
    world.btcpay.takeDeliveries();
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, result.donationId)).status, "succeeded");
  });

  it("reconciliation repairs a missed webhook through the same ledger path, once", async () => {
    const wishId = await openWish(world);
    const result = await donateBitcoin(world, "dana", wishId);
    world.btcpay.pay(result.invoiceId, 1);
    world.btcpay.confirm(result.invoiceId);
    world.btcpay.takeDeliveries();
    world.clock.advance(10 * 60_000);
    const first = await reconcileBtcpay(world.btcpayDeps);
    assert.equal(first.repaired, 1);
    assert.equal((await donationOf(world, result.donationId)).status, "succeeded");
    assert.equal((await world.doc(`ops/reconciliation/findings/missed_btcpay_webhook_${result.invoiceId}`))?.repaired, true);
    assert.equal((await reconcileBtcpay(world.btcpayDeps)).repaired, 0, "a second run changes nothing");
    await world.quiesce(wishId);
    assert.deepEqual(await ledgerOf(world, result.donationId), [{ kind: "charge", amount: AMOUNT, provider: "btcpay" }]);
  });

  /** The btcpay_late_payment findings of a donation (docs/operations.md). */
  async function latePaymentFindings(donationId: string): Promise<{ id: string; amount: number; resolvedAt: unknown }[]> {
    const snap = await world.db.collection("ops/reconciliation/findings").where("donationId", "==", donationId).where("kind", "==", "btcpay_late_payment").get();
    return snap.docs.map((found) => ({ id: found.id, amount: Number(found.get("amount")), resolvedAt: found.get("resolvedAt") as unknown }));
  }

  it("the rest of a short payment sent after it was booked: not booked (known gap), an ops finding with the extra, once, from the webhook and reconciliation", async () => {
    const wishId = await openWish(world);
    const result = await donateBitcoin(world, "dana", wishId);
    world.btcpay.pay(result.invoiceId, 0.4);
    world.btcpay.expire(result.invoiceId);
    world.btcpay.confirm(result.invoiceId);
    await world.quiesce(wishId);
    assert.equal((await donationOf(world, result.donationId)).amountReceived, 40_000);
    assert.deepEqual(await latePaymentFindings(result.donationId), [], "no finding while nothing more was paid");

    world.btcpay.pay(result.invoiceId, 0.6);
    world.btcpay.confirm(result.invoiceId);
    assert.equal(world.btcpay.invoices.get(result.invoiceId)?.additionalStatus, "PaidLate");
    const deliveries = world.btcpay.takeDeliveries();
    for (const delivery of [...deliveries, ...deliveries]) assert.equal(await world.deliverBtcpay(delivery), 200, "redelivered too");
    world.clock.advance(10 * 60_000);
    await reconcileBtcpay(world.btcpayDeps);
    await world.quiesce(wishId);
    const findings = await latePaymentFindings(result.donationId);
    assert.deepEqual(findings, [{ id: `btcpay_late_payment_${result.invoiceId}_100000`, amount: 60_000, resolvedAt: null }], "one finding for the extra");
    const donation = await donationOf(world, result.donationId);
    assert.equal(donation.amountReceived, 40_000, "the booked amount does not move (the gap the finding reports)");
    assert.equal((await ledgerOf(world, result.donationId)).reduce((sum, entry) => sum + entry.amount, 0), 40_000);
  });

  it("a second payment to a settled invoice: an ops finding with the excess (reconciliation first, then the webhook), once", async () => {
    const wishId = await openWish(world);
    const result = await settledBitcoinDonation(world, wishId, 1);
    world.btcpay.pay(result.invoiceId, 0.25);
    world.btcpay.confirm(result.invoiceId);
    const deliveries = world.btcpay.takeDeliveries();
    world.clock.advance(10 * 60_000);
    await reconcileBtcpay(world.btcpayDeps);
    for (const delivery of deliveries) assert.equal(await world.deliverBtcpay(delivery), 200);
    await reconcileBtcpay(world.btcpayDeps);
    await world.quiesce(wishId);
    assert.deepEqual(await latePaymentFindings(result.donationId), [{ id: `btcpay_late_payment_${result.invoiceId}_125000`, amount: 25_000, resolvedAt: null }]);
    assert.deepEqual(await ledgerOf(world, result.donationId), [{ kind: "charge", amount: AMOUNT, provider: "btcpay" }]);
  });

  it("an invoice of another app of the store (no metadata of ours) is ignored by the webhook as by reconciliation: 200, nothing written", async () => {
    const other = await world.btcpayClient.createInvoice({ amount: 50_000, currency: "CZK", metadata: { donationId: "x", wishId: "x", donorId: "x" }, expirationMinutes: 30, redirectUrl: null });
    const invoice = world.btcpay.invoices.get(other.id);
    assert.ok(invoice);
    invoice.metadata = { orderId: "another-app-order-1" };
    world.btcpay.pay(other.id, 1);
    world.btcpay.confirm(other.id);
    for (const delivery of world.btcpay.takeDeliveries()) assert.equal(await world.deliverBtcpay(delivery), 200);
    world.clock.advance(10 * 60_000);
    await reconcileBtcpay(world.btcpayDeps);
    for (const status of ["processing", "succeeded"]) assert.equal(await world.doc(`providerEvents/btcpay_${other.id}_${status}`), undefined, `no ${status} event record`);
    const findings = await world.db.collection("ops/reconciliation/findings").where("providerObjectId", "==", other.id).get();
    assert.equal(findings.size, 0, "no finding: not ours to refund");
  });

  it("an invoice call that outlived its lease never overwrites the invoice a retry stored meanwhile: it answers that invoice", async () => {
    const wishId = await openWish(world);
    let retried: BitcoinDonateResult | undefined;
    const slow: BitcoinInvoices = {
      invoicesOfOrder: async () => {
        // The first call's BTCPay call is slow: its lease runs out, a retry takes it over and stores the invoice,
        // then the first call's call fails.
        world.clock.advance(INVOICE_LEASE_MS + 1_000);
        retried = await donateBitcoin(world, "dana", wishId, AMOUNT, "btc-slow-1");
        throw new PaymentProviderError("BTCPay GET /invoices: timeout", null, null);
      },
      createInvoice: (input) => world.btcpayClient.createInvoice(input),
    };
    const deps = { ...world.ledger, provider: world.payments, rails: { bitcoin: bitcoinRail({ ...world.ledger, invoices: slow, redirectUrl: null }) } };
    const first = (await donate(deps, "dana", { wishId, amount: AMOUNT, currency: "CZK", method: "bitcoin", requestId: "btc-slow-1" })) as BitcoinDonateResult;
    assert.ok(retried);
    assert.deepEqual(first, retried, "the slow call answers the invoice the retry stored");
    const donation = await donationOf(world, first.donationId);
    assert.equal(donation.paymentStatus, "pending");
    assert.equal(donation.failureCode, null);
    assert.equal(donation.paymentIntentId, retried.invoiceId);
    assert.ok(donation.bitcoin?.checkoutLink, "the checkout link is kept");
    assert.deepEqual(await donateBitcoin(world, "dana", wishId, AMOUNT, "btc-slow-1"), retried, "a later retry answers it too");
  });

  it("BTCPay failing after the call lost its lease to a call still at work writes nothing: that call's donation stays pending", async () => {
    const wishId = await openWish(world);
    const donationId = requestDocId("dana", "btc-slow-2");
    const theirs = new Date(world.clock.now().getTime() + 2 * INVOICE_LEASE_MS + 1_000);
    const slow: BitcoinInvoices = {
      invoicesOfOrder: async () => {
        world.clock.advance(INVOICE_LEASE_MS + 1_000);
        // Another call took the lease over and is still making the invoice.
        await refs.donation(world.db, donationId).update({ bitcoin: { checkoutLink: null, expiresAt: null, invoiceLeaseUntil: theirs } });
        throw new PaymentProviderError("BTCPay GET /invoices: timeout", null, null);
      },
      createInvoice: (input) => world.btcpayClient.createInvoice(input),
    };
    const deps = { ...world.ledger, provider: world.payments, rails: { bitcoin: bitcoinRail({ ...world.ledger, invoices: slow, redirectUrl: null }) } };
    await assert.rejects(donate(deps, "dana", { wishId, amount: AMOUNT, currency: "CZK", method: "bitcoin", requestId: "btc-slow-2" }), (error: unknown) => error instanceof DomainError && error.reason === "provider_unavailable");
    const donation = (await refs.donation(world.db, donationId).get()).data();
    assert.deepEqual([donation?.paymentStatus, donation?.failureCode, donation?.bitcoin?.invoiceLeaseUntil?.getTime()], ["pending", null, theirs.getTime()], "the other call's lease and donation untouched");
  });

  it("the money invariant across card and bitcoin on one wish: ledger totals = raised, and the audit agrees with Stripe and BTCPay", async () => {
    const wishId = await openWish(world);
    await world.paidDonation(wishId, "dave", 70_000);
    const exact = await donateBitcoin(world, "dana", wishId, 50_000);
    const over = await donateBitcoin(world, "dora", wishId, 30_000);
    world.btcpay.pay(exact.invoiceId, 1);
    world.btcpay.pay(over.invoiceId, 1.5);
    world.btcpay.confirm(exact.invoiceId);
    world.btcpay.confirm(over.invoiceId);
    await world.quiesce(wishId);
    world.btcpay.claim((await pullPaymentOf(world, over.donationId)).id);
    await world.quiesce(wishId);
    const report = await reconcileWish(world.ledger, wishId, { repair: false });
    assert.equal(report.drift, false, JSON.stringify(report));
    assert.equal(report.expected.raised, 150_000);
    assert.equal(report.expected.donorCount, 3);
    const audit = await auditWish({ ...world.refundDeps, payouts: world.payouts }, wishId, { repair: false });
    assert.deepEqual(audit?.breaches, []);
  });
});

describe("bitcoin rail end to end (the emulated donate callable and btcpayWebhook)", function () {
  this.timeout(60_000);

  it("donate from the app → a BTCPay invoice → BTCPay's signed webhooks over HTTP → succeeded; a forged delivery is 400", async () => {
    fakeBtcpay().reset();
    await seedWish(adminDb(), "wish-btc-e2e", { viewerIds: ["olga", "dana"] });
    await adminDb().doc("users/dana").set({ displayName: "Dana D.", photoUrl: null, facebookLinked: false });
    const dana = await signedInClient("dana");
    const result = await dana.call<BitcoinDonateResult>("donate", { wishId: "wish-btc-e2e", amount: 50_000, currency: "CZK", method: "bitcoin", requestId: "btc-e2e-1" });
    assert.equal(result.method, "bitcoin");
    assert.ok(fakeBtcpay().invoices.get(result.invoiceId), "the invoice is on the (fake) BTCPay Server");
    fakeBtcpay().pay(result.invoiceId, 1);
    fakeBtcpay().confirm(result.invoiceId);
    const url = await functionUrl("btcpayWebhook");
    const deliveries = fakeBtcpay().takeDeliveries();
    const last = deliveries[deliveries.length - 1] ?? assert.fail("no delivery");
    assert.equal((await fakeBtcpay().deliver(url, { ...last, signature: `sha256=${"ab".repeat(32)}` })).status, 400);
    for (const delivery of deliveries) assert.equal((await fakeBtcpay().deliver(url, delivery)).status, 200);
    const mine = await getDoc(doc(dana.db, "donations", result.donationId));
    assert.equal(mine.get("status"), "succeeded", "the donor reads their paid bitcoin donation");
    assert.equal(mine.get("method"), "bitcoin");
    assert.equal(mine.get("amountReceived"), 50_000);
  });
});
