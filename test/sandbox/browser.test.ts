import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createDockerBrowserCheck } from '../../sandbox/docker-browser.js';
import type { BrowserCheckPort, BrowserCheckResult } from '../../sandbox/browser-port.js';
import { containerLabels, LABEL_PID } from '../../sandbox/labels.js';
import { sandboxSettingsFromConfig } from '../../sandbox/settings.js';
import { sweepOrphanNetworks } from '../../sandbox/sweeper.js';
import { TEST_RUN_LABEL } from './fixture.js';

// The real thing: the app and Chromium (samokoder-browser image) in containers on the local engine.
// A check takes a few seconds; the limit is far above it for a loaded machine.
const CHECK_TEST_MS = 180_000;

const runId = randomUUID().slice(0, 8);
const docker = new Docker({ version: 'v1.41' });
const config = loadConfig({
  SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
  SAMOKODER_BROWSER_IMAGE: process.env.SAMOKODER_BROWSER_IMAGE ?? 'samokoder-browser:latest',
});
const sandbox = { ...sandboxSettingsFromConfig(config), extraLabels: { [TEST_RUN_LABEL]: runId } };
const browserSettings = { image: config.browser.image, port: 3000, startTimeoutMs: 20_000, loadTimeoutMs: 30_000, memoryBytes: 1024 * 1024 * 1024 };
const logger = createLogger({ level: process.env.SANDBOX_TEST_LOG ?? 'silent' });
let check: BrowserCheckPort;
const dirs: string[] = [];

/** A workspace holding `server.js` (and nothing else). */
async function workspaceWith(serverJs: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-browser-ws-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'server.js'), serverJs);
  return dir;
}

/** A node:http app serving `html` at / (and 404 elsewhere), on $PORT and $HOST. */
const serving = (html: string): string => `
const http = require('node:http');
const html = ${JSON.stringify(html)};
http.createServer((req, res) => {
  if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(html); return; }
  res.writeHead(404); res.end('no');
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.PORT));
`;

const run = (dir: string, command = 'node server.js'): Promise<BrowserCheckResult> =>
  check.check({ projectId: `browser-${runId}`, workspaceDir: dir, command });

function loaded(r: BrowserCheckResult): Extract<BrowserCheckResult, { kind: 'loaded' }> {
  if (r.kind !== 'loaded') throw new Error(`expected the page to load, got ${JSON.stringify(r)}`);
  return r;
}

const leftovers = async (): Promise<{ containers: number; networks: number }> => ({
  containers: (await docker.listContainers({ all: true, filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } })).length,
  networks: (await docker.listNetworks({ filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } })).length,
});

beforeAll(() => {
  check = createDockerBrowserCheck({ sandbox, browser: browserSettings, logger, docker });
});

