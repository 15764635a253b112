import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { storeUserKey } from '../keys/user-keys.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { parseMasterKey } from '../core/master-key.js';
import { openDatabase } from '../db/open.js';
import { EVENTS_CHANNEL, parseEventNotice } from '../events/event-log.js';
import { ProjectsRepo } from '../db/repos/projects.js';
import { RunsRepo } from '../runs/runs-repo.js';
import { enqueueRun } from '../runs/enqueue-run.js';
import { isTerminal, type RunKind, type RunStatus } from '../runs/run-status.js';
import { createServices } from '../services/create-services.js';
import { StepsRepo } from '../db/repos/steps.js';
import { UsersRepo } from '../db/repos/users.js';
import { createDockerSandbox } from '../sandbox/docker-sandbox.js';
import type { SandboxPort } from '../sandbox/port.js';
import { sandboxSettingsFromConfig } from '../sandbox/settings.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeLlm, type FakeTurn } from '../scripts/fake-llm/server.js';
import { LocalWorkspaceStore, type Workspace, type WorkspaceStore } from '../workspaces/index.js';

/**
 * The pipeline's own cost, with a zero-latency fake LLM and the real sandbox, git and database:
 * 1. a 20-file generate run: wall time minus the time spent inside the sandbox (container
 *    acquire + exec) = orchestration overhead (events, steps, commits, model HTTP round trips);
 * 2. the prompt tokens a follow-up run sends on a 10-file vs a 100-file project (the fake server
 *    counts one token per 4 characters of each request body).
 * `npm run bench:pipeline` (PGlite; set DATABASE_URL for PostgreSQL).
 */
/**
 * The fake LLM runs in a child process, as a real provider runs elsewhere: its own CPU (parsing
 * requests, serialising SSE) is not the pipeline's overhead. Between runs, it takes its script and
 * reports the prompt tokens of the requests it saw over IPC; nothing crosses IPC during a run.
 */
interface FakeMessage {
  cmd: 'ready' | 'script' | 'scripted' | 'tokens' | 'counted' | 'exit';
  baseUrl?: string;
  turns?: FakeTurn[];
  since?: number;
  tokens?: number;
  total?: number;
}
if (process.argv[2] === 'fake-llm') {
  const fake = await startFakeLlm();
  process.on('message', (m: FakeMessage) => {
    if (m.cmd === 'script') {
      fake.setScript({ turns: m.turns! });
      process.send!({ cmd: 'scripted', total: fake.requests.length } satisfies FakeMessage);
    } else if (m.cmd === 'tokens') {
      // The fake server's own count: ceil(body length / 4) per request.
      const tokens = fake.requests.slice(m.since).reduce((s, r) => s + Math.ceil(JSON.stringify(r.body).length / 4), 0);
      process.send!({ cmd: 'counted', tokens } satisfies FakeMessage);
    } else if (m.cmd === 'exit') void fake.close().then(() => process.exit(0));
  });
  process.send!({ cmd: 'ready', baseUrl: fake.baseUrls['openai-compatible'] } satisfies FakeMessage);
  await new Promise(() => undefined); // serves until the parent says exit
}
const fakeProcess = fork(fileURLToPath(import.meta.url), ['fake-llm']);
const askFake = (msg: FakeMessage, reply: FakeMessage['cmd']): Promise<FakeMessage> =>
  new Promise((resolve) => {
    const on = (m: FakeMessage) => {
      if (m.cmd !== reply) return;
      fakeProcess.off('message', on);
      resolve(m);
    };
    fakeProcess.on('message', on);
    if (msg.cmd !== 'ready') fakeProcess.send(msg);
  });
