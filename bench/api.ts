/**
 * API benchmark (issue 6): `GET /api/projects` (authenticated, 20 projects, PostgreSQL) under
 * autocannon vs a bare Express 5 hello-world, same machine, same run. Each server runs in its
 * own child process, so the load generator does not share its event loop.
 * Target: ≥ 0.5× the bare Express requests/s.
 *
 *   npm run bench:api            # DURATION=10 CONNECTIONS=50 by default
 */
import { spawn } from 'node:child_process';
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

function spawnServer(role: string, args: string[] = []): Promise<{ ready: Ready; kill(): void }> {
  // The children get this process's Node flags, so `node --cpu-prof dist/bench/api.js` profiles the servers too.
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), role, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /READY (.*)\n/.exec(buf);
      if (m) resolve({ ready: JSON.parse(m[1]!) as Ready, kill: () => proc.kill() });
    });
    proc.once('exit', (code) => reject(new Error(`${role} server exited (${code}): ${buf}`)));
  });
}

async function load(ready: Ready): Promise<autocannon.Result> {
  // A short warm-up (JIT, connection pools), then the measured run.
  const opts = { url: ready.url, connections: CONNECTIONS, headers: ready.token ? { authorization: `Bearer ${ready.token}` } : {} };
  await autocannon({ ...opts, duration: 2 });
  return autocannon({ ...opts, duration: DURATION });
}

async function main(): Promise<void> {
  const pg = await benchPostgres();
  const results: Array<[string, autocannon.Result]> = [];
  try {
    for (const [name, role, args] of [['bare Express 5 hello-world', 'bare', []], ['GET /api/projects (auth + PostgreSQL)', 'app', [pg.url]]] as const) {
      const s = await spawnServer(role, [...args]);
      try {
        const r = await load(s.ready);
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        results.push([name, r]);
      } finally {
        s.kill();
      }
    }
  } finally {
    await pg.stop();
  }
  const bare = results[0]![1].requests.average;
  console.log(`\nAPI: ${CONNECTIONS} connections, ${DURATION} s each, same machine, same run\n`);
  console.log('| Server | req/s | p50 ms | p99 ms | vs bare |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, r] of results) {
    console.log(`| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${(r.requests.average / bare).toFixed(2)}× |`);
  }
}

const role = process.argv[2];
if (role === 'bare' || role === 'app') await child(role);
else await main();
