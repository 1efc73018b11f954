import { logger } from "../lib/log";
import type { TaskEnqueuer } from "../lib/tasks";
import { WebhookSignatureError } from "../payments/provider";
import type { WebhookVerifier } from "../payments/provider";
import { processPayoutEvent } from "../payouts/payouts";
import { processPaymentEvent } from "../donations/ledger";
import type { LedgerDeps } from "../donations/ledger";

export interface WebhookRequest {
  method: string;
  rawBody: Buffer | undefined;
  signature: string | undefined;
}

/**
 * Stripe's two endpoints: `payments` (stripeWebhook) takes the platform's own events (payments, refunds, disputes,
 * transfers); `connect` (stripeConnectWebhook) takes only `account.updated` of connected accounts. Each refuses the
 * other's events, and `payments` every event that happened on a connected account.
 */
export type StripeEndpoint = "payments" | "connect";

function belongsTo(endpoint: StripeEndpoint, event: { kind: string; connectedAccount?: string | null }): boolean {
  if (endpoint === "connect") return event.kind === "account";
  return event.kind === "account" || !event.connectedAccount;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The payment webhook: verify the signature on the raw body, then apply the event durably.
 * - 400 when the signature is missing or wrong (nothing is written);
 * - 200 only after the event is durably recorded (or is a type we ignore, or a duplicate);
 * - 500 when anything failed, so the provider retries (Stripe: for up to 3 days).
 * Provider and database messages stay in the logs; the response names only the outcome.
 */
export async function handlePaymentWebhook(
  deps: LedgerDeps & { webhooks: WebhookVerifier; tasks: TaskEnqueuer; endpoint?: StripeEndpoint },
  request: WebhookRequest,
): Promise<WebhookResponse> {
  if (request.method !== "POST") return { status: 405, body: { error: "method not allowed" } };
  let event;
  try {
    event = deps.webhooks.parseWebhook(request.rawBody ?? Buffer.alloc(0), request.signature);
  } catch (error) {
    if (error instanceof WebhookSignatureError) {
      logger.warn("payment webhook rejected: bad signature", { reason: error.message });
      return { status: 400, body: { error: "invalid signature" } };
    }
    logger.error("payment webhook could not parse the event", { error: error instanceof Error ? error.message : String(error) });
    return { status: 400, body: { error: "malformed event" } };
  }
  if (!belongsTo(deps.endpoint ?? "payments", event)) {
    // Signed, but not this endpoint's: a connected account's payment (with a copy of our metadata) would otherwise be
    // booked as a donation, with no money on the platform account. Acknowledged, so the provider stops sending it.
    logger.warn("payment webhook: an event this endpoint does not take; ignored", { eventId: event.eventId, type: event.type, endpoint: deps.endpoint ?? "payments" });
    return { status: 200, body: { received: true, outcome: "ignored" } };
  }
  try {
    // Transfers and Connect account updates belong to payouts; everything else to the donations ledger.
    const outcome = event.kind === "transfer" || event.kind === "account" ? await processPayoutEvent(deps, event) : await processPaymentEvent(deps, event);
    return { status: 200, body: { received: true, outcome } };
  } catch (error) {
    logger.error("payment webhook failed; the provider will retry", {
      eventId: event.eventId,
      type: event.type,
      error: error instanceof Error ? error.stack : String(error),
    });
    return { status: 500, body: { error: "not processed; retry" } };
  }
}
