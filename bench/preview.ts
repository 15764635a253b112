/**
 * Live preview benchmark, on this machine, the same tiny node:http app both ways:
 *   cold:  POST /api/projects/:id/preview → the grant exchanged for the cookie → first 200 through
 *          the preview proxy  vs  `docker run` of the sandbox image with the same start command →
 *          first 200 from the container directly (no hardening, no network of its own: the floor).
 *          Target: ≤ 1.2×. coldFirstProxiedMs is the server's first start, before it has a spare
 *          network ready (previews/spare-networks.ts); the median includes it.
 *   rps:   requests/s of `GET /` through the preview proxy (cookie checked, proxied by
 *          previews/forward.ts)  vs  directly to the same (hardened, 1-CPU) preview container. autocannon runs in a child process of its
 *          own, so the load generator does not share the proxy's event loop. Target: ≥ 0.7×.
 *   cpu:   CPU time per request of each process in the rps runs (autocannon, the app's container from
 *          its cgroup, the preview server: this process, idle but for it then). All of them share this
 *          machine's cores, so on a small machine the proxy's own CPU cost bounds the ratio:
 *          cpuBoundRatio is what the ratio would be were every core busy with these three alone.
 *
 *   npm run bench:preview            # RUNS=5 DURATION=8 CONNECTIONS=20 by default
 */
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../core/logger.js';
import { RunsRepo } from '../runs/runs-repo.js';
import { startServer } from '../server/server.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 5);
/** Before each timed start: the preview server makes its spare network in the background after a start (previews/spare-networks.ts), and a stopped preview's removal may still be under way; neither belongs to the next measurement. */
const SETTLE_MS = 2000;
const DURATION = Number(process.env.DURATION ?? 8);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const IMAGE = process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest';
const APP = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/html'); s.end('<h1>hello</h1>'); }).listen(Number(process.env.PORT), process.env.HOST);\n`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A preview URL on the default origin (`<project>.localhost`) as a browser reaches it: browsers
 * resolve `*.localhost` to loopback, the resolver Node uses here does not, so the request goes to
 * 127.0.0.1 with the host in the Host header.
 */
function loopback(url: string, headers: Record<string, string> = {}): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (!u.hostname.endsWith('.localhost')) return { url, headers };
  const host = u.host;
  u.hostname = '127.0.0.1';
  return { url: u.toString(), headers: { ...headers, host } };
}

/** One GET (no redirects followed): its status and headers. */
function get(url: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  const to = loopback(url, headers);
  return new Promise((resolve, reject) => {
    http.get(to.url, { headers: to.headers }, (res) => {
      res.resume();
      resolve(res);
    }).on('error', reject);
  });
}

/** Polls until `url` answers 200; returns the time from `t0`. */
async function firstOk(url: string, t0: number, headers: Record<string, string> = {}): Promise<number> {
  for (;;) {
    const ok = await get(url, headers).then((r) => r.statusCode === 200, () => false);
    if (ok) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error(`${url} never answered 200`);
    await sleep(20);
  }
}

/** Mean latency of `n` sequential keep-alive GETs (one connection): the per-request cost. */
async function latency(preview: string, n: number, given: Record<string, string> = {}): Promise<number> {
  const { url, headers } = loopback(preview, given);
  const agent = new http.Agent({ keepAlive: true });
  const u = new URL(url);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get({ host: u.hostname, port: u.port, path: u.pathname, agent, headers }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
  }
  agent.destroy();
  return (performance.now() - t0) / n;
}

interface Load {
  rps: number;
  requests: number;
  /** The load generator's own CPU time, µs. */
  clientCpuUs: number;
}

