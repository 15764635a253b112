// Import (a git URL and a ZIP) and the Push dialog in the web UI, in Debian's headless Chromium,
// against git daemon, smart HTTP and sshd on loopback.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { repoRoot, startGitDaemon, startSmartHttp, type GitDaemon, type RepoRoot, type SmartHttp } from '../gitio/git-servers.js';
import { startSshd, type Sshd } from '../gitio/sshd.js';
import { buildZip } from '../gitio/zip-builder.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { ensureWebBuild } from './web-build.js';

const TOKEN = 'ghp_webUiS3cretToken0123456789';
let browser: Browser;
let closeBrowser: () => Promise<void>;
let server: TestServer;
let repos: RepoRoot;
let daemon: GitDaemon;
let smart: SmartHttp;
let sshd: Sshd;
let tmp: string;

beforeAll(async () => {
  ensureWebBuild();
  ({ browser, close: closeBrowser } = await launchBrowser());
  tmp = await mkdtemp(path.join(os.tmpdir(), 'samokoder-web-gitio-'));
  repos = await repoRoot();
  await repos.create('webapp', { 'README.md': '# web app\n', 'link': null });
  await repos.createEmpty('published');
  daemon = await startGitDaemon(repos.dir);
  smart = await startSmartHttp(repos.dir, 'me', TOKEN);
  sshd = await startSshd();
  server = await startTestServer('pglite', { SAMOKODER_RUN_WORKER: false });
}, 300_000);
afterAll(async () => {
  await closeBrowser?.();
  await server?.close();
  await daemon?.stop();
  await smart?.stop();
  await sshd?.stop();
  await repos?.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

async function signUp(email = 'web-gitio@example.com'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(server.url);
  await page.waitForURL('**/login');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
  return page;
}

test('import a repository and a ZIP from the projects page; push from the project view, force after a rejection', async () => {
  const page = await signUp();
  const card = page.getByRole('region', { name: 'Import a project' });
  await card.getByLabel('Repository URL').fill(`${daemon.url}webapp.git`);
  await card.getByRole('button', { name: 'Import' }).click();
  // A symlink was left out: the card says so and links to the project.
  await card.getByRole('status').waitFor();
  expect(await card.getByRole('status').innerText()).toContain('link (a symlink)');
  await card.getByRole('link', { name: 'Open the project' }).click();
  await page.getByRole('heading', { name: 'webapp', level: 1 }).waitFor();

  await page.getByRole('button', { name: 'Push to git' }).click();
  const dialog = page.getByRole('dialog', { name: 'Push to a git remote' });
  await dialog.getByText('Git credentials', { exact: true }).click();
  await dialog.getByRole('textbox', { name: /^Token/ }).fill(TOKEN);
  await dialog.getByLabel('User name (optional)').fill('me');
  await dialog.getByRole('button', { name: 'Store credential' }).click();
  await dialog.locator('code', { hasText: 'ghp_…6789' }).waitFor();
  await dialog.locator('select[name=credentialId]').selectOption({ index: 1 });
  await dialog.locator('input[name=remoteUrl]').fill(`${smart.url}published.git`);
  await dialog.getByRole('button', { name: 'Push', exact: true }).click();
  await dialog.getByRole('status').waitFor();
  expect(await dialog.getByRole('status').innerText()).toMatch(/^Pushed [0-9a-f]{12} to main\.$/);
  const pushed = await repos.head('published', 'main');
  expect(pushed).toBeDefined();

  await repos.commitDirectly('published', 'main', 'theirs.txt', 'x');
  await dialog.getByRole('button', { name: 'Push', exact: true }).click();
  await dialog.getByRole('alert').waitFor();
  expect(await dialog.getByRole('alert').innerText()).toContain('E_PUSH_REJECTED');
  await dialog.locator('input[name=force]').check();
  await dialog.getByRole('button', { name: 'Push', exact: true }).click();
  await dialog.getByRole('status').waitFor();
  expect(await repos.head('published', 'main')).toBe(pushed);
  await page.screenshot({ path: path.join(ARTIFACTS, 'gitio-push.png') });
  await dialog.getByRole('button', { name: 'Close' }).click();

  await page.goto(server.url);
  const zip = path.join(tmp, 'site.zip');
  await writeFile(zip, buildZip([{ name: 'index.html', data: '<h1>hi</h1>' }]));
  const importCard = page.getByRole('region', { name: 'Import a project' });
  await importCard.locator('input[name=source][value=zip]').check();
  await importCard.locator('input[type=file]').setInputFiles(zip);
  await importCard.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByRole('heading', { name: 'site', level: 1 }).waitFor();
  // The token never reached the page's own storage or markup.
  expect(await page.content()).not.toContain(TOKEN);
  await page.close();
}, 300_000);

test('import over ssh: the host key field appears for an ssh URL; without it the error names the fingerprint, with it the import works', async () => {
  const page = await signUp('web-ssh@example.com');
  const card = page.getByRole('region', { name: 'Import a project' });
  await card.getByText('Git credentials', { exact: true }).click();
  await card.locator('select[name=kind]').selectOption('ssh-key');
  await card.locator('textarea[name=secret]').fill(sshd.client.privateKey);
  await card.getByRole('button', { name: 'Store credential' }).click();
  await card.locator('code', { hasText: 'ssh-key …' }).waitFor();
  await card.locator('select[name=credentialId]').selectOption({ index: 1 });
  await card.getByLabel('Repository URL').fill('https://example.com/x.git');
  expect(await card.locator('textarea[name=hostKey]').count()).toBe(0);
  await card.getByLabel('Repository URL').fill(`ssh://root@127.0.0.1:${sshd.port}${repos.dir}/webapp.git`);
  await card.getByRole('button', { name: 'Import', exact: true }).click();
  await card.getByRole('alert').waitFor();
  const refusal = await card.getByRole('alert').innerText();
  expect(refusal).toContain('E_GIT_HOST_KEY');
  expect(refusal).toContain(sshd.hostFingerprint);
  await card.locator('textarea[name=hostKey]').fill(sshd.hostFingerprint);
  await card.getByRole('button', { name: 'Import', exact: true }).click();
  await card.getByRole('status').waitFor();
  expect(await card.getByRole('status').innerText()).toContain('link (a symlink)');
  expect(await page.content()).not.toContain(sshd.client.privateKey.split('\n')[1]!);
  await page.close();
}, 300_000);
