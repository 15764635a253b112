// The new-run form's model picker, in Debian's headless Chromium: models and prices from the
// catalogue and from what the key's provider listed, the recommended default, typing another
// name, and the picker in Russian and Ukrainian with no missing catalogue key.
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { ensureWebBuild } from './web-build.js';

let fake: FakeLlm;
let server: TestServer;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  ensureWebBuild();
  fake = await startFakeLlm({ script: { models: ['gpt-5', 'gpt-4o-mini', 'ft:gpt-4o-mini:acme'] } });
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off', SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai });
  ({ browser, close: closeBrowser } = await launchBrowser());
}, 300_000);
afterAll(async () => {
  await closeBrowser?.();
  await server?.close();
  await fake?.close();
});

test('the model picker offers what the key lists, with catalogue prices, in every language', async () => {
  const api = apiClient(server.url);
  const user = await registerUser(api);
  const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: 'sk-picker-test-key-123456', validate: true } });
  expect(key.status).toBe(201);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await context.addInitScript((token) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('samokoder.token', token), user.token);
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
  await page.getByLabel('Provider').selectOption('openai');

  // A label wrapping a select takes in its options' text, so the select is found by name.
  const select = page.locator('select[name="model"]');
  expect(await page.locator('.model-picker .label').first().textContent()).toBe('Model');
  await page.locator('[data-model-facts]').waitFor();
  // Only what the provider lists for this key; the recommended coder is the default.
  expect(await select.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['gpt-4o-mini', 'gpt-5', 'ft:gpt-4o-mini:acme', '\u0000other']);
  expect(await select.inputValue()).toBe('gpt-5');
  expect(await select.locator('option[value="gpt-5"]').textContent()).toBe('GPT-5 — $1.25 in / $10.00 out per 1M tokens · recommended');
  expect(await select.locator('option[value="ft:gpt-4o-mini:acme"]').textContent()).toBe('ft:gpt-4o-mini:acme — price unknown');
  expect(await page.locator('[data-model-facts]').textContent()).toBe('gpt-5 · $1.25 in / $10.00 out per 1M tokens · cached input $0.125 per 1M · context 400,000 tokens · up to 128,000 output tokens');
  await select.selectOption('gpt-4o-mini');
  expect(await page.locator('[data-model-facts]').textContent()).toContain('$0.15 in / $0.60 out per 1M tokens');
  await page.screenshot({ path: path.join(ARTIFACTS, 'model-picker-en.png') });

  // Another model, typed.
  await select.selectOption('\u0000other');
  await page.getByLabel('Model name').fill('gpt-5-pro-preview');
  expect(await page.getByLabel('Model name').inputValue()).toBe('gpt-5-pro-preview');
  await select.selectOption('gpt-5');

  for (const [locale, label, facts] of [
    ['ru', 'Модель', /контекст 400\s000 токенов · до 128\s000 токенов на выходе$/],
    ['uk', 'Модель', /контекст 400\s000 токенів · до 128\s000 токенів на виході$/],
  ] as const) {
    await page.locator('select:has(option[lang="ru"])').selectOption(locale);
    await page.locator('.model-picker .label', { hasText: label }).waitFor();
    expect(await page.locator('[data-model-facts]').textContent()).toMatch(facts);
    await page.screenshot({ path: path.join(ARTIFACTS, `model-picker-${locale}.png`) });
  }
  const missing = await page.evaluate(() => [...((globalThis as unknown as { __samokoderMissingKeys?: Set<string> }).__samokoderMissingKeys ?? [])]);
  expect(missing.filter((k) => k.includes(':models:'))).toEqual([]);
  await context.close();
}, 300_000);
