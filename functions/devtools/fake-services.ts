// The local fakes of external services (Stripe, Facebook Graph, FCM), started by `npm start` beside the emulators
// on the ports that scripts/emulators.mjs exported (ELATEME_FAKE_*_URL). Tests start the same fakes in-process
// (test/setup/root-hooks.ts) so they can inspect what was sent.
import { startAllFakes } from "./fakes/all";

async function main(): Promise<void> {
  const running = await startAllFakes(process.env);
  for (const server of running) console.log(`[fakes] ${server.label}: ${server.url}`);
  const stop = () => {
    void Promise.all(running.map((server) => server.close())).then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();
