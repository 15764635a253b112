/**
 * WebSocket benchmark, on PostgreSQL LISTEN/NOTIFY as in production, with three
 * processes like a deployment: this one runs the API node (the WebSocket server); a publisher
 * process plays the worker node running the runs; a clients process holds the sockets.
 *  1. 100 concurrent streams of 200 `llm.delta`s each (one project and one socket per stream, a
 *     delta due every INTERVAL_MS per stream, as a streaming model produces them): latency from the
 *     publisher calling publishEphemeral — what the pipeline does for each delta — to the client
 *     having parsed the frame.
 *  2. Fan-out: 1,000 idle subscribers of one project; latency of each delta, and of each durable
 *     event (a NOTIFY wake-up, then a database read shared by the subscribers), to every one.
 * Times are read from the machine's monotonic clock (process.hrtime), which every process on it
 * shares. (performance.timeOrigin is not shared: each process fixes it at start-up, with an error
 * of a few ms that grows with the load — enough to shift every sample of a run.) Target:
 * delta→client p99 ≤ 10 ms.
 *
 *   npm run bench:ws      # STREAMS=100 DELTAS=200 INTERVAL_MS=20 IDLE=1000
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { PgDatabase } from '../db/pg-database.js';
import { EventsRepo, publishEphemeral } from '../events/event-log.js';
import { ProjectsRepo } from '../db/repos/projects.js';
import { startServer } from '../server/server.js';
import { benchPostgres } from './postgres.js';

const STREAMS = Number(process.env.STREAMS ?? 100);
const DELTAS = Number(process.env.DELTAS ?? 200);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 20);
const IDLE = Number(process.env.IDLE ?? 1000);
const FANOUT_DELTAS = 50;
const FANOUT_DURABLE = 20;
/** Between fan-out events: each must reach all IDLE sockets (IDLE frames to write and to parse) before the next. */
const FANOUT_INTERVAL_MS = 100;

/** Milliseconds on CLOCK_MONOTONIC: comparable across the three processes. */
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Msg = Record<string, unknown> & { cmd: string };

// ---------------------------------------------------------------- child: the sockets
async function clientsRole(): Promise<void> {
  const sockets: WebSocket[] = [];
  let samples: number[] = [];
  const open = async (wsUrl: string, token: string, projectId: string) => {
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await new Promise<void>((resolve) => {
      ws.on('message', (raw) => {
        const f = JSON.parse(raw.toString()) as { type: string; data?: { t?: number } };
        if (f.type === 'subscribed') resolve();
        else if (typeof f.data?.t === 'number') samples.push(now() - f.data.t);
      });
      ws.send(JSON.stringify({ type: 'subscribe', projectId, since: 0 }));
    });
    sockets.push(ws);
  };
  process.on('message', (m: Msg) => {
    void (async () => {
      if (m.cmd === 'open') {
        for (const id of m.projectIds as string[]) await open(m.wsUrl as string, m.token as string, id);
        process.send!({ cmd: 'opened' });
      } else if (m.cmd === 'collect') {
        const end = Date.now() + 20_000;
        while (samples.length < (m.expected as number) && Date.now() < end) await sleep(20);
        process.send!({ cmd: 'samples', samples });
        samples = [];
      } else if (m.cmd === 'closeAll') {
        for (const ws of sockets.splice(0)) ws.terminate();
        process.send!({ cmd: 'closed' });
      } else if (m.cmd === 'exit') process.exit(0);
    })();
  });
}

// ---------------------------------------------------------------- child: the worker node
async function publisherRole(): Promise<void> {
  let db: PgDatabase | undefined;
  process.on('message', (m: Msg) => {
    void (async () => {
      db ??= new PgDatabase({ connectionString: m.url as string, poolSize: 10 });
      if (m.cmd === 'streams') {
        const ids = m.projectIds as string[];
        await Promise.all(
          ids.map(async (projectId, s) => {
            // Open loop, as the pipeline publishes (fire-and-forget, at the model's pace): delta i
            // is due at start + i × interval whatever became of the earlier ones, so a slow
            // publish neither delays the next nor bunches the streams up. Streams are spread
            // over one interval.
            const interval = m.intervalMs as number;
            const start = now() + (s * interval) / ids.length;
            let sent = Promise.resolve();
            for (let i = 0; i < (m.deltas as number); i++) {
              await sleep(start + i * interval - now());
              const published = publishEphemeral(db!, { projectId, type: 'llm.delta', data: { text: 'token ', t: now() } });
              sent = Promise.all([sent, published]).then(() => undefined);
            }
            await sent;
          }),
        );
      } else if (m.cmd === 'durable') {
        const events = new EventsRepo(db);
        for (let i = 0; i < (m.count as number); i++) {
          await events.append({ projectId: m.projectId as string, type: 'step.finished', data: { t: now() } });
          await sleep(m.intervalMs as number);
        }
      } else if (m.cmd === 'exit') {
        await db.close();
        process.exit(0);
      }
      process.send!({ cmd: 'done' });
    })();
  });
}

