// The web UI end to end, in Debian's headless Chromium: sign up, add an openai-compatible key that
// points at the fake LLM server, create a project, follow the run live (with the socket dropped
// mid-run), open a file, revert, download the ZIP. Screenshots go to test-artifacts/web/.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { todoAppScript } from './fake-app.js';
import { ensureWebBuild } from './web-build.js';
import { zipEntries } from './zip.js';

let fake: FakeLlm;
let server: TestServer;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  ensureWebBuild();
  fake = await startFakeLlm({ script: todoAppScript() });
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest' });
  ({ browser, close: closeBrowser } = await launchBrowser());
}, 120_000);
afterAll(async () => {
  await closeBrowser?.();
  await server?.close();
  await fake?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

test('sign up, add a key, generate, follow the run through a dropped socket, view, revert, download', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('dialog', (d) => void d.accept());

  // Sign up.
  await page.goto(server.url);
  await page.waitForURL('**/login');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill('e2e@example.com');
  await page.getByLabel('Password').fill('correct horse battery');
  await shot(page, '01-signup');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();

  // An openai-compatible key, checked against the fake server (its model list; the check model is only for servers without one).
  await nav(page, 'API keys');
  await page.getByLabel('Provider').selectOption('openai-compatible');
  await page.getByLabel('Base URL').fill(fake.baseUrls['openai-compatible']);
  await page.getByLabel('API key').fill('sk-e2e-local-key-1234');
  await page.getByLabel('Label (optional)').fill('fake server');
  await page.getByLabel('Model for the check').fill('fake-check');
  await page.getByRole('button', { name: 'Add key' }).click();
  await page.getByRole('status').filter({ hasText: 'Stored' }).waitFor();
  const keyRow = page.locator('tr[data-key-id]');
  await expectText(keyRow, 'openai-compatible');
  expect(await page.content()).not.toContain('sk-e2e-local-key-1234');
  await shot(page, '02-keys');

  // A project, generated with the fake model.
  await nav(page, 'Projects');
  await page.getByLabel('What should it build?').fill('A tiny todo list library with tests');
  await page.getByLabel('Provider').selectOption('openai-compatible');
  await page.locator('select[name="model"]').selectOption('fake-model');
  await page.getByRole('button', { name: 'Create and generate' }).click();
  await page.waitForURL('**/projects/*');
  const projectId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

  // Mid-run: drop the socket once the first step is under way, and see it come back.
  await page.locator('li[data-step]').first().waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => ((globalThis as unknown as DebugGlobal).__samokoder?.seq() ?? 0) > 0);
  await page.evaluate(() => (globalThis as unknown as DebugGlobal).__samokoder!.dropSocket());
  await page.locator('[data-connection="reconnecting"]').waitFor({ timeout: 5000 }).catch(() => undefined);
  await page.waitForFunction(() => ((globalThis as unknown as DebugGlobal).__samokoder?.connections() ?? 0) >= 2, undefined, { timeout: 15_000 });
  await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
  const seqAtDrop = await page.evaluate(() => (globalThis as unknown as DebugGlobal).__samokoder!.seq());

  await page.locator('.run-head .badge', { hasText: /^(succeeded|failed|cancelled)$/ }).waitFor({ timeout: 180_000 });
  // The drop really was mid-run: events kept coming after the reconnect.
  expect(await page.evaluate(() => (globalThis as unknown as DebugGlobal).__samokoder!.seq())).toBeGreaterThan(seqAtDrop);
  await shot(page, '03-run');
  await page.screenshot({ path: path.join(ARTIFACTS, 'readme-run.png') }); // the viewport: docs/screenshot.png
  const status = await page.locator('.run-head .badge').textContent();
  const reason = await page.locator('.run-head .reason').textContent().catch(() => '');
  expect({ status, reason }).toEqual({ status: 'succeeded', reason: '' });

  // The run view names what the events carry: each coder step's task title, each tool call's
  // name, and each command's exit code.
  const coderTitles = await page.locator('li[data-step="coder"] summary').allTextContents();
  expect(coderTitles).toEqual([expect.stringContaining('core: Todo list module'), expect.stringContaining('tests: Tests, CLI and README')]);
  const tools = await page.locator('li[data-tool]').evaluateAll((els) => els.map((e) => e.getAttribute('data-tool')));
  expect([...new Set(tools)].sort()).toEqual(['finish', 'submit_architecture', 'submit_plan', 'write_file']);
  const verifyCommand = page.locator('li[data-step="verify"] .commands li');
  expect(await verifyCommand.getAttribute('data-exit-code')).toBe('0');
  expect(await verifyCommand.textContent()).toBe('$ node --test exit 0');
  expect(await page.locator('.terminal .t-exit').allTextContents()).toEqual(['exit 0']);

  // Every durable event exactly once: the rendered seqs are 1..last, no gap, no duplicate.
  const token = await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('samokoder.token'));
  const project = (await (await fetch(`${server.url}/api/projects/${projectId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { project: { lastEventSeq: number } };
  const seqs = await page.locator('li[data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(seqs).toEqual(Array.from({ length: project.project.lastEventSeq }, (_, i) => i + 1));
  expect(await page.locator('.written li').allTextContents()).toEqual(expect.arrayContaining(['package.json', 'src/todo.js', 'test/todo.test.js']));

  // The file tree and the viewer.
  await page.getByRole('tab', { name: 'Files' }).click();
  await page.locator('button.file[data-path="src/todo.js"]').click();
  await expectText(page.locator('.viewer pre'), 'createTodoList');
  expect(await page.locator('.viewer .hljs-keyword').count()).toBeGreaterThan(0);
  await shot(page, '04-files');

  // History: a diff, then revert to the first coder step (before the tests were written).
  await page.getByRole('tab', { name: 'History' }).click();
  const coreCommit = page.locator('ol.commits li', { hasText: 'coder core' });
  await coreCommit.getByRole('button', { name: 'Diff' }).click();
  await expectText(page.locator('pre.diff'), 'createTodoList');
  await shot(page, '05-history');
  await coreCommit.getByRole('button', { name: /Revert to/ }).click();
  await page.getByRole('status').filter({ hasText: 'Reverted' }).waitFor();

  await page.getByRole('tab', { name: 'Files' }).click();
  await page.locator('button.file[data-path="src/todo.js"]').waitFor();
  expect(await page.locator('button.file[data-path="test/todo.test.js"]').count()).toBe(0);

  // Download ZIP: the reverted workspace, without .git.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download ZIP' }).click()]);
  const zipPath = path.join(ARTIFACTS, 'project.zip');
  await download.saveAs(zipPath);
  const { readFile } = await import('node:fs/promises');
  const names = zipEntries(await readFile(zipPath)).map((e) => e.name);
  expect(names).toEqual(expect.arrayContaining(['package.json', 'src/todo.js']));
  expect(names).not.toContain('test/todo.test.js');
  expect(names.some((n) => n.startsWith('.git/'))).toBe(false);

  // The finished run in Russian: status, step kinds and exit lines come from the catalogues.
  await page.getByRole('tab', { name: 'Run' }).click();
  await page.getByRole('combobox', { name: 'Language' }).selectOption('ru');
  await page.locator('.run-head .badge', { hasText: 'успешно' }).waitFor();
  expect(await page.locator('li[data-step="coder"] summary').first().textContent()).toContain('программист');
  expect(await page.locator('.terminal .t-exit').allTextContents()).toEqual(['код 0']);
  expect(await page.evaluate(() => [...((globalThis as unknown as { __samokoderMissingKeys?: Set<string> }).__samokoderMissingKeys ?? [])])).toEqual([]);
  await shot(page, '05b-run-ru');
  await page.getByRole('combobox', { name: 'Язык' }).selectOption('en');

  // Usage: the plan's limits as bars.
  await nav(page, 'Usage');
  await page.getByRole('progressbar', { name: 'Tokens this month' }).waitFor();
  expect(Number(await page.getByRole('progressbar', { name: 'Tokens this month' }).getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  await shot(page, '06-usage');

  await writeFile(path.join(ARTIFACTS, 'console-errors.txt'), consoleErrors.join('\n'));
  await context.close();
}, 240_000);

/** The UI's test hook on the open project's stream (web/src/ui/Project.tsx). */
type DebugGlobal = { __samokoder?: { seq(): number; dropSocket(): void; connections(): number } };

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

async function expectText(locator: Locator, text: string) {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 15_000 });
}
