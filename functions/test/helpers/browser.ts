// A real headless Chromium (Debian's `chromium` package, driven by playwright-core) for the pages a person opens in a
// browser or the app's web view, e.g. the fake Stripe's payment page. `.ci/run` installs the package when missing.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.ELATEME_CHROMIUM ?? "/usr/bin/chromium";

/** Flags for a quiet, offline, throw-away browser (Playwright adds --headless for `headless: true`). */
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile (--user-data-dir in a temporary directory, removed on close). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: \`apt-get install chromium\` (Debian; .ci/run does it), or set ELATEME_CHROMIUM.`);
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), "elateme-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
