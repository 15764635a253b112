import { lookup } from 'node:dns/promises';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/logger.js';
import type { DockerSandbox } from '../../sandbox/docker-sandbox.js';
import { ensureEgressNetwork } from '../../sandbox/network.js';
import type { SandboxHandle } from '../../sandbox/port.js';
import { startVerdaccioCache } from '../../sandbox/verdaccio-cache.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeRegistry, type FakeRegistry } from './fake-registry.js';
import { expectHealthy, sandboxFixture } from './fixture.js';

// The upstream is a fake registry this test starts (real tarballs from `npm pack`): the real
// registry is never needed. The cache, npm and the network are all real.
const fx = sandboxFixture({ execTimeoutMs: 120_000, tmpBytes: 64 * 1024 * 1024 });
let upstream: FakeRegistry;
let storage: string;
let sandbox: DockerSandbox;
let gateway: string;
let hostServer: net.Server;
let hostPort: number;

const INSTALL = 'npm install --no-audit --no-fund --loglevel=error';
/**
 * One Node process in the container trying every probe at once (one process start and one
 * 3-second connect timeout in all, not one per probe), printing each probe's outcome in order:
 * a TCP connect gives "connected" or the error; an HTTP GET gives its status or the error.
 */
const probes = (list: Array<{ connect: [host: string, port: number] } | { get: string }>) => {
  const calls = list.map((p) => ('connect' in p ? `connect(${JSON.stringify(p.connect[1])},'${p.connect[0]}')` : `get({${p.get}})`));
  return `node -e "const net=require('net'),http=require('http');` +
    `const connect=(port,host)=>new Promise(ok=>{const s=net.connect(port,host);s.setTimeout(3000,()=>{s.destroy();ok('error timeout')});s.on('connect',()=>{s.destroy();ok('connected')}).on('error',e=>ok('error '+e.code))});` +
    `const get=o=>new Promise(ok=>http.get(o,r=>{r.resume();ok('status '+r.statusCode)}).on('error',e=>ok('error '+e.code)));` +
    `Promise.all([${calls.join(',')}]).then(l=>{console.log(l.join('\\n'));process.exit(0)})"`;
};
/** Node in the container: a GET, printing the status or the error. */
const get = (url: string, extra = '') =>
  `node -e "fetch('${url}'${extra}).then(r=>console.log('status',r.status),e=>console.log('error',e.cause?.code??e.message))"`;

async function project(id: string): Promise<{ h: SandboxHandle; ws: string }> {
  const ws = await fx.workspace();
  const h = await sandbox.acquire(id, ws);
  await h.exec(`echo '{"name":"${id}","version":"1.0.0","private":true}' > package.json`);
  return { h, ws };
}

beforeAll(async () => {
  upstream = await startFakeRegistry([
    { name: 'sk-fixture-a', version: '1.0.0', dependencies: { 'sk-fixture-b': '^1.0.0' } },
    { name: 'sk-fixture-b', version: '1.2.0' },
    { name: 'sk-fixture-tampered', version: '1.0.0', tamperedWith: 'sk-fixture-b' },
  ]);
  storage = await mkdtemp(path.join(os.tmpdir(), 'sk-package-cache-'));
  sandbox = fx.another({ packageCache: { dir: storage, upstream: upstream.url, upstreamProxy: {}, url: undefined } });
  gateway = (await ensureEgressNetwork(fx.docker, fx.settings.egressNetwork)).gateway;
  // A service of the host listening on every interface: the container must not reach it.
  hostServer = net.createServer((s) => s.end('host service\n'));
  await new Promise<void>((r) => hostServer.listen(0, '0.0.0.0', () => r()));
  hostPort = (hostServer.address() as net.AddressInfo).port;
});
afterAll(async () => {
  hostServer.close();
  await fx.cleanup();
  await upstream.close();
  await rm(storage, { recursive: true, force: true });
  expect(await fx.containers()).toEqual([]);
});

