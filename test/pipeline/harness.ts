import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { storeUserKey } from '../../keys/user-keys.js';
import { createVault } from '../../keys/vault.js';
import { parseMasterKey } from '../../core/master-key.js';
import type { Queryable } from '../../db/port.js';
import { EventsRepo, type ProjectEvent } from '../../events/event-log.js';
import { parseEventData } from '../../protocol/event-catalogue.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { RunsRepo, type Run } from '../../runs/runs-repo.js';
import { enqueueRun } from '../../runs/enqueue-run.js';
import { isTerminal, type RunKind } from '../../runs/run-status.js';
import { UsersRepo } from '../../db/repos/users.js';
import { LABEL_PROJECT } from '../../sandbox/labels.js';
import { startFakeLlm, type FakeLlm, type FakeTurn, type RecordedRequest } from '../../scripts/fake-llm/server.js';
import { LocalWorkspaceStore, type Workspace } from '../../workspaces/index.js';
import { fakeSecret } from '../keys/fixtures.js';
import type { DatabaseKind } from '../helpers/databases.js';
import type { ServiceProcess } from '../helpers/processes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

export type TestProvider = 'openai-compatible' | 'anthropic';

export interface Harness {
  server: TestServer;
  fake: FakeLlm;
  close(): Promise<void>;
}

/** A real server (with its run worker, real Docker sandbox and git) and the fake LLM it calls. */
export async function startHarness(kind: DatabaseKind, env: Record<string, string | number> = {}): Promise<Harness> {
  const fake = await startFakeLlm();
  const server = await startTestServer(kind, {
    SAMOKODER_ANTHROPIC_BASE_URL: fake.baseUrls.anthropic,
    SAMOKODER_LLM_MAX_RETRIES: 0,
    SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
    SAMOKODER_WEBHOOK_RETRY_BASE_MS: 200,
    // Most scripted apps are not web servers; the browser-check tests turn it on.
    SAMOKODER_BROWSER_CHECK: 'off',
    ...env,
  });
  return {
    server,
    fake,
    close: async () => {
      await server.close();
      await fake.close();
    },
  };
}

export interface ProjectFixture {
  userId: string;
  projectId: string;
  keyId: string;
  apiKey: string;
  provider: TestProvider;
  workspace(): Promise<Workspace>;
}

/** A user on the unlimited plan, a project and a BYOK key of `provider` pointing at the fake server. */
export async function newProjectFixture(h: Harness, provider: TestProvider, planId = 'unlimited'): Promise<ProjectFixture> {
  const { db } = h.server.ctx;
  const user = await new UsersRepo(db).create({ email: `${randomUUID()}@example.com`, passwordHash: null, planId });
  const project = await new ProjectsRepo(db).create({ userId: user.id, name: 'Sum app', prompt: 'a sum function with tests' });
  const apiKey = fakeSecret();
  const key = await storeUserKey(db, h.server.ctx.llm.vault, {
    userId: user.id,
    provider,
    apiKey,
    ...(provider === 'openai-compatible' ? { baseUrl: h.fake.baseUrls['openai-compatible'] } : {}),
  });
  const store = new LocalWorkspaceStore({ root: h.server.config.workspaces.dir, maxFileBytes: h.server.config.workspaces.maxFileBytes });
  return { userId: user.id, projectId: project.id, keyId: key.id, apiKey, provider, workspace: () => store.create(project.id) };
}

/** Queues turns answered only for this fixture's key (other tests' requests cannot take them). */
export function script(h: Harness, fx: ProjectFixture, turns: FakeTurn[]): void {
  h.fake.setScript({ turns: turns.map((t) => ({ ...t, match: { apiKey: fx.apiKey } })) });
}

export async function startRun(h: Harness, fx: ProjectFixture, prompt = 'Build a sum function with a test', kind: RunKind = 'generate'): Promise<Run> {
  const { run } = await enqueueRun(h.server.ctx.db, { projectId: fx.projectId, userId: fx.userId, kind, prompt, provider: fx.provider, model: 'fake-model', keyId: fx.keyId, keySource: 'byok' });
  return run;
}

