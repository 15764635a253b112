// The Chat tab in Debian's headless Chromium: ask about the code, watch the answer stream in, export
// it, turn it into a change request; and the same tab in Russian. Screenshots go to test-artifacts/web/.
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { ensureWebBuild } from './web-build.js';

let fake: FakeLlm;
let server: TestServer;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  ensureWebBuild();
  fake = await startFakeLlm();
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off', SAMOKODER_RUN_WORKER: false, SAMOKODER_LLM_MAX_RETRIES: 0 });
  ({ browser, close: closeBrowser } = await launchBrowser());
}, 120_000);
afterAll(async () => {
  await closeBrowser?.();
  await server?.close();
  await fake?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signedInPage(token: string, locale: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.addInitScript({ content: `localStorage.setItem('samokoder.token', ${JSON.stringify(token)}); localStorage.setItem('samokoder.locale', ${JSON.stringify(locale)});` });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  return page;
}

test('ask, see the answer stream in, export, make it a change; the tab in Russian', async () => {
  const api = apiClient(server.url);
  const user = await registerUser(api);
  const apiKey = fakeSecret();
  await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: fake.baseUrls['openai-compatible'] } });
  const project = await api('POST', '/api/projects', { token: user.token, body: { name: 'Todo', prompt: 'a todo app' } });
  const projectId: string = project.body.project.id;
  const ws = await server.ctx.workspaces.open(projectId);
  await ws.files.writeFile('src/index.ts', 'export const answer = 42;\n');
  await ws.history.commitAll('coder: first files');
  // Markdown, with what a hostile answer could carry: raw HTML, a script link, a tracking image.
  const answer = [
    'The app exports **answer = 42** from `src/index.ts`:',
    '',
    '```ts',
    'export const answer = 42;',
    '```',
    '',
    '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> [click](javascript:window.pwned=3) ![pixel](https://tracker.example/p.png) [docs](https://nodejs.org/)',
  ].join('\n');
  fake.setScript({
    turns: [
      { match: { apiKey }, toolCalls: [{ name: 'read_file', arguments: { path: 'src/index.ts' } }] },
      // Slow pieces: the text shows up while the request is still open.
      { match: { apiKey }, text: answer, chunkSize: 16, chunkDelayMs: 150 },
    ],
  });

  const page = await signedInPage(user.token, 'en');
  await page.goto(`${server.url}/projects/${projectId}`);
  await page.getByRole('tab', { name: 'Chat' }).click();
  await page.getByRole('heading', { name: 'Chat about the code' }).waitFor();
  // The fake key lists no models: the picker asks for a name.
  await page.locator('input[name="customModel"]').fill('fake-model');
  await page.getByLabel('Your question').fill('What does it export?');
  await page.getByRole('button', { name: 'Ask' }).click();
  // Streamed: part of the answer is on the page while the button still says it is answering.
  await page.locator('.chat-a').filter({ hasText: 'The app exp' }).waitFor();
  expect(await page.getByRole('button', { name: 'Answering…' }).count()).toBe(1);
  await page.getByRole('button', { name: 'Make this a change' }).waitFor();
  // Rendered as Markdown; the HTML is shown as text, never run; the script link is no link, the image only a link to it.
  const rendered = page.locator('.chat-a').last();
  expect(await rendered.locator('strong').textContent()).toBe('answer = 42');
  expect(await rendered.locator('pre code').textContent()).toBe('export const answer = 42;\n');
  expect(await rendered.locator('img, script').count()).toBe(0);
  expect(await rendered.textContent()).toContain('<img src=x onerror="window.pwned=1">');
  expect(await rendered.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]))).toEqual([
    ['https://tracker.example/p.png', '_blank', 'noopener noreferrer nofollow'],
    ['https://nodejs.org/', '_blank', 'noopener noreferrer nofollow'],
  ]);
  expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
  await page.getByText(/\d tokens · 1 file lookup /).waitFor();
  await shot(page, 'chat-01-answered');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export Markdown' }).click();
  expect((await download).suggestedFilename()).toBe('Todo-chat.md');

  await page.getByRole('button', { name: 'Make this a change' }).click();
  await page.getByRole('tab', { name: 'Run', selected: true }).waitFor();
  const runs = await api('GET', `/api/projects/${projectId}/runs`, { token: user.token });
  expect(runs.body.runs[0].prompt).toContain(answer);

  // The workspace is as it was: one commit on top of the first.
  expect(await ws.history.history()).toHaveLength(2);

  const ru = await signedInPage(user.token, 'ru');
  await ru.goto(`${server.url}/projects/${projectId}`);
  await ru.getByRole('tab', { name: 'Чат' }).click();
  await ru.getByRole('heading', { name: 'Чат о коде' }).waitFor();
  await ru.getByRole('button', { name: 'Сделать изменением' }).waitFor();
  await ru.getByText(/ · 1 обращение к файлам /).waitFor();
  await shot(ru, 'chat-02-ru');
}, 120_000);
