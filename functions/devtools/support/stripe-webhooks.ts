// Stripe's webhook delivery, played from the fake Stripe's event log to the emulated endpoints (account events to
// stripeWebhook, Connect events to stripeConnectWebhook), signed with the endpoints' secrets. Used by the demo seed
// and the tests.
import type { StripeEventObject } from "../fakes/stripe";
import { functionUrl } from "./emulators";
import { fakeStripe } from "./fakes";

const delivered = new Set<string>();

/** Forget what was delivered (call with `fakeStripe().reset()`). */
export function resetDeliveries(): void {
  delivered.clear();
}

/** Delivers one event as Stripe would, to the endpoint it belongs to; fails unless it answers 200. */
export async function deliver(event: StripeEventObject): Promise<void> {
  const response = await fakeStripe().deliver(await functionUrl(event.account ? "stripeConnectWebhook" : "stripeWebhook"), event);
  if (response.status !== 200) throw new Error(`${event.type} ${event.id}: webhook answered ${response.status}`);
  delivered.add(event.id);
}

/** Plays Stripe's webhook delivery of every event of these types (all types when omitted) not delivered yet. */
export async function deliverNewEvents(types?: string[]): Promise<number> {
  const pending = fakeStripe().events.filter((event) => !delivered.has(event.id) && (!types || types.includes(event.type)));
  for (const event of pending) await deliver(event);
  return pending.length;
}
