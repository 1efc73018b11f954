// Fan-out for an owner with many friends: the feed fan-out (issue 4) and the notification fan-out (issue 7), each
// called the way production calls it, beside the raw batched write of the same number of documents.
import type { BenchContext } from "../lib/context";
import { notAvailable } from "../lib/results";
import type { ScenarioResult } from "../lib/results";

export function fanOutScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  const n = ctx.options.friends;
  return Promise.resolve([
    notAvailable(
      { id: "fan-out.feed", group: "fan-out", title: `Feed fan-out, owner with ${n} friends`, concurrency: null, n },
      "the feed fan-out module (functions/src/feed/**, issue 4) is not in git yet",
    ),
    notAvailable(
      { id: "fan-out.notifications", group: "fan-out", title: `Notification fan-out, owner with ${n} friends`, concurrency: null, n },
      "the notification fan-out module (issue 7) is not in git yet",
    ),
  ]);
}