test("a second project's install of the same dependencies makes no upstream request for the cached tarballs", async () => {
  const first = await project('cache-first');
  const r1 = await first.h.exec(`${INSTALL} sk-fixture-a@1.0.0 && echo installed`, { network: 'registry' });
  expect(r1.stdout + r1.stderr).toContain('installed');
  expect(r1.exitCode).toBe(0);
  expect(upstream.tarballRequests().sort()).toEqual(['GET /sk-fixture-a/-/sk-fixture-a-1.0.0.tgz', 'GET /sk-fixture-b/-/sk-fixture-b-1.2.0.tgz']);
  const b = JSON.parse(await readFile(path.join(first.ws, 'node_modules', 'sk-fixture-b', 'package.json'), 'utf8')) as { version: string };
  expect(b.version).toBe('1.2.0');
  // The lockfile names no registry address: the cache's private one would break `npm ci` elsewhere.
  const lock = await readFile(path.join(first.ws, 'package-lock.json'), 'utf8');
  expect(lock).toContain('"integrity": "sha512-');
  expect(lock).not.toContain('"resolved"');
  expect(lock).not.toContain(gateway);

  // Another project, another container (its own empty npm cache): everything comes from the cache.
  const before = upstream.requests.length;
  const second = await project('cache-second');
  const r2 = await second.h.exec(`${INSTALL} sk-fixture-a@1.0.0 && echo installed`, { network: 'registry' });
  expect(r2.exitCode).toBe(0);
  expect(upstream.tarballRequests()).toHaveLength(2);
  expect(upstream.requests.slice(before).filter((r) => r.endsWith('.tgz'))).toEqual([]);
  expect(await readdir(path.join(second.ws, 'node_modules'))).toEqual(expect.arrayContaining(['sk-fixture-a', 'sk-fixture-b']));
  // The cache keeps them on the host, in the configured directory.
  expect(await readdir(storage)).toEqual(expect.arrayContaining(['sk-fixture-a', 'sk-fixture-b']));
  await second.h.release();
  await first.h.release();
}, 300_000);

test("a tarball that does not match the packument's integrity is refused by npm", async () => {
  const { h, ws } = await project('cache-tampered');
  const r = await h.exec(`${INSTALL} --fetch-retries=0 sk-fixture-tampered@1.0.0`, { network: 'registry' });
  expect(r.exitCode).not.toBe(0);
  expect(r.stdout + r.stderr).toContain('EINTEGRITY');
  await expect(readdir(path.join(ws, 'node_modules', 'sk-fixture-tampered'))).rejects.toThrow();
  await h.release();
}, 150_000);

test('publish, unpublish, dist-tag changes and user registration are refused by the cache', async () => {
  const { h } = await project('cache-publish');
  const cacheUrl = (await h.exec('echo $npm_config_registry', { network: 'registry' })).stdout.trim();
  expect(cacheUrl).toMatch(new RegExp(`^http://${gateway.replace(/\./g, '\\.')}:\\d+/$`));
  const host = cacheUrl.slice('http://'.length, -1);
  await h.exec(`echo '{"name":"sk-published","version":"1.0.0"}' > package.json`);
  const publish = await h.exec(`npm publish --//${host}/:_authToken=made-up 2>&1; echo "exit $?"`, { network: 'registry', timeoutMs: 60_000 });
  expect(publish.stdout).not.toMatch(/exit 0$/m);
  expect(publish.stdout).toMatch(/E401|E403|401|403/);
  const put = (p: string, body: string) => get(`${cacheUrl}${p}`, `,{method:'PUT',headers:{'content-type':'application/json'},body:'${body}'}`);
  const r = await h.exec(
    [
      put('-/user/org.couchdb.user:mallory', '{\\"name\\":\\"mallory\\",\\"password\\":\\"pw123456\\"}'),
      put('sk-fixture-b', '{\\"name\\":\\"sk-fixture-b\\"}'),
      put('-/package/sk-fixture-b/dist-tags/evil', '\\"1.2.0\\"'),
      get(`${cacheUrl}sk-fixture-b/-rev/1`, ",{method:'DELETE'}"),
    ].join('; '),
    { network: 'registry' },
  );
  const statuses = r.stdout.trim().split('\n');
  expect(statuses).toHaveLength(4);
  for (const s of statuses) expect(s).toMatch(/^status (401|403|409)$/);
  expect(await readdir(storage)).not.toContain('sk-published');
  // Nothing but reads reached the upstream.
  expect(upstream.requests.every((q) => q.startsWith('GET '))).toBe(true);
  await h.release();
}, 150_000);