// ---------------------------------------------------------------- main: the API node
function ask(child: ChildProcess, msg: Msg, reply: string): Promise<Msg> {
  return new Promise((resolve) => {
    const on = (m: Msg) => {
      if (m.cmd !== reply) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send(msg);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function row(name: string, samples: number[], expected: number): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(2);
  return `| ${name} | ${samples.length}/${expected} | ${f(percentile(s, 50))} | ${f(percentile(s, 99))} | ${f(s.at(-1) ?? NaN)} |`;
}

async function main(): Promise<void> {
  const pg = await benchPostgres();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'samokoder-bench-ws-'));
  const server = await startServer({
    env: {},
    overrides: { DATABASE_URL: pg.url, PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_RUN_WORKER: false, LOG_LEVEL: 'warn', SAMOKODER_DEFAULT_PLAN: 'unlimited' },
  });
  const self = fileURLToPath(import.meta.url);
  const clients = fork(self, ['clients']);
  const publisher = fork(self, ['publisher']);
  try {
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `bench-ws-${Date.now()}@example.com`, password: 'correct horse battery' }),
    });
    const { token, user } = (await reg.json()) as { token: string; user: { id: string } };
    const projects = new ProjectsRepo(server.ctx.db);
    const ids: string[] = [];
    for (let i = 0; i <= STREAMS; i++) ids.push((await projects.create({ userId: user.id, name: `p${i}`, prompt: 'x' })).id);
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws`;
    const streamIds = ids.slice(0, STREAMS);

    // 1. Concurrent streams (after an unmeasured warm-up: pools connect, the JIT settles).
    await ask(clients, { cmd: 'open', wsUrl, token, projectIds: streamIds }, 'opened');
    await ask(publisher, { cmd: 'streams', url: pg.url, projectIds: streamIds, deltas: 20, intervalMs: INTERVAL_MS }, 'done');
    await ask(clients, { cmd: 'collect', expected: STREAMS * 20 }, 'samples');
    const started = Date.now();
    await ask(publisher, { cmd: 'streams', url: pg.url, projectIds: streamIds, deltas: DELTAS, intervalMs: INTERVAL_MS }, 'done');
    const seconds = (Date.now() - started) / 1000;
    const streams = (await ask(clients, { cmd: 'collect', expected: STREAMS * DELTAS }, 'samples')).samples as number[];
    await ask(clients, { cmd: 'closeAll' }, 'closed');

    // 2. Fan-out to idle subscribers of one project.
    const fan = ids[STREAMS]!;
    await ask(clients, { cmd: 'open', wsUrl, token, projectIds: Array.from({ length: IDLE }, () => fan) }, 'opened');
    await ask(publisher, { cmd: 'streams', url: pg.url, projectIds: [fan], deltas: FANOUT_DELTAS, intervalMs: FANOUT_INTERVAL_MS }, 'done');
    const fanDeltas = (await ask(clients, { cmd: 'collect', expected: IDLE * FANOUT_DELTAS }, 'samples')).samples as number[];
    await ask(publisher, { cmd: 'durable', url: pg.url, projectId: fan, count: FANOUT_DURABLE, intervalMs: FANOUT_INTERVAL_MS }, 'done');
    const fanDurable = (await ask(clients, { cmd: 'collect', expected: IDLE * FANOUT_DURABLE }, 'samples')).samples as number[];

    console.log(`\nWebSocket: API node, worker node (publisher) and clients in 3 processes; PostgreSQL LISTEN/NOTIFY\n`);
    console.log('| Scenario | frames received | p50 ms | p99 ms | max ms |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(row(`${STREAMS} streams × ${DELTAS} deltas, 1 per ${INTERVAL_MS} ms each (${Math.round((STREAMS * DELTAS) / seconds)} deltas/s)`, streams, STREAMS * DELTAS));
    console.log(row(`fan-out: 1 project → ${IDLE} subscribers, ${FANOUT_DELTAS} deltas 1 per ${FANOUT_INTERVAL_MS} ms`, fanDeltas, IDLE * FANOUT_DELTAS));
    console.log(row(`fan-out: 1 project → ${IDLE} subscribers, ${FANOUT_DURABLE} durable events 1 per ${FANOUT_INTERVAL_MS} ms`, fanDurable, IDLE * FANOUT_DURABLE));
  } finally {
    clients.send({ cmd: 'exit' });
    publisher.send({ cmd: 'exit', url: pg.url });
    await server.stop();
    await pg.stop();
  }
}

const role = process.argv[2];
if (role === 'clients') await clientsRole();
else if (role === 'publisher') await publisherRole();
else await main();