export async function waitForRun(db: Queryable, runId: string, timeoutMs = 60_000): Promise<Run> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = await new RunsRepo(db).getById(runId);
    if (run && isTerminal(run.status)) return run;
    if (Date.now() > end) throw new Error(`run ${runId} did not finish in ${timeoutMs} ms (status ${run?.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const projectEvents = (db: Queryable, fx: ProjectFixture): Promise<ProjectEvent[]> => new EventsRepo(db).listSince(fx.projectId, fx.userId, 0, 10_000);

/**
 * Every stored event of the database parsed with its schema in protocol/event-catalogue.ts: the
 * ones that do not parse (an unknown type, a missing, extra or mistyped field), described.
 */
export async function catalogueViolations(db: Queryable): Promise<{ events: number; violations: string[] }> {
  const res = await db.query<{ seq: string | number; type: string; data: unknown }>('SELECT seq, type, data FROM events ORDER BY project_id, seq');
  const violations = res.rows.flatMap((e) => {
    const r = parseEventData(e.type, e.data);
    return r.ok ? [] : [`seq ${e.seq}: ${r.error} in ${JSON.stringify(e.data).slice(0, 300)}`];
  });
  return { events: res.rows.length, violations };
}

/** Requests the fake server answered for this fixture's key. */
export const requestsOf = (h: Harness, fx: ProjectFixture): RecordedRequest[] => h.fake.requests.filter((r) => r.apiKey === fx.apiKey);

/** Names of the tools a request offered (both wire formats). */
export function toolNames(r: RecordedRequest): string[] {
  const tools = ((r.body as { tools?: { name?: string; function?: { name: string } }[] }).tools ?? []);
  return tools.map((t) => t.function?.name ?? t.name ?? '');
}

export const bodyText = (r: RecordedRequest): string => JSON.stringify(r.body);

// ── Scripted turns ──
const usage = { input: 100, output: 20 };
export const planTurn = (tasks: { id: string; title: string; description: string }[], summary = 'A sum function with a node:test test.'): FakeTurn => ({
  toolCalls: [{ name: 'submit_plan', arguments: { summary, tasks } }],
  usage,
});
const SUM_FILES = [{ path: 'sum.js', purpose: 'the function' }, { path: 'sum.test.js', purpose: 'its test' }, { path: 'package.json', purpose: 'scripts' }];
export const archTurn = (test = 'node --test', install = 'npm install --no-audit --no-fund', files = SUM_FILES): FakeTurn => ({
  toolCalls: [{ name: 'submit_architecture', arguments: { stack: 'Node 20, ES modules, node:test', files, commands: { install, test, start: 'node sum.js' } } }],
  usage,
});
/** One real node:test test, inline: for runs whose subject is not the app, so verify passes without files. */
export const INLINE_TEST = `node --input-type=module -e "import test from 'node:test'; test('ok', () => {})"`;
/** An architecture that declares no files and passes verify with INLINE_TEST. */
export const bareArchTurn = (): FakeTurn => archTurn(INLINE_TEST, '', []);
export const writeTurn = (path: string, content: string): FakeTurn => ({ toolCalls: [{ name: 'write_file', arguments: { path, content } }], usage });
export const toolTurn = (name: string, args: Record<string, unknown> | string): FakeTurn => ({ toolCalls: [{ name, arguments: args }], usage });
export const finishTurn = (summary = 'done'): FakeTurn => ({ toolCalls: [{ name: 'finish', arguments: { summary } }], usage });

export const PACKAGE_JSON = JSON.stringify({ name: 'sum-app', version: '1.0.0', type: 'module', private: true, scripts: { test: 'node --test' } }, null, 2);
export const SUM_OK = 'export const sum = (a, b) => a + b;\n';
export const SUM_BUG = 'export const sum = (a, b) => a - b;\n';
export const SUM_TEST = "import test from 'node:test';\nimport assert from 'node:assert/strict';\nimport { sum } from './sum.js';\n\ntest('adds', () => assert.equal(sum(2, 3), 5));\n";

export const TASKS = [
  { id: 't1', title: 'The sum function', description: 'Create package.json and sum.js exporting sum(a, b).' },
  { id: 't2', title: 'Its test', description: 'Create sum.test.js with a node:test test of sum.' },
];

/** A whole successful generate run: plan, architecture, two coder tasks. */
export function happyTurns(sum = SUM_OK): FakeTurn[] {
  return [planTurn(TASKS), archTurn(), writeTurn('package.json', PACKAGE_JSON), writeTurn('sum.js', sum), finishTurn('sum written'), writeTurn('sum.test.js', SUM_TEST), finishTurn('test written')];
}

// ── Process tests: service processes on a shared PostgreSQL, killed mid-run ──

/** The environment every service process of a process test shares (add its data or workspaces dir). */
export function processEnv(databaseUrl: string, masterKey: string, fake: FakeLlm): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    SAMOKODER_MASTER_KEY: masterKey,
    SAMOKODER_RUN_LEASE_MS: '3000',
    SAMOKODER_LLM_MAX_RETRIES: '0',
    SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
    SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
    SAMOKODER_BROWSER_CHECK: 'off',
    // The nodes of one test share a namespace of their own: the start-up sweep of a server in a
    // parallel test file must not remove the containers a killed node of this test left behind.
    SAMOKODER_SANDBOX_NAMESPACE: `test-${randomUUID().slice(0, 8)}`,
  };
}

/**
 * A user, a project, a BYOK OpenAI key sealed under `masterKey`, and a queued generate run whose
 * single coder task first runs `command` (the moment a test kills a node) and then writes the sum app.
 */
export async function queueCommandRun(
  db: Queryable,
  fake: FakeLlm,
  masterKey: string,
  o: { email: string; name: string; command: string },
): Promise<{ userId: string; projectId: string; run: Run }> {
  const user = await new UsersRepo(db).create({ email: o.email, passwordHash: null, planId: 'unlimited' });
  const project = await new ProjectsRepo(db).create({ userId: user.id, name: o.name, prompt: 'sum' });
  const key = await storeUserKey(db, createVault(parseMasterKey(masterKey, 'SAMOKODER_MASTER_KEY'), []), { userId: user.id, provider: 'openai', apiKey: fakeSecret() });
  fake.setScript({
    turns: [
      planTurn([{ id: 't1', title: 'Sum and its test', description: 'Write package.json, sum.js and sum.test.js' }]),
      archTurn('node --test', ''),
      toolTurn('run_command', { command: o.command }),
      writeTurn('package.json', PACKAGE_JSON),
      writeTurn('sum.js', SUM_OK),
      writeTurn('sum.test.js', SUM_TEST),
      finishTurn(),
    ],
  });
  const { run } = await enqueueRun(db, { projectId: project.id, userId: user.id, kind: 'generate', prompt: 'sum', provider: 'openai', model: 'gpt-4o-mini', keyId: key.id, keySource: 'byok' });
  return { userId: user.id, projectId: project.id, run };
}

/** Waits until the project's event log holds an event of `type`. */
export async function waitForEvent(db: Queryable, projectId: string, userId: string, type: string, timeoutMs = 30_000): Promise<void> {
  const events = new EventsRepo(db);
  const end = Date.now() + timeoutMs;
  while (!(await events.listSince(projectId, userId, 0)).some((e) => e.type === type)) {
    if (Date.now() > end) throw new Error(`no ${type} event in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The sandbox containers (running or not) of a project on the local engine. */
export async function projectContainers(projectId: string): Promise<Docker.ContainerInfo[]> {
  return new Docker({ version: 'v1.41' }).listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${projectId}`] } });
}

/** afterAll of a process test: SIGKILL what still runs, then remove the project's containers (a killed process cannot). */
export async function killProcessesAndContainers(procs: ServiceProcess[], projectId: string): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  if (!projectId) return;
  const docker = new Docker({ version: 'v1.41' });
  for (const c of await projectContainers(projectId)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
}
