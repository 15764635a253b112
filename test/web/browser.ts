import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ARTIFACTS = path.resolve('test-artifacts', 'web');

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const found = [process.env.SAMOKODER_CHROMIUM, ...CANDIDATES].find((p): p is string => Boolean(p && existsSync(p)));
  if (!found) throw new Error('Chromium not found: `npm test` installs Debian\'s chromium (apt-get install chromium), or set SAMOKODER_CHROMIUM.');
  return found;
}

/**
 * Debian's Chromium, headless, with nothing that calls Google's hosts. Playwright gives every
 * launch a fresh temporary profile (the --user-data-dir), deleted on close.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  await mkdir(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
    },
  };
}
