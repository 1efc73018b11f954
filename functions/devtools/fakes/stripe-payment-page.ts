// The fake Stripe's local payment page: what the Payment Sheet would show, for a pending PaymentIntent, with one button
// per outcome a real sheet produces (docs/client-setup.md, "Paying locally"). Open it from the app's web view or a
// browser at `<fake Stripe URL>/pay/<client secret>` (the `paymentIntentClientSecret` that `donate` answers). Each
// button plays that outcome on the fake and so makes the same signed webhook events Stripe would send (`npm start`
// delivers them to stripeWebhook; tests deliver them with deliverNewEvents). Never deployed (devtools/).
import type { ServerResponse } from "node:http";
import type { Obj } from "./stripe-common";

/** Outcomes of the page's buttons. */
export const PAGE_OUTCOMES = ["succeed", "card_declined", "insufficient_funds", "expired_card", "3ds", "3ds_succeed", "3ds_fail", "abandon"] as const;
export type PageOutcome = (typeof PAGE_OUTCOMES)[number];

/** Card declines as Stripe reports them on `last_payment_error` (test cards 4000000000000002, …9995, …0069). */
export const DECLINES = {
  card_declined: { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." },
  insufficient_funds: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." },
  expired_card: { type: "card_error", code: "expired_card", param: "exp_month", message: "Your card has expired." },
} as const;
export type DeclineKind = keyof typeof DECLINES;

/** What the page needs from the fake: find an intent by client secret and play each outcome on it. */
export interface PaymentPageActions {
  intentBySecret(clientSecret: string): Obj | undefined;
  succeed(paymentIntentId: string): unknown;
  decline(paymentIntentId: string, kind: DeclineKind): unknown;
  requireAction(paymentIntentId: string): unknown;
  failAuthentication(paymentIntentId: string): unknown;
}

/** Statuses in which the sheet can still be completed. */
const PAYABLE = new Set<unknown>(["requires_payment_method", "requires_confirmation", "requires_action"]);

const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function formatAmount(intent: Obj): string {
  const currency = String(intent.currency).toUpperCase();
  return `${(Number(intent.amount) / 100).toFixed(2)} ${currency}`;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:1.5rem auto;padding:0 1rem}button{display:block;width:100%;margin:.4rem 0;padding:.7rem;font-size:1rem}
.note{color:#555;font-size:.9rem}.result{padding:.8rem;border-radius:.4rem;background:#eef}</style></head>
<body><p class="note">Fake Stripe (local development only): a stand-in for the Stripe Payment Sheet.</p>${body}</body></html>`);
}

function button(outcome: PageOutcome, label: string): string {
  return `<button type="submit" name="outcome" value="${outcome}" id="outcome-${outcome}">${escape(label)}</button>`;
}

function form(action: string, buttons: string): string {
  return `<form method="post" action="${escape(action)}">${buttons}</form>`;
}

/** The result the app would get back from the sheet, and what it should show (data-* attributes for tests). */
function result(res: ServerResponse, intent: Obj, sheetResult: "completed" | "failed" | "canceled", text: string): void {
  page(
    res,
    200,
    "Payment result",
    `<div class="result" id="result" data-sheet-result="${sheetResult}" data-status="${escape(String(intent.status))}">
<p><strong>Payment Sheet result: ${sheetResult}</strong> (PaymentIntent ${escape(String(intent.id))}: ${escape(String(intent.status))})</p>
<p>${escape(text)}</p></div>`,
  );
}

/**
 * `GET /pay/<client secret>`: the sheet; `POST /pay/<client secret>` with `outcome=<PageOutcome>` plays it.
 * Returns false when `pathname` is not a payment-page path.
 */
export function servePaymentPage(actions: PaymentPageActions, method: string, pathname: string, form_: URLSearchParams, res: ServerResponse): boolean {
  const match = /^\/pay\/([^/]+)$/.exec(pathname);
  if (!match?.[1]) return false;
  const clientSecret = decodeURIComponent(match[1]);
  const intent = actions.intentBySecret(clientSecret);
  if (!intent) {
    page(res, 404, "Unknown payment", `<p id="error">No PaymentIntent has this client secret.</p>`);
    return true;
  }
  const id = String(intent.id);
  const action = `/pay/${encodeURIComponent(clientSecret)}`;
  const header = `<h1>Pay ${escape(formatAmount(intent))}</h1><p class="note">PaymentIntent ${escape(id)} · wish ${escape((intent.metadata as Record<string, string> | undefined)?.wishId ?? "?")}</p>`;

  const challenge = () =>
    page(res, 200, "3-D Secure", `${header}<h2>Your bank asks you to confirm this payment (3-D Secure)</h2>${form(action, button("3ds_succeed", "Complete authentication") + button("3ds_fail", "Fail authentication"))}`);

  if (method === "GET") {
    if (!PAYABLE.has(intent.status)) {
      const sheetResult = intent.status === "succeeded" || intent.status === "processing" ? "completed" : "canceled";
      result(res, intent, sheetResult, `This payment is already ${String(intent.status)}.`);
      return true;
    }
    if (intent.status === "requires_action") {
      challenge();
      return true;
    }
    page(
      res,
      200,
      "Pay",
      `${header}${form(
        action,
        button("succeed", "Pay (card 4242 4242 4242 4242: succeeds)") +
          button("card_declined", "Decline: card_declined (4000 0000 0000 0002)") +
          button("insufficient_funds", "Decline: insufficient_funds (4000 0000 0000 9995)") +
          button("expired_card", "Decline: expired_card (4000 0000 0000 0069)") +
          button("3ds", "Card requiring 3-D Secure (4000 0027 6000 3184)") +
          button("abandon", "Close the sheet (abandon)"),
      )}`,
    );
    return true;
  }

  if (method !== "POST") {
    page(res, 405, "Method not allowed", `<p id="error">GET shows the sheet, POST plays an outcome.</p>`);
    return true;
  }
  const outcome = form_.get("outcome") as PageOutcome | null;
  if (!outcome || !PAGE_OUTCOMES.includes(outcome)) {
    page(res, 400, "Unknown outcome", `<p id="error">outcome must be one of ${PAGE_OUTCOMES.join(", ")}.</p>`);
    return true;
  }
  const needsAction = outcome === "3ds_succeed" || outcome === "3ds_fail";
  if (!PAYABLE.has(intent.status) || needsAction !== (intent.status === "requires_action")) {
    page(res, 409, "Not possible now", `<p id="error">This PaymentIntent is ${escape(String(intent.status))}: "${outcome}" is not possible now.</p>`);
    return true;
  }
  switch (outcome) {
    case "succeed":
    case "3ds_succeed":
      actions.succeed(id);
      result(res, intent, "completed", "Show “Thank you, your payment is being confirmed” and watch donations/{donationId} until paymentStatus is succeeded.");
      break;
    case "card_declined":
    case "insufficient_funds":
    case "expired_card":
      actions.decline(id, outcome);
      result(res, intent, "failed", `The sheet shows “${DECLINES[outcome].message}” and lets the donor try another card on the same PaymentIntent.`);
      break;
    case "3ds":
      actions.requireAction(id);
      challenge();
      break;
    case "3ds_fail":
      actions.failAuthentication(id);
      result(res, intent, "failed", "Authentication failed: the sheet lets the donor try again or another card; nothing was charged.");
      break;
    case "abandon":
      result(res, intent, "canceled", "The donor closed the sheet: Stripe sends no event and nothing is charged. The donation stays pending; the app offers to pay again or calls cancelDonation; the hourly sweep cancels it after 24 hours.");
      break;
  }
  return true;
}
