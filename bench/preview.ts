/**
 * Live preview benchmark, on this machine, the same tiny node:http app both ways:
 *   cold:  POST /api/projects/:id/preview → the grant exchanged for the cookie → first 200 through
 *          the preview proxy  vs  `docker run` of the sandbox image with the same start command →
 *          first 200 from the container directly (no hardening, no network of its own: the floor).
 *          Target: ≤ 1.2×.
 *   rps:   requests/s of `GET /` through the preview proxy (cookie checked, proxied by
 *          previews/forward.ts)  vs  directly to the same (hardened, 1-CPU) preview container. autocannon runs in a child process of its
 *          own, so the load generator does not share the proxy's event loop. Target: ≥ 0.7×.
 *
 *   npm run bench:preview            # RUNS=5 DURATION=8 CONNECTIONS=20 by default
 */
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../core/logger.js';
import { RunsRepo } from '../runs/runs-repo.js';
import { startServer } from '../server/server.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 5);
const DURATION = Number(process.env.DURATION ?? 8);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const IMAGE = process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest';
const APP = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/html'); s.end('<h1>hello</h1>'); }).listen(Number(process.env.PORT), process.env.HOST);\n`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `url` answers 200; returns the time from `t0`. */
async function firstOk(url: string, t0: number, headers: Record<string, string> = {}): Promise<number> {
  for (;;) {
    const ok = await fetch(url, { headers, redirect: 'manual' }).then((r) => r.status === 200, () => false);
    if (ok) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error(`${url} never answered 200`);
    await sleep(20);
  }
}

/** Mean latency of `n` sequential keep-alive GETs (one connection): the per-request cost. */
async function latency(url: string, n: number, headers: Record<string, string> = {}): Promise<number> {
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

/** autocannon in a child process: requests per second. */
function rps(url: string, headers: Record<string, string>): Promise<number> {
  const args = ['node_modules/autocannon/autocannon.js', '-j', '-d', String(DURATION), '-c', String(CONNECTIONS), ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        const r = JSON.parse(out) as { requests: { average: number }; non2xx: number };
        if (r.non2xx) reject(new Error(`${r.non2xx} non-2xx answers from ${url}`));
        else resolve(r.requests.average);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
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
    let t0 = performance.now();
    const started = await api('POST', `/api/projects/${projectId}/preview`, user.token);
    if (started.status !== 'running') throw new Error(`preview: ${JSON.stringify(started)}`);
    const exchanged = await fetch(started.url, { redirect: 'manual' });
    cookie = exchanged.headers.get('set-cookie')!.split(';')[0]!;
    previewUrl = new URL('/', started.url).toString();
    proxied.push(await firstOk(previewUrl, t0, { cookie }));
    if (i < RUNS - 1) await api('DELETE', `/api/projects/${projectId}/preview`, user.token);

    t0 = performance.now();
    const { stdout } = await run('docker', ['run', '-d', '--rm', '--label', 'samokoder.bench=1', '-v', `${wsDir}:/workspace`, '-w', '/workspace', '-u', '10001:10001', '-e', 'PORT=3000', '-e', 'HOST=0.0.0.0', IMAGE, 'node', 'server.js']);
    const id = stdout.trim();
    direct.push(id);
    const ip = (await run('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id])).stdout.trim();
    plain.push(await firstOk(`http://${ip}:3000/`, t0));
    if (i < RUNS - 1) await run('docker', ['rm', '-f', direct.pop()!]);
  }
  // The same container both ways: the preview's own (its address from the previews row).
  const upstream = (await server.ctx.db.query<{ upstream: string }>('SELECT upstream FROM previews WHERE project_id = $1', [projectId])).rows[0]!.upstream;
  const latDirect = await latency(`http://${upstream}/`, 300);
  const latProxy = await latency(previewUrl, 300, { cookie });
  const rpsProxy = await rps(previewUrl, { cookie });
  const rpsDirect = await rps(`http://${upstream}/`, {});
  const rpsProxy2 = await rps(previewUrl, { cookie });
  const proxyRps = (rpsProxy + rpsProxy2) / 2;

  const out = {
    runs: RUNS,
    coldProxiedMs: Math.round(median(proxied)),
    coldDockerRunMs: Math.round(median(plain)),
    coldRatio: +(median(proxied) / median(plain)).toFixed(2),
    rpsProxy: Math.round(proxyRps),
    rpsDirect: Math.round(rpsDirect),
    rpsRatio: +(proxyRps / rpsDirect).toFixed(2),
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
