// Issue 19: the pure parts of the BTCPay adapter (src/payments/btcpay.ts): the BTCPay-Sig check and how an invoice's
// state becomes the donation's payment status.
import assert from "node:assert/strict";
import { btcpaySignature, deriveInvoiceStatus, invoiceEvent, paidMinor, pullPaymentStatus, toDecimal, toMinor, verifyBtcpayDelivery } from "../../src/payments/btcpay";
import type { GreenfieldInvoice } from "../../src/payments/btcpay";
import { WebhookSignatureError } from "../../src/payments/provider";

const SECRET = "whsec-btcpay-test";
const body = JSON.stringify({ deliveryId: "d1", webhookId: "w1", originalDeliveryId: "d1", isRedelivery: false, type: "InvoiceSettled", timestamp: 1_700_000_000, storeId: "s1", invoiceId: "inv1" });

const invoice = (over: Partial<GreenfieldInvoice> = {}): GreenfieldInvoice => ({
  id: "inv1",
  amount: "1000.00",
  currency: "CZK",
  checkoutLink: "https://btcpay.example/i/inv1",
  status: "New",
  additionalStatus: "None",
  createdTime: 1_700_000_000,
  expirationTime: 1_700_001_800,
  metadata: { orderId: "don1", donationId: "don1", wishId: "w1", donorId: "u1" },
  ...over,
});
const method = (...payments: [string, string][]) => [{ amount: "0.00050000", payments: payments.map(([value, status], index) => ({ id: `p${index}`, value, status })) }];

describe("BTCPay adapter", () => {
  it("verifies BTCPay-Sig (HMAC-SHA256 of the raw body) and refuses a missing, malformed, other-length or wrong one", () => {
    assert.equal(verifyBtcpayDelivery(Buffer.from(body), btcpaySignature(body, SECRET), SECRET).invoiceId, "inv1");
    const refused = (signature: string | undefined, raw = body) => assert.throws(() => verifyBtcpayDelivery(Buffer.from(raw), signature, SECRET), WebhookSignatureError);
    refused(undefined);
    refused("md5=abcd");
    refused("sha256=abcd");
    refused(btcpaySignature(body, "another secret"));
    refused(btcpaySignature(body, SECRET), body.replace("InvoiceSettled", "InvoiceExpired"));
  });

  it("derives the payment status from the invoice and its payments", () => {
    assert.equal(deriveInvoiceStatus(invoice(), method()), null, "a new invoice without payments says nothing");
    assert.deepEqual(deriveInvoiceStatus(invoice(), method(["0.00020000", "Processing"])), { status: "processing", amountReceived: 0, failureCode: null });
    assert.deepEqual(deriveInvoiceStatus(invoice({ status: "Settled" }), method(["0.00050000", "Settled"])), { status: "succeeded", amountReceived: 100_000, failureCode: null });
    assert.deepEqual(deriveInvoiceStatus(invoice({ status: "Settled", additionalStatus: "PaidOver" }), method(["0.00060000", "Settled"])), { status: "succeeded", amountReceived: 120_000, failureCode: null });
    assert.deepEqual(deriveInvoiceStatus(invoice({ status: "Expired", additionalStatus: "PaidPartial" }), method(["0.00020000", "Settled"])), { status: "succeeded", amountReceived: 40_000, failureCode: null });
    assert.equal(deriveInvoiceStatus(invoice({ status: "Expired" }), method(["0.00020000", "Processing"]))?.status, "processing");
    assert.deepEqual(deriveInvoiceStatus(invoice({ status: "Expired" }), method()), { status: "failed", amountReceived: 0, failureCode: "invoice_expired" });
    assert.deepEqual(deriveInvoiceStatus(invoice({ status: "Invalid" }), method()), { status: "failed", amountReceived: 0, failureCode: "invoice_invalid" });
    assert.deepEqual(deriveInvoiceStatus(invoice({ status: "Settled", additionalStatus: "Marked" }), method()), { status: "succeeded", amountReceived: 100_000, failureCode: null });
    assert.equal(paidMinor(invoice(), method(["0.00050000", "Invalid"]), ["Settled", "Processing"]), 0, "an invalid payment counts for nothing");
  });

  it("names the event by invoice and status (every delivery of the same state is one event) and carries our metadata", () => {
    const event = invoiceEvent(invoice({ status: "Settled" }), method(["0.00050000", "Settled"]), { type: "InvoiceSettled", atMs: 1 });
    assert.equal(event?.eventId, "btcpay_inv1_succeeded");
    assert.equal(event?.provider, "btcpay");
    assert.deepEqual(event?.metadata, { donationId: "don1", wishId: "w1", donorId: "u1" });
    assert.equal(invoiceEvent(invoice({ status: "Settled", metadata: { orderId: "x" } }), method(["0.00050000", "Settled"]), { type: "t", atMs: 1 })?.metadata, null);
  });

  it("a refund pull payment is pending until its payouts complete, canceled when archived unclaimed; amounts convert both ways", () => {
    const pullPayment = { id: "pp1", currency: "CZK", amount: "250.00", archived: false };
    assert.equal(pullPaymentStatus(pullPayment, []), "pending");
    assert.equal(pullPaymentStatus(pullPayment, [{ id: "o1", amount: "250.00", state: "AwaitingPayment" }]), "pending");
    assert.equal(pullPaymentStatus(pullPayment, [{ id: "o1", amount: "250.00", state: "Completed" }]), "succeeded");
    assert.equal(pullPaymentStatus({ ...pullPayment, archived: true }, [{ id: "o1", amount: "250.00", state: "Cancelled" }]), "canceled");
    assert.equal(toDecimal(123_456, "CZK"), "1234.56");
    assert.equal(toMinor("1234.56", "CZK"), 123_456);
  });
});
