// The web UI's sandbox banner, in Debian's headless Chromium: a service without its sandbox image
// shows what is missing and the fix on every page (signed in or not); one with it shows nothing.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { ensureWebBuild } from './web-build.js';

let browser: Browser;
let closeBrowser: () => Promise<void>;
let withoutImage: TestServer;
let withImage: TestServer;

// The browser and both services start together.
beforeAll(async () => {
  ensureWebBuild();
  let launched: Awaited<ReturnType<typeof launchBrowser>>;
  [launched, withoutImage, withImage] = await Promise.all([
    launchBrowser(),
    startTestServer('pglite', { SAMOKODER_SANDBOX_IMAGE: 'samokoder-sandbox:does-not-exist' }),
    startTestServer('pglite', { SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest' }),
  ]);
  ({ browser, close: closeBrowser } = launched);
}, 300_000);
afterAll(async () => {
  await closeBrowser?.();
  await Promise.all([withoutImage?.close(), withImage?.close()]);
});

async function openLogin(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const readyz = page.waitForResponse((r) => r.url().endsWith('/readyz'));
  await page.goto(url);
  await page.waitForURL('**/login');
  await (await readyz).finished();
  return page;
}

test('without the sandbox image: the banner names the missing part and the fix, also after signing in', async () => {
  const page = await openLogin(withoutImage.url);
  const banner = page.getByRole('alert', { name: 'Sandbox unavailable' });
  await banner.waitFor();
  expect(await banner.innerText()).toContain('The sandbox image is missing: runs cannot build or test apps on this server.');
  expect(await banner.locator('code').innerText()).toBe('build the image: npm run sandbox:image, then set SAMOKODER_SANDBOX_IMAGE to the tag it prints (it is samokoder-sandbox:does-not-exist now)');
  await page.screenshot({ path: path.join(ARTIFACTS, 'sandbox-banner.png') });

  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill('banner@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
  expect(await banner.isVisible()).toBe(true);
  await page.close();
}, 300_000);

test('with the sandbox available there is no banner', async () => {
  const page = await openLogin(withImage.url);
  // The answer has arrived and been rendered (the login form is up): nothing to show.
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  expect(await page.getByRole('alert', { name: 'Sandbox unavailable' }).count()).toBe(0);
  await page.close();
}, 300_000);