afterAll(async () => {
  await check.close();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const n of await docker.listNetworks({ filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('browser check (app and Chromium in containers)', () => {
  test('a page that renders cleanly: no problems, a PNG screenshot, nothing left behind', async () => {
    const dir = await workspaceWith(serving('<!doctype html><title>ok</title><h1 id="t">Hello</h1><script>document.getElementById("t").textContent += "!"; console.log("rendered")</script>'));
    const r = loaded(await run(dir));
    expect(r.url).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:3000\/$/);
    expect(r.problems).toEqual([]);
    expect(r.console).toContain('log: rendered');
    expect(r.output).toContain('listening on 3000');
    expect(r.screenshot?.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(r.screenshot!.length).toBeGreaterThan(1000);
    expect(await leftovers()).toEqual({ containers: 0, networks: 0 });
  }, CHECK_TEST_MS);

  test('uncaught errors, console errors and failed same-origin requests are each reported', async () => {
    const dir = await workspaceWith(serving('<!doctype html><img src="/missing.png"><script>console.error("boom in console"); notDefinedAnywhere();</script>'));
    const r = loaded(await run(dir));
    const texts = r.problems.map((p) => `${p.kind}: ${p.text}`).join('\n');
    expect(texts).toMatch(/pageerror: ReferenceError: notDefinedAnywhere is not defined/);
    expect(texts).toMatch(/console: boom in console/);
    expect(texts).toContain(`request: GET ${r.url}missing.png: HTTP 404`);
  }, CHECK_TEST_MS);

  test('a start command that exits non-zero is reported with its exit code and output', async () => {
    const dir = await workspaceWith('console.error("cannot start: missing config"); process.exit(3);');
    const r = await run(dir);
    expect(r).toEqual({ kind: 'exited', exitCode: 3, output: expect.stringContaining('cannot start: missing config') });
  }, CHECK_TEST_MS);

  test('a start command that exits 0 at once (a CLI) is not a server', async () => {
    const dir = await workspaceWith('console.log("sum: 5");');
    expect(await run(dir)).toMatchObject({ kind: 'exited', exitCode: 0 });
  }, CHECK_TEST_MS);

  test('the browser reaches the app and nothing else: not the internet, not the host', async () => {
    // A server on the host, on every interface: the page tries it through the network's gateway.
    const host = http.createServer((_req, res) => res.end('host secret'));
    await new Promise<void>((resolve) => host.listen(0, '0.0.0.0', resolve));
    const hostPort = (host.address() as { port: number }).port;
    try {
      // The check network's gateway (the host) is the first address of the app's subnet: the app tells the page.
      // Dropped connections hang, so each probe gives up after 4 s: an open path answers in milliseconds.
      const page = `<!doctype html><h1>probe</h1><script>
        fetch('http://1.1.1.1/', { mode: 'no-cors', signal: AbortSignal.timeout(4000) }).then(() => console.log('internet REACHED'), (e) => console.log('internet BLOCKED ' + e.message));
        fetch('http://example.com/', { mode: 'no-cors' }).then(() => console.log('example.com REACHED'), () => undefined);
        fetch('/gateway').then((r) => r.text()).then((gw) => { console.log('gateway is ' + gw); return fetch('http://' + gw + ':${hostPort}/', { mode: 'no-cors', signal: AbortSignal.timeout(4000) }); })
          .then(() => console.log('host REACHED'), (e) => console.log('host BLOCKED ' + e.message));
      </script>`;
      const server = `
const http = require('node:http');
const os = require('node:os');
const ip = Object.values(os.networkInterfaces()).flat().find((i) => i.family === 'IPv4' && !i.internal).address;
const gateway = ip.split('.').slice(0, 3).join('.') + '.1';
const html = ${JSON.stringify(page)};
http.createServer((req, res) => {
  if (req.url === '/gateway') { res.end(gateway); return; }
  res.writeHead(200, { 'content-type': 'text/html' }); res.end(html);
}).listen(Number(process.env.PORT), process.env.HOST, () => console.log('gateway ' + gateway));
`;
      const dir = await workspaceWith(server);
      const r = loaded(await run(dir));
      const lines = r.console.join('\n');
      expect(lines).toMatch(/internet BLOCKED/);
      expect(lines).toMatch(/gateway is \d+\.\d+\.\d+\.1\b/);
      expect(lines).toMatch(/host BLOCKED/);
      expect(lines).not.toMatch(/REACHED/);
      expect(r.blockedRequests.join('\n')).toContain('GET http://1.1.1.1/');
      expect(r.blockedRequests.join('\n')).toContain(`:${hostPort}/`);
    } finally {
      host.close();
    }
  }, CHECK_TEST_MS);
});

test('the start-up sweep removes check networks of a dead process and keeps a live one\'s', async () => {
  const namespace = `sweep-${runId}`;
  const live = containerLabels('p', undefined, namespace, { [TEST_RUN_LABEL]: runId });
  // A pid past the kernel's pid_max default: no process has it.
  const dead = { ...live, [LABEL_PID]: '4194999' };
  const mine = await docker.createNetwork({ Name: `samokoder-check-live-${runId}`, Internal: true, Labels: live });
  const orphan = await docker.createNetwork({ Name: `samokoder-check-dead-${runId}`, Internal: true, Labels: dead });
  try {
    expect(await sweepOrphanNetworks(docker, logger, { namespace })).toBe(1);
    const left = (await docker.listNetworks({ filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } })).map((n) => n.Name);
    expect(left).toEqual([`samokoder-check-live-${runId}`]);
  } finally {
    await mine.remove().catch(() => undefined);
    await orphan.remove().catch(() => undefined);
  }
});
