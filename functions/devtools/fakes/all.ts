import type { RunningServer } from "./http";
import { portOf } from "./http";
import { seedDemoGraph, startGraphFake } from "./graph";
import { startFakeFcm } from "./fcm";
import { startFakeStripe } from "./stripe";

/**
 * Starts every local fake on the port its ELATEME_FAKE_*_URL names. Each domain registers its fake here.
 * Returns the running servers (for `npm start`); tests keep typed handles through test/helpers/fakes.ts.
 */
export async function startAllFakes(env: NodeJS.ProcessEnv): Promise<RunningServer[]> {
  const running: RunningServer[] = [];
  // identity and social graph: the fake Facebook Graph API, seeded with the demo accounts of docs/social.md.
  const graph = await startGraphFake(portOf(env.ELATEME_FAKE_GRAPH_URL, 12112));
  seedDemoGraph(graph);
  running.push(graph);
  // notifications: the fake FCM v1 send API; every push it receives is printed to the `npm start` log.
  running.push(await startFakeFcm(portOf(env.ELATEME_FAKE_FCM_URL, 12113), { log: (line) => console.log(line) }));
  // donations and payments: the fake Stripe API (functions/devtools/send-webhook.ts plays a payment's webhook).
  running.push(await startFakeStripe(env));
  void env;
  return Promise.resolve(running);
}
