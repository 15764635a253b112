// Origin isolation in a real browser: a generated app's page, served through the preview proxy from
// a real sandbox container, tries to read what the signed-in UI keeps (the bearer token in
// localStorage, a cookie, sessionStorage, IndexedDB), to call the API with the browser's
// credentials, and to reach into the UI that frames it or opened it. It reports what it got into
// its own page; the test reads that report.
//
// Which browser: the page is loaded by the host's headless Chromium (SAMOKODER_CHROMIUM, as the web
// tests use), not by the hardened browser container verify uses (sandbox/docker-browser.ts). That
// container sits on an internal Docker network whose bridge the host firewall closes to new
// connections to the host (sandbox/host-isolation.ts), so it cannot load the UI origin, and a UI
// and a preview in two different browsers would prove nothing about the browser's origin rules.
// The untrusted part here is a page this test wrote itself (below), so loading it on the host is
// safe; the app serving it still runs only in the sandbox container.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { RunsRepo } from '../../runs/runs-repo.js';
import { NO_WORKER, seedTenant, type Tenant } from '../api/fixtures.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, launchBrowser } from '../web/browser.js';
import { ensureWebBuild } from '../web/web-build.js';

const run = promisify(execFile);

/** The attacker's page: every probe's outcome (value or the error's name) as JSON in #report. */
function probePage(uiOrigin: string): string {
  return `<!doctype html><meta charset="utf-8"><title>probe</title><pre id="report">pending</pre>
<script>
(async () => {
  const UI = ${JSON.stringify(uiOrigin)};
  const r = { origin: location.origin, framed: window !== window.top };
  const attempt = async (name, fn) => {
    try { r[name] = { ok: true, value: await fn() }; } catch (e) { r[name] = { ok: false, error: String((e && e.name) || e) }; }
  };
  const entries = (s) => JSON.stringify(Object.entries(s));
  await attempt('cookie', () => document.cookie);
  await attempt('localStorage', () => entries(localStorage));
  await attempt('sessionStorage', () => entries(sessionStorage));
  await attempt('indexedDB', async () => (await indexedDB.databases()).map((d) => d.name));
  await attempt('apiFetch', async () => { const res = await fetch(UI + '/api/projects', { credentials: 'include' }); return res.status + ' ' + (await res.text()); });
  await attempt('apiNoCors', async () => { const res = await fetch(UI + '/api/projects', { credentials: 'include', mode: 'no-cors' }); return res.type + ' ' + res.status + ' ' + (await res.text()); });
  await attempt('parentStorage', () => entries(window.parent.localStorage));
  await attempt('topStorage', () => entries(window.top.localStorage));
  await attempt('parentCookie', () => window.parent.document.cookie);
  await attempt('parentHref', () => String(window.parent.location.href));
  await attempt('opener', () => (window.opener === null ? null : entries(window.opener.localStorage)));
  await attempt('serverCookies', async () => (await fetch('/cookies')).text());
  document.getElementById('report').textContent = JSON.stringify(r);
})();
</script>`;
}

const APP_JS = `
const http = require('node:http');
const page = require('node:fs').readFileSync('probe.html', 'utf8');
http.createServer((req, res) => {
  if (req.url === '/cookies') return res.end(req.headers.cookie || '');
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(page);
}).listen(Number(process.env.PORT), process.env.HOST);
`;

type Probe = { ok: true; value: unknown } | { ok: false; error: string };
type Report = { origin: string; framed: boolean } & Record<string, Probe>;

async function reportOf(frame: Page | Frame): Promise<Report> {
  const pre = frame.locator('#report');
  await pre.filter({ hasNotText: 'pending' }).waitFor({ timeout: 60_000 });
  return JSON.parse((await pre.textContent())!) as Report;
}

