import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ensureEgressNetwork } from '../../sandbox/network.js';
import type { SandboxHandle } from '../../sandbox/port.js';
import { expectHealthy, sandboxFixture } from './fixture.js';

// Real egress: the npm registry must be reachable from this machine (it is in CI).
const fx = sandboxFixture({ execTimeoutMs: 120_000 });
let h: SandboxHandle;
let ws: string;
let hostServer: net.Server;
let hostPort: number;

/** Node in the container: CONNECT through the proxy and print the status line, or a direct connect's error. */
const connectVia = (target: string) =>
  `node -e "const u=new URL(process.env.HTTPS_PROXY);require('http').request({host:u.hostname,port:u.port,method:'CONNECT',path:'${target}'}).on('connect',r=>{console.log('status',r.statusCode);process.exit(0)}).on('response',r=>{console.log('status',r.statusCode);process.exit(0)}).on('error',e=>console.log('error',e.code)).end()"`;
const direct = (host: string, port: number) =>
  `node -e "const s=require('net').connect(${port},'${host}');s.setTimeout(1500,()=>{console.log('error timeout');process.exit(0)});s.on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>console.log('error',e.code))"`;

beforeAll(async () => {
  ws = await fx.workspace();
  h = await fx.sandbox.acquire('egress', ws);
  // A service of the host listening on every interface: the container must not reach it.
  hostServer = net.createServer((s) => s.end('host service\n'));
  await new Promise<void>((r) => hostServer.listen(0, '0.0.0.0', () => r()));
  hostPort = (hostServer.address() as net.AddressInfo).port;
});
afterAll(async () => {
  hostServer.close();
  await fx.cleanup();
  expect(await fx.containers()).toEqual([]);
});

test("under 'registry', npm install of a small package works and its files are the service's to read", async () => {
  const r = await h.exec('npm install is-number@7.0.0 --no-audit --no-fund --loglevel=error && echo installed', { network: 'registry', timeoutMs: 120_000 });
  expect(r.stdout + r.stderr).toContain('installed');
  expect(r.exitCode).toBe(0);
  const pkg = JSON.parse(await readFile(path.join(ws, 'node_modules', 'is-number', 'package.json'), 'utf8')) as { version: string };
  expect(pkg.version).toBe('7.0.0');
  await expectHealthy(h);
}, 150_000);

test("under 'registry', other hosts, IP literals and the metadata address are refused by the proxy", async () => {
  const r = await h.exec(
    [connectVia('example.com:443'), connectVia('169.254.169.254:80'), connectVia('1.1.1.1:443'), connectVia('registry.npmjs.org:22'), direct('169.254.169.254', 80), direct('1.1.1.1', 443)].join('; '),
    { network: 'registry', timeoutMs: 20_000 },
  );
  const lines = r.stdout.trim().split('\n');
  expect(lines.slice(0, 4)).toEqual(['status 403', 'status 403', 'status 403', 'status 403']);
  // Direct connections have no route off the internal network.
  expect(lines[4]).toMatch(/^error /);
  expect(lines[5]).toMatch(/^error /);
  await expectHealthy(h);
}, 30_000);

test("under 'registry', the host's own ports other than the proxy are refused", async () => {
  const { gateway } = await ensureEgressNetwork(fx.docker, fx.settings.egressNetwork);
  const r = await h.exec(direct(gateway, hostPort), { network: 'registry', timeoutMs: 10_000 });
  expect(r.stdout).toMatch(/^error /);
  expect(r.stdout).not.toContain('connected');
}, 20_000);

test("plain HTTP through the proxy: allowed registry host only", async () => {
  const get = (url: string) =>
    `node -e "const u=new URL(process.env.HTTP_PROXY);require('http').get({host:u.hostname,port:u.port,path:'${url}',headers:{host:new URL('${url}').host}},r=>{console.log('status',r.statusCode);process.exit(0)}).on('error',e=>console.log('error',e.code))"`;
  const r = await h.exec([get('http://example.com/'), get('http://169.254.169.254/latest/meta-data/')].join('; '), { network: 'registry' });
  expect(r.stdout.trim().split('\n')).toEqual(['status 403', 'status 403']);
});

test("after a 'registry' command the container is back to no network", async () => {
  const r = await h.exec('ls /sys/class/net');
  expect(r.stdout.trim()).toBe('lo');
});