/** autocannon in a child process of its own: requests per second, and the CPU time it used. */
function load(preview: string, given: Record<string, string>): Promise<Load> {
  const { url, headers } = loopback(preview, given);
  const script = `require('autocannon')(${JSON.stringify({ url, headers, duration: DURATION, connections: CONNECTIONS })}, (err, r) => {
    if (err) throw err;
    const c = process.cpuUsage();
    console.log(JSON.stringify({ rps: r.requests.average, requests: r.requests.total, non2xx: r.non2xx, clientCpuUs: c.user + c.system }));
  });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        const r = JSON.parse(out) as Load & { non2xx: number };
        if (r.non2xx) reject(new Error(`${r.non2xx} non-2xx answers from ${url}`));
        else resolve(r);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

/** The container's CPU time so far, µs, from its cgroup (v1 cpuacct or v2); undefined where neither is readable. */
async function containerCpuUs(id: string): Promise<number | undefined> {
  const v1 = await readFile(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8').catch(() => undefined);
  if (v1) return Number(v1) / 1000;
  const v2 = await readFile(`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, 'utf8').catch(() => undefined);
  const usage = v2?.match(/^usage_usec (\d+)$/m)?.[1];
  return usage ? Number(usage) : undefined;
}

/** The CPU time so far, µs, of this process's `haproxy` children (the preview data plane), from /proc; 0 when there is none. */
async function haproxyCpuUs(): Promise<number> {
  let ticks = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ... utime(14) stime(15): fields counted after the closing parenthesis.
    const m = /^\d+ \((.*)\) (.*)$/s.exec(stat);
    const rest = m?.[2]?.split(' ');
    if (m?.[1] !== 'haproxy' || Number(rest?.[1]) !== process.pid) continue;
    ticks += Number(rest![11]) + Number(rest![12]);
  }
  return ticks * (1e6 / 100); // USER_HZ is 100 on Linux
}

/** One rps run, with each process's CPU time per request (the proxy's: this process and its HAProxy). */
async function measured(url: string, headers: Record<string, string>, containerId: string): Promise<{ rps: number; clientUs: number; appUs: number | undefined; proxyUs: number; haproxyUs: number }> {
  const app0 = await containerCpuUs(containerId);
  const self0 = process.cpuUsage();
  const haproxy0 = await haproxyCpuUs();
  const r = await load(url, headers);
  const self = process.cpuUsage(self0);
  const haproxyUs = ((await haproxyCpuUs()) - haproxy0) / r.requests;
  const app1 = await containerCpuUs(containerId);
  return {
    rps: r.rps,
    clientUs: r.clientCpuUs / r.requests,
    appUs: app0 !== undefined && app1 !== undefined ? (app1 - app0) / r.requests : undefined,
    proxyUs: (self.user + self.system) / r.requests + haproxyUs,
    haproxyUs,
  };
}

