import type { RunningServer } from "./http";

/**
 * Starts every local fake on the port its ELATEME_FAKE_*_URL names. Each domain registers its fake here.
 * Returns the running servers (for `npm start`); tests keep typed handles through test/helpers/fakes.ts.
 */
export async function startAllFakes(env: NodeJS.ProcessEnv): Promise<RunningServer[]> {
  const running: RunningServer[] = [];
  void env;
  return Promise.resolve(running);
}