const fakeBaseUrl = (await askFake({ cmd: 'ready' }, 'ready')).baseUrl!;

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sk-bench-pipeline-'));
const config = loadConfig({ ...process.env, SAMOKODER_DATA_DIR: dataDir, SAMOKODER_LLM_MAX_RETRIES: '0', SAMOKODER_RUN_WORKER: 'true' });
const logger = createLogger({ level: 'warn' });
const db = await openDatabase({ url: config.database.url, poolSize: 10, dataDir, logger });
// Statements the pipeline sends (BEGIN and COMMIT count as two per transaction; the observer's own
// reads below go through `observe` and are not counted): the same measure on PGlite and PostgreSQL.
let statements = 0;
const observe = db.query.bind(db);
const rawTransaction = db.transaction.bind(db);
db.query = (sql, params) => {
  statements++;
  return observe(sql, params);
};
db.transaction = (fn) => {
  statements += 2;
  return rawTransaction((tx) => fn({ ...tx, query: (sql, params) => (statements++, tx.query(sql, params)) }));
};
const masterKey = parseMasterKey(Buffer.alloc(32, 7).toString('base64'), 'bench');

// The real Docker sandbox, with the time spent inside it measured.
const docker = createDockerSandbox({ settings: sandboxSettingsFromConfig(config), logger });
let sandboxMs = 0;
const timed = async <T>(work: Promise<T>): Promise<T> => {
  const t = performance.now();
  try {
    return await work;
  } finally {
    sandboxMs += performance.now() - t;
  }
};
const sandbox: SandboxPort = {
  prewarm: (...a) => docker.prewarm(...a),
  close: () => docker.close(),
  acquire: async (...a) => {
    const h = await timed(docker.acquire(...a));
    return { ...h, projectId: h.projectId, containerId: h.containerId, exec: (c, o) => timed(h.exec(c, o)), release: () => h.release(), destroy: () => h.destroy() };
  },
};
// PGlite's cost is per protocol round trip into its WebAssembly backend (six per parameterised
// query): counted here, a steadier measure than wall time on a loaded machine.
let pgliteRoundTrips = 0;
const rawSync = PGlite.prototype.execProtocolRawSync;
PGlite.prototype.execProtocolRawSync = function (this: PGlite, message: Uint8Array): Uint8Array {
  pgliteRoundTrips++;
  return rawSync.call(this, message);
};
// The real workspace store, with the time spent in git commits measured (one per step).
const store = new LocalWorkspaceStore({ root: config.workspaces.dir, maxFileBytes: config.workspaces.maxFileBytes });
let gitMs = 0;
const withTimedCommits = (ws: Workspace): Workspace => ({
  ...ws,
  history: {
    ...ws.history,
    history: (o) => ws.history.history(o),
    diff: (a, b, o) => ws.history.diff(a, b, o),
    revert: (sha, m, t) => ws.history.revert(sha, m, t),
    resetToHead: () => ws.history.resetToHead(),
    headSha: () => ws.history.headSha(),
    maintain: () => ws.history.maintain(),
    commitAll: async (m, t) => {
      const start = performance.now();
      try {
        return await ws.history.commitAll(m, t);
      } finally {
        gitMs += performance.now() - start;
      }
    },
  },
});
const workspaces: WorkspaceStore = {
  create: async (id) => withTimedCommits(await store.create(id)),
  open: async (id) => withTimedCommits(await store.open(id)),
  exists: (id) => store.exists(id),
  remove: (id) => store.remove(id),
};
// The service as a worker node runs it (migrations included), on the observed database and the
// timed sandbox and workspaces.
const services = await createServices(config, { db, logger, masterKey, sandbox, workspaces });
const llm = services.llm;

const user = await new UsersRepo(db).create({ email: 'bench@example.com', passwordHash: null, planId: 'unlimited' });
const apiKey = 'sk-bench-pipeline';
const key = await storeUserKey(db, llm.vault, { userId: user.id, provider: 'openai-compatible', apiKey, baseUrl: fakeBaseUrl });

const call = (name: string, args: Record<string, unknown>): FakeTurn => ({ toolCalls: [{ name, arguments: args }] });
const moduleText = (i: number): string => `${'// A small piece of the app, with a comment that makes the file a realistic size.\n'.repeat(8)}export function f${i}(x) {\n  return x * ${i} + 1;\n}\n`;