const dataDir = await mkdtemp(path.join(tmpdir(), 'sk-bench-preview-'));
const server = await startServer({
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_RUN_WORKER: 'false', SAMOKODER_WORKSPACE_QUOTA: 'reactive', SAMOKODER_SANDBOX_NAMESPACE: 'bench-preview' },
  logger: createLogger({ level: 'warn' }),
});
const direct: string[] = [];
try {
  const api = async (method: string, p: string, token?: string, body?: unknown) => {
    const r = await fetch(server.url + p, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return (await r.json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const user = await api('POST', '/api/auth/register', undefined, { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery' });
  const key = await api('POST', '/api/user/api-keys', user.token, { provider: 'openai', apiKey: 'sk-bench-preview-abcd' });
  const project = await api('POST', '/api/projects', user.token, { name: 'bench', prompt: 'a page' });
  const projectId: string = project.project.id;
  const generated = await api('POST', `/api/projects/${projectId}/generate`, user.token, { provider: 'openai', model: 'gpt-4o-mini', keyId: key.id });
  const ws = await server.ctx.workspaces.open(projectId);
  await ws.files.writeFile('server.js', APP);
  await ws.history.commitAll('the app');
  await new RunsRepo(server.ctx.db).setArchitecture(generated.run.id, { stack: 'node', files: [{ path: 'server.js', purpose: 'app' }], commands: { install: '', test: 'node --test', start: 'node server.js' } });
  // The project's workspace, for `docker run` too (read by uid 10001 in the container).
  const wsDir = ws.dir;
  await writeFile(path.join(dataDir, 'warm'), '');

  const proxied: number[] = [];
  const plain: number[] = [];
  let cookie = '';
  let previewUrl = '';
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so a slow moment of the machine hits both.
    await sleep(SETTLE_MS);
    let t0 = performance.now();
    const started = await api('POST', `/api/projects/${projectId}/preview`, user.token);
    if (started.status !== 'running') throw new Error(`preview: ${JSON.stringify(started)}`);
    const exchanged = await get(started.url);
    cookie = exchanged.headers['set-cookie']![0]!.split(';')[0]!;
    previewUrl = new URL('/', started.url).toString();
    proxied.push(await firstOk(previewUrl, t0, { cookie }));
    if (i < RUNS - 1) await api('DELETE', `/api/projects/${projectId}/preview`, user.token);

    await sleep(SETTLE_MS);
    t0 = performance.now();
    const { stdout } = await run('docker', ['run', '-d', '--rm', '--label', 'samokoder.bench=1', '-v', `${wsDir}:/workspace`, '-w', '/workspace', '-u', '10001:10001', '-e', 'PORT=3000', '-e', 'HOST=0.0.0.0', IMAGE, 'node', 'server.js']);
    const id = stdout.trim();
    direct.push(id);
    const ip = (await run('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id])).stdout.trim();
    plain.push(await firstOk(`http://${ip}:3000/`, t0));
    if (i < RUNS - 1) await run('docker', ['rm', '-f', direct.pop()!]);
  }
  // The same container both ways: the preview's own (its address from the previews row).
  const row = (await server.ctx.db.query<{ upstream: string; container_id: string }>('SELECT upstream, container_id FROM previews WHERE project_id = $1', [projectId])).rows[0]!;
  const upstream = row.upstream;
  const latDirect = await latency(`http://${upstream}/`, 300);
  const latProxy = await latency(previewUrl, 300, { cookie });
  // Proxy, direct, proxy: a slow moment of the machine hits both sides.
  const viaProxy = [await measured(previewUrl, { cookie }, row.container_id)];
  const direct1 = await measured(`http://${upstream}/`, {}, row.container_id);
  viaProxy.push(await measured(previewUrl, { cookie }, row.container_id));
  const mean = (f: (m: (typeof viaProxy)[number]) => number): number => (f(viaProxy[0]!) + f(viaProxy[1]!)) / 2;
  const proxyRps = mean((m) => m.rps);
  const us = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x));

  // Were the cores busy with only these processes: each side's requests/s is the cores over the CPU
  // time a request costs in all of them, capped by the app's single CPU and the proxy's one thread.
  const cores = availableParallelism();
  let cpuBoundRatio: number | null = null;
  const appProxied = mean((m) => m.appUs ?? NaN);
  if (direct1.appUs !== undefined && !Number.isNaN(appProxied)) {
    const directCap = Math.min(cores / (direct1.clientUs + direct1.appUs), 1e6 / direct1.appUs);
    const proxyCap = Math.min(cores / (mean((m) => m.clientUs) + appProxied + mean((m) => m.proxyUs)), 1e6 / appProxied, 1e6 / mean((m) => m.proxyUs));
    cpuBoundRatio = +(proxyCap / directCap).toFixed(2);
  }

  const out = {
    runs: RUNS,
    dataPlane: server.preview.dataPlane,
    coldProxiedMs: Math.round(median(proxied)),
    // The server's first preview: no spare network is ready yet (it makes them once previews are used).
    coldFirstProxiedMs: Math.round(proxied[0]!),
    coldDockerRunMs: Math.round(median(plain)),
    coldRatio: +(median(proxied) / median(plain)).toFixed(2),
    rpsProxy: Math.round(proxyRps),
    rpsDirect: Math.round(direct1.rps),
    rpsRatio: +(proxyRps / direct1.rps).toFixed(2),
    cpuUsPerRequest: {
      direct: { client: us(direct1.clientUs), app: us(direct1.appUs) },
      proxied: { client: us(mean((m) => m.clientUs)), app: us(appProxied), proxy: us(mean((m) => m.proxyUs)), ofWhichHaproxy: us(mean((m) => m.haproxyUs)) },
    },
    cpuBoundRatio,
    latencyDirectMs: +latDirect.toFixed(2),
    latencyProxyMs: +latProxy.toFixed(2),
    proxyOverheadMsPerRequest: +(latProxy - latDirect).toFixed(2),
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const id of direct) await run('docker', ['rm', '-f', id]).catch(() => undefined);
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
