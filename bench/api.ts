/**
 * API benchmark: `GET /api/projects` (authenticated, 20 projects, PostgreSQL) under
 * autocannon vs a bare Express 5 hello-world, same machine, same run. Each server runs in its
 * own child process, so the load generator does not share its event loop. Both servers stay up
 * and are loaded in alternation, ROUNDS times (the order flips each round), so a slow minute of
 * the machine hits both; the ratio is the median of the rounds. Each server's CPU time per
 * request (from /proc) is printed too: a steadier figure than requests/s on a shared machine, and
 * the ratio's ceiling when each server is bound by its own core.
 * Target: ≥ 0.5× the bare Express requests/s.
 *
 *   npm run bench:api            # DURATION=10 CONNECTIONS=50 ROUNDS=3 by default
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';
import { startServer } from '../server/server.js';
import { benchPostgres } from './postgres.js';

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

interface Ready {
  url: string;
  token?: string;
}

/** Child role: the bare Express hello-world. */
async function serveBare(): Promise<Ready> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/api/projects', (_req, res) => {
    res.json({ hello: 'world' });
  });
  return new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => {
      const a = s.address();
      resolve({ url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/api/projects` });
    });
  });
}

/** Child role: the real service (default logging, info level, to /dev/null) with one user's 20 projects. */
async function serveApp(databaseUrl: string): Promise<Ready> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'samokoder-bench-api-'));
  const server = await startServer({
    env: {},
    overrides: { DATABASE_URL: databaseUrl, PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_RUN_WORKER: false, SAMOKODER_DEFAULT_PLAN: 'unlimited', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
  });
  const post = async (p: string, body: unknown, token?: string) => {
    const res = await fetch(server.url + p, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  };
  const { token } = (await post('/api/auth/register', { email: `bench-${Date.now()}@example.com`, password: 'correct horse battery' })) as { token: string };
  for (let i = 0; i < 20; i++) await post('/api/projects', { name: `Project ${i}`, prompt: 'a todo app with tags and due dates' }, token);
  return { url: `${server.url}/api/projects`, token };
}

async function child(role: string): Promise<void> {
  const ready = role === 'bare' ? await serveBare() : await serveApp(process.argv[3]!);
  // A clean exit on kill(), so `node --cpu-prof` can write its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stderr.write(`READY ${JSON.stringify(ready)}\n`);
}

interface Server {
  ready: Ready;
  pid: number;
  kill(): void;
}

function spawnServer(role: string, args: string[] = []): Promise<Server> {
  // The children get this process's Node flags, so `node --cpu-prof dist/bench/api.js` profiles the servers too.
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), role, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /READY (.*)\n/.exec(buf);
      if (m) resolve({ ready: JSON.parse(m[1]!) as Ready, pid: proc.pid!, kill: () => proc.kill() });
    });
    proc.once('exit', (code) => reject(new Error(`${role} server exited (${code}): ${buf}`)));
  });
}

/** User + system CPU time of a process in ms (Linux: /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const loadOptions = (ready: Ready) => ({ url: ready.url, connections: CONNECTIONS, headers: ready.token ? { authorization: `Bearer ${ready.token}` } : {} });

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
}

async function measure(name: string, server: Server): Promise<Measure> {
  const before = cpuMs(server.pid);
  const r = await autocannon({ ...loadOptions(server.ready), duration: DURATION });
  const cpu = cpuMs(server.pid) - before;
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUsPerRequest: (cpu * 1000) / r.requests.total };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const pg = await benchPostgres();
  const servers: Server[] = [];
  const rounds: Array<Record<'bare' | 'app', Measure>> = [];
  try {
    const bare = await spawnServer('bare');
    servers.push(bare);
    const app = await spawnServer('app', [pg.url]);
    servers.push(app);
    // A short warm-up of each (JIT, connection pools), then the measured rounds.
    for (const s of servers) await autocannon({ ...loadOptions(s.ready), duration: 2 });
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? (['bare', 'app'] as const) : (['app', 'bare'] as const);
      const round: Partial<Record<'bare' | 'app', Measure>> = {};
      for (const which of order) round[which] = await measure(which, which === 'bare' ? bare : app);
      rounds.push(round as Record<'bare' | 'app', Measure>);
    }
  } finally {
    for (const s of servers) s.kill();
    await pg.stop();
  }
  console.log(`\nAPI: GET /api/projects (auth + PostgreSQL, 20 projects) vs a bare Express 5 hello-world`);
  console.log(`${CONNECTIONS} connections, ${DURATION} s per server per round, ${ROUNDS} rounds in alternation\n`);
  console.log('| Round | bare req/s | service req/s | ratio | bare p50/p99 ms | service p50/p99 ms | bare CPU µs/req | service CPU µs/req |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  rounds.forEach(({ bare, app }, i) => {
    const cells = [i + 1, Math.round(bare.rps), Math.round(app.rps), `${(app.rps / bare.rps).toFixed(2)}×`, `${bare.p50}/${bare.p99}`, `${app.p50}/${app.p99}`, Math.round(bare.cpuUsPerRequest), Math.round(app.cpuUsPerRequest)];
    console.log(`| ${cells.join(' | ')} |`);
  });
  const ratio = median(rounds.map((r) => r.app.rps / r.bare.rps));
  const cpuRatio = median(rounds.map((r) => r.bare.cpuUsPerRequest / r.app.cpuUsPerRequest));
  console.log(`\nMedian ratio ${ratio.toFixed(2)}× (target ≥ 0.5×); CPU per request, bare ÷ service, median ${cpuRatio.toFixed(2)}.`);
}

const role = process.argv[2];
if (role === 'bare' || role === 'app') await child(role);
else await main();