test("a 'registry' command reaches nothing but the cache: not the upstream, the host's other ports, the internet or the metadata address", async () => {
  const { h } = await project('cache-isolation');
  // The real registry's address as the host resolves it (a documentation address when the host has no DNS).
  const registryAddress = await lookup('registry.npmjs.org').then((a) => a.address, () => '192.0.2.1');
  const cacheUrl = (await h.exec('echo $npm_config_registry', { network: 'registry' })).stdout.trim();
  const r = await h.exec(
    probes([
      { connect: [gateway, upstream.port] },
      { connect: [gateway, hostPort] },
      { connect: ['1.1.1.1', 443] },
      { connect: ['169.254.169.254', 80] },
      // The real registry's address (by name it fails too, only slower: the network's DNS answers nothing).
      { connect: [registryAddress, 443] },
      // The cache is no forward proxy: an absolute URL is refused.
      { get: `host:'${gateway}',port:new URL('${cacheUrl}').port,path:'http://example.com/',headers:{host:'example.com'}` },
    ]),
    { network: 'registry', timeoutMs: 180_000 },
  );
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(6);
  for (const line of lines.slice(0, 5)) expect(line).toMatch(/^error /);
  expect(lines[5]).toMatch(/^status 4\d\d$/);
  await expectHealthy(h);
  await h.release();
}, 240_000);

test('a cache run apart on the gateway (the compose layout) serves installs; one elsewhere is refused with the fix', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-package-cache-external-'));
  const settings = { dir, upstream: upstream.url, upstreamProxy: {}, url: undefined };
  // What `samokoder package-cache --listen <gateway>:<port>` runs.
  const external = await startVerdaccioCache({ host: gateway, port: 0, settings, caBundle: undefined, logger: createLogger({ level: 'silent' }) });
  try {
    const node = fx.another({ packageCache: { ...settings, url: external.url } });
    const h = await node.acquire('cache-external', await fx.workspace());
    const r = await h.exec(`echo "$npm_config_registry" && ${INSTALL} sk-fixture-b@1.2.0 && echo installed`, { network: 'registry' });
    expect(r.stdout.split('\n')[0]).toBe(external.url);
    expect(r.stdout).toContain('installed');
    await h.release();

    const misconfigured = fx.another({ packageCache: { ...settings, url: 'http://10.255.0.1:4873/' } });
    const h2 = await misconfigured.acquire('cache-external-wrong', await fx.workspace());
    await expect(h2.exec('true', { network: 'registry' })).rejects.toMatchObject({ code: 'E_SANDBOX_UNAVAILABLE', message: expect.stringContaining(gateway) });
    await h2.release();
  } finally {
    await external.stop();
    await rm(dir, { recursive: true, force: true });
  }
}, 150_000);

/** The pids of this process's package-cache children (their command line holds the cache's source). */
async function cacheChildren(): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('SAMOKODER_VERDACCIO')) pids.push(Number(pid));
  }
  return pids;
}

test('a cache whose process died is replaced by the next install, on a new port', async () => {
  const { h } = await project('cache-replaced');
  const before = (await h.exec('echo $npm_config_registry', { network: 'registry' })).stdout.trim();
  const children = await cacheChildren();
  expect(children.length).toBeGreaterThan(0);
  for (const pid of children) process.kill(pid, 'SIGKILL');
  // The bound rules out a hang, not a slow machine.
  expect(await eventually(async () => (await cacheChildren()).length, 0, 30_000)).toBe(0);
  const r = await h.exec(`echo "$npm_config_registry" && ${INSTALL} sk-fixture-b@1.2.0 && echo installed`, { network: 'registry' });
  expect(r.stdout).toContain('installed');
  expect(r.stdout.split('\n')[0]).not.toBe(before);
  await h.release();
}, 150_000);

test("after a 'registry' command the container is back to no network", async () => {
  const { h } = await project('cache-after');
  await h.exec('true', { network: 'registry' });
  const r = await h.exec('ls /sys/class/net');
  expect(r.stdout.trim()).toBe('lo');
  await h.release();
});