let observerReads = 0;
async function runOnce(projectId: string, kind: RunKind, prompt: string, turns: FakeTurn[]): Promise<{ ms: number; cpuMs: number; promptTokens: number }> {
  const before = (await askFake({ cmd: 'script', turns }, 'scripted')).total!;
  const t = performance.now();
  const cpu = process.cpuUsage();
  // The end is seen the way a client sees it: the durable-event NOTIFY of the project (run.finished
  // commits with the run's final status), then a read of the status. Polling the whole run row
  // every 2 ms instead put ~400 queries of the observer on PGlite's one connection and event loop.
  // The notices that arrive in one turn of the event loop (a burst: on PostgreSQL several in one
  // socket read) wake one read, in the loop's next turn; a notice during a read wakes one more, so
  // the end is still seen one read after run.finished's notice.
  let wake: () => void = () => undefined;
  let waking = false;
  const unlisten = await db.listen(EVENTS_CHANNEL, (payload) => {
    const n = parseEventNotice(payload);
    if (n?.kind !== 'durable' || n.projectId !== projectId || waking) return;
    waking = true;
    setImmediate(() => {
      waking = false;
      wake();
    });
  });
  const { run } = await enqueueRun(db, { projectId, userId: user.id, kind, prompt, provider: 'openai-compatible', model: 'fake-model', keyId: key.id, keySource: 'byok' });
  try {
    for (;;) {
      const woken = new Promise<void>((res) => (wake = res));
      observerReads++;
      const status = (await observe<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1', [run.id])).rows[0]?.status;
      if (status && isTerminal(status)) {
        const r = (await new RunsRepo({ query: observe, exec: (sql) => db.exec(sql) }).getById(run.id))!;
        if (r.status !== 'succeeded') throw new Error(`bench run ${r.status}: ${r.reason}: ${JSON.stringify((await new StepsRepo(db).list(run.id)).map((s) => s.error).filter(Boolean))}`);
        break;
      }
      await woken;
    }
  } finally {
    await unlisten();
  }
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const promptTokens = (await askFake({ cmd: 'tokens', since: before }, 'counted')).tokens!;
  return { ms, cpuMs, promptTokens };
}

// 1. A 20-file run: 4 tasks of 5 files each (package.json, 18 modules, one test).
const files: [string, string][] = [['package.json', JSON.stringify({ name: 'bench', type: 'module', scripts: { test: 'node --test' } })]];
for (let i = 1; i <= 18; i++) files.push([`src/m${String(i).padStart(2, '0')}.js`, moduleText(i)]);
files.push(['test/app.test.js', "import test from 'node:test';\nimport assert from 'node:assert/strict';\nimport { f1 } from '../src/m01.js';\ntest('f1', () => assert.equal(f1(2), 3));\n"]);
const tasks = [0, 1, 2, 3].map((t) => ({ id: `t${t + 1}`, title: `Part ${t + 1}`, description: `Write ${files.slice(t * 5, t * 5 + 5).map(([p]) => p).join(', ')}` }));
const generateTurns: FakeTurn[] = [
  call('submit_plan', { summary: 'A 20-file app', tasks }),
  call('submit_architecture', { stack: 'Node 20', files: files.map(([p]) => ({ path: p, purpose: 'part' })), commands: { install: '', test: 'node --test', start: 'node src/m01.js' } }),
  ...[0, 1, 2, 3].flatMap((t) => [...files.slice(t * 5, t * 5 + 5).map(([p, c]) => call('write_file', { path: p, content: c })), call('finish', { summary: `part ${t + 1}` })]),
];
const projectA = await new ProjectsRepo(db).create({ userId: user.id, name: 'bench-20', prompt: 'bench' });
// Warm-up (JIT, connection pool, container image cache) on another project, then the measured run.
const warm = await new ProjectsRepo(db).create({ userId: user.id, name: 'warm', prompt: 'bench' });
await runOnce(warm.id, 'generate', 'warm up', generateTurns.map((t) => structuredClone(t)));
sandboxMs = 0;
gitMs = 0;
pgliteRoundTrips = 0;
statements = 0;
observerReads = 0;
const gen = await runOnce(projectA.id, 'generate', 'Build the 20-file app', generateTurns);
const genRoundTrips = pgliteRoundTrips;
const genStatements = statements;
const genObserverReads = observerReads;
const genSandboxMs = sandboxMs;
const genGitMs = gitMs;
const overhead = gen.ms - genSandboxMs;

// 2. Follow-up prompt tokens on a 10-file vs a 100-file project.
async function followUp(n: number): Promise<number> {
  const p = await new ProjectsRepo(db).create({ userId: user.id, name: `bench-${n}`, prompt: 'bench' });
  const ws = await workspaces.create(p.id);
  await ws.files.writeFile('package.json', JSON.stringify({ name: `p${n}`, type: 'module', scripts: { test: 'node --test' } }));
  for (let i = 1; i < n; i++) await ws.files.writeFile(`src/module-${String(i).padStart(3, '0')}.js`, moduleText(i));
  await ws.history.commitAll('seed');
  const { promptTokens } = await runOnce(p.id, 'change', 'Make f3 return x * 3 + 2', [
    call('submit_plan', { summary: 'Change f3', tasks: [{ id: 'c1', title: 'Edit f3', description: 'Edit src/module-003.js: f3 returns x * 3 + 2' }] }),
    call('submit_architecture', { stack: 'Node 20', files: [{ path: 'src/module-003.js', purpose: 'f3' }], commands: { install: '', test: `node --input-type=module -e "import test from 'node:test'; test('ok', () => {})"`, start: '' } }),
    call('write_file', { path: 'src/module-003.js', content: 'export function f3(x) {\n  return x * 3 + 2;\n}\n' }),
    call('finish', { summary: 'f3 changed' }),
  ]);
  return promptTokens;
}
const t10 = await followUp(10);
const t100 = await followUp(100);

await services.stop();
await docker.close();
fakeProcess.send({ cmd: 'exit' } satisfies FakeMessage);
await db.close();
await rm(dataDir, { recursive: true, force: true });

const row = (a: string, b: string, c: string): string => `| ${a.padEnd(44)} | ${b.padStart(12)} | ${c.padEnd(10)} |`;
console.log(`\npipeline benchmark (${db.kind}, real Docker sandbox and git, zero-latency fake LLM)\n`);
console.log(row('measure', 'value', 'target'));
console.log(row('-'.repeat(44), '-'.repeat(12), '-'.repeat(10)));
console.log(row('20-file run: wall time', `${gen.ms.toFixed(0)} ms`, ''));
console.log(row('20-file run: inside the sandbox', `${genSandboxMs.toFixed(0)} ms`, ''));
console.log(row('20-file run: orchestration overhead', `${overhead.toFixed(0)} ms`, '≤ 300 ms'));
console.log(row('  of which git commits (7 steps)', `${genGitMs.toFixed(0)} ms`, ''));
console.log(row('  overhead without git', `${(overhead - genGitMs).toFixed(0)} ms`, ''));
console.log(row('  CPU time of this process during the run', `${gen.cpuMs.toFixed(0)} ms`, ''));
console.log(row('  database statements of the pipeline', String(genStatements), ''));
console.log(row("  the bench observer's status reads", String(genObserverReads), ''));
if (db.kind === 'pglite') console.log(row('  PGlite protocol round trips during the run', String(genRoundTrips), ''));
console.log(row('model calls in the run', String(generateTurns.length), ''));
console.log(row('follow-up run prompt tokens, 10 files', String(t10), ''));
console.log(row('follow-up run prompt tokens, 100 files', String(t100), ''));
console.log(row('growth for 10× the files', `${(t100 / t10).toFixed(2)}×`, '≤ 2×'));
