// Hot wish and spread load: signed payment_intent.succeeded webhooks through the real webhook handler.
import type { BenchContext } from "../lib/context";
import { notAvailable } from "../lib/results";
import type { ScenarioResult } from "../lib/results";

export function webhookScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  const { donations, spreadWishes, concurrencies } = ctx.options;
  const reason = "the Stripe webhook handler (functions/src/payments/**, functions/src/donations/**, issue 5) is not in git yet";
  return Promise.resolve([
    ...concurrencies.map((c) =>
      notAvailable({ id: `hot-wish.c${c}`, group: "hot-wish", title: `Webhooks, ${donations} donations to 1 wish`, concurrency: c, n: donations }, reason),
    ),
    ...concurrencies.map((c) =>
      notAvailable(
        { id: `spread.c${c}`, group: "spread", title: `Webhooks, ${donations} donations over ${spreadWishes} wishes`, concurrency: c, n: donations },
        reason,
      ),
    ),
  ]);
}