describe('origin isolation: the preview cannot read or use the UI origin, in Chromium', () => {
  let server: TestServer;
  let tenant: Tenant;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let context: BrowserContext;
  const namespace = `test-isolation-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    ensureWebBuild();
    server = await startTestServer('pglite', {
      ...NO_WORKER,
      SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
      SAMOKODER_SANDBOX_NAMESPACE: namespace,
    });
    tenant = await seedTenant(server, apiClient(server.url));
    const ws = await server.ctx.workspaces.open(tenant.projectId);
    await ws.files.writeFile('server.js', APP_JS);
    await ws.files.writeFile('probe.html', probePage(server.url));
    await ws.history.commitAll('coder: the app');
    await new RunsRepo(server.ctx.db).setArchitecture(tenant.runId, {
      stack: 'node',
      files: [{ path: 'server.js', purpose: 'the app' }],
      commands: { install: '', test: 'node --test', start: 'node server.js' },
    });
    ({ browser, close: closeBrowser } = await launchBrowser());
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await closeBrowser?.();
    await server?.close();
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=samokoder.namespace=${namespace}`]);
    expect(stdout.trim()).toBe('');
  });

  test('signed in, with a cookie, sessionStorage and IndexedDB on the UI origin: the framed and the opened preview get none of it', async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();

    // Sign in through the UI: the session token lands in the UI origin's localStorage.
    await page.goto(server.url);
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(tenant.email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
    const token = await page.evaluate<string | null>("localStorage.getItem('samokoder.token')");
    expect(token).toBeTruthy();
    // Whatever else a UI page could keep on its origin: a script-readable cookie, sessionStorage, a database.
    await page.evaluate(`(async () => {
      document.cookie = 'ui_marker=set-by-the-ui; path=/';
      sessionStorage.setItem('ui_marker', 'set-by-the-ui');
      await new Promise((resolve, reject) => {
        const req = indexedDB.open('ui-marker-db');
        req.onsuccess = () => { req.result.close(); resolve(); };
        req.onerror = () => reject(req.error);
      });
    })()`);

    // The Preview tab: the app in an iframe on the preview origin.
    await page.goto(`${server.url}/projects/${tenant.projectId}`);
    await page.getByRole('tab', { name: 'Preview' }).click();
    await page.getByRole('button', { name: 'Start preview' }).click();
    const iframe = page.locator('iframe[title="The app\'s preview"]');
    await iframe.waitFor({ timeout: 120_000 });
    const frame = (await iframe.elementHandle())!.contentFrame();
    const framed = await reportOf((await frame)!);
    await page.screenshot({ path: path.join(ARTIFACTS, 'origin-isolation-framed.png') });

    // Opened in a new tab from the UI.
    const [tab] = await Promise.all([context.waitForEvent('page'), page.getByRole('link', { name: 'Open in a new tab' }).click()]);
    const opened = await reportOf(tab);

    // What the page got, for a reader of the artifacts.
    await writeFile(path.join(ARTIFACTS, 'origin-isolation-reports.json'), JSON.stringify({ framed, opened }, null, 2));
    const uiOrigin = new URL(server.url).origin;
    for (const [where, r] of [['framed', framed], ['opened', opened]] as const) {
      const text = JSON.stringify(r);
      // The probes ran: the page read its own cookies, and its server answered what it received.
      expect({ where, cookie: r.cookie!.ok, server: r.serverCookies!.ok }).toEqual({ where, cookie: true, server: true });
      expect({ where, origin: r.origin }).not.toEqual({ where, origin: uiOrigin });
      // Neither the token nor any marker of the UI origin, in anything the page or its server got.
      expect(text).not.toContain(token!);
      expect(text).not.toContain('set-by-the-ui');
      expect(text).not.toContain('ui-marker-db');
      // The preview's own session cookie is HttpOnly, and the proxy strips it before the app.
      expect(text).not.toContain('samokoder_preview');
      // The API gives a cross-origin page nothing: CORS blocks the read, an opaque answer is empty.
      expect({ where, probe: r.apiFetch }).toEqual({ where, probe: { ok: false, error: 'TypeError' } });
      expect({ where, probe: r.apiNoCors }).toEqual({ where, probe: { ok: true, value: 'opaque 0 ' } });
    }
    expect(framed.framed).toBe(true);
    for (const probe of ['parentStorage', 'topStorage', 'parentCookie', 'parentHref'] as const) {
      expect({ probe, result: framed[probe] }).toEqual({ probe, result: { ok: false, error: 'SecurityError' } });
    }
    // Framed on another site, its own storage is partitioned or (this Chromium blocks third-party
    // storage) refused; opened as a tab it is its own, and holds nothing of the UI's.
    expect(opened.localStorage).toEqual({ ok: true, value: '[]' });
    // The link opens it with noopener: no handle back to the UI.
    expect(opened.framed).toBe(false);
    expect(opened.opener).toEqual({ ok: true, value: null });
    await tab.close();
  }, 300_000);
});
