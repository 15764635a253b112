// Headless Chromium for the browser tests: Debian's `chromium` package, driven by playwright-core.
// Installed with apt-get when missing and we are root on Debian (like the PostgreSQL binaries);
// never downloaded from Google (`npx playwright install` is not used).
import { existsSync } from 'node:fs';
import { aptInstall } from './apt.mjs';
import { which } from './run.mjs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function findChromium() {
  if (process.env.SAMOKODER_CHROMIUM && existsSync(process.env.SAMOKODER_CHROMIUM)) return process.env.SAMOKODER_CHROMIUM;
  return CANDIDATES.find((p) => existsSync(p)) ?? which('chromium');
}

/** The Chromium executable's path, or undefined (with a warning) when it cannot be installed here. */
export async function ensureChromium({ log = console.log } = {}) {
  let found = findChromium();
  if (found) return found;
  if (await aptInstall(['chromium'], { log })) {
    found = findChromium();
    if (found) return found;
  }
  log('Chromium was not found and cannot be installed here (Debian/Ubuntu: apt-get install chromium); the browser tests will fail. Set SAMOKODER_CHROMIUM to a Chromium or Chrome binary.');
  return undefined;
}
