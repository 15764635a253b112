import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { verifyWebhookSignature } from '../../webhooks/sign.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { StepsRepo } from '../../db/repos/steps.js';
import { RunsRepo } from '../../runs/runs-repo.js';
import { enqueueRun } from '../../runs/enqueue-run.js';
import { DATABASE_KINDS } from '../helpers/databases.js';
import {
  bareArchTurn, bodyText, catalogueViolations, finishTurn, happyTurns, INLINE_TEST, newProjectFixture, PACKAGE_JSON, planTurn, archTurn, projectEvents, requestsOf, script, startHarness, startRun,
  SUM_BUG, SUM_OK, SUM_TEST, toolNames, toolTurn, waitForRun, writeTurn, type Harness,
} from './harness.js';

describe.each(DATABASE_KINDS)('the run pipeline on %s (real sandbox, real git, fake LLM through the SDKs)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    // The webhook test delivers to a receiver on 127.0.0.1, a private address the guard refuses by default.
    h = await startHarness(kind, { SAMOKODER_WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => {
    await h?.close();
  });
  // After each test: every event stored so far (all its runs' events) matches the event catalogue.
  afterEach(async () => {
    expect((await catalogueViolations(h.server.ctx.db)).violations).toEqual([]);
  });

  test('a scripted run builds a small Node app whose test passes (openai-compatible)', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, happyTurns());
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'succeeded', reason: null });
    expect(done.plan).toMatchObject({ tasks: [{ id: 't1' }, { id: 't2' }] });
    expect(done.architecture).toMatchObject({ commands: { test: 'node --test' } });
    expect(done.inputTokens + done.outputTokens).toBe(7 * 120);

    // The planner was forced to submit_plan with a schema generated from zod.
    const [first] = requestsOf(h, fx);
    expect(toolNames(first!)).toEqual(['submit_plan']);
    expect(first!.body).toMatchObject({ tool_choice: { type: 'function', function: { name: 'submit_plan' } } });

    // One commit per step, in order, with the step in the trailers.
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.map((s) => [s.kind, s.taskId, s.status])).toEqual([
      ['planner', null, 'succeeded'], ['architect', null, 'succeeded'], ['coder', 't1', 'succeeded'], ['coder', 't2', 'succeeded'], ['verify', null, 'succeeded'],
    ]);
    expect(steps.at(-1)!.output).toMatchObject({ passed: true, phase: 'test', exitCode: 0 });
    const ws = await fx.workspace();
    const history = await ws.history.history();
    const runCommits = history.filter((c) => c.trailers['Samokoder-Run'] === run.id).reverse();
    expect(runCommits.map((c) => c.sha)).toEqual(steps.map((s) => s.commitSha));
    expect(runCommits.map((c) => c.trailers['Samokoder-Step'])).toEqual(['planner', 'architect', 'coder', 'coder', 'verify']);
    expect(runCommits[2]!.subject).toMatch(/^coder t1: /);
    expect(runCommits[2]!.message).toContain(run.id);
    expect((await ws.files.readFile('sum.js'))).toMatchObject({ content: SUM_OK });
    expect((await ws.files.readFile('.gitignore'))).toMatchObject({ content: expect.stringContaining('node_modules/') });

    // Events: gapless seqs, in order, describing the run.
    const events = (await projectEvents(db, fx)).filter((e) => e.runId === run.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => events[0]!.seq + i));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run.queued');
    expect(types[1]).toBe('run.started');
    expect(types.at(-1)).toBe('run.finished');
    expect(events.at(-1)!.data).toEqual({ status: 'succeeded', reason: null });
    expect(types.filter((t) => t === 'step.started')).toHaveLength(5);
    expect(events.filter((e) => e.type === 'step.started').map((e) => (e.data as { taskTitle?: string }).taskTitle)).toEqual([undefined, undefined, expect.any(String), expect.any(String), undefined]);
    expect(types.filter((t) => t === 'step.finished')).toHaveLength(5);
    expect(types.filter((t) => t === 'llm.usage')).toHaveLength(7);
    expect(events.filter((e) => e.type === 'file.written').map((e) => (e.data as { path: string }).path)).toEqual(['package.json', 'sum.js', 'sum.test.js']);
    expect(events.filter((e) => e.type === 'command.finished').map((e) => (e.data as { exitCode: number }).exitCode)).toEqual([0, 0]);
    // Each step's events sit between its step.started and step.finished.
    const verifyStart = types.lastIndexOf('step.started');
    expect(types.slice(verifyStart)).toEqual(['step.started', 'command.started', 'command.finished', 'command.started', 'command.finished', 'step.finished', 'run.finished']);
  });

  test('the first code fails its test; one fixer round makes it pass (anthropic)', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    script(h, fx, [...happyTurns(SUM_BUG), writeTurn('sum.js', SUM_OK), finishTurn('fixed the sign')]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'succeeded' });
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.map((s) => `${s.kind}:${s.round}`)).toEqual(['planner:0', 'architect:0', 'coder:0', 'coder:0', 'verify:0', 'fixer:1', 'verify:1']);
    expect(steps[4]!.output).toMatchObject({ passed: false, phase: 'test' });
    // The fixer got the failing output and the file it names, not every file.
    const fixerRequest = requestsOf(h, fx)[7]!;
    expect(fixerRequest.path).toBe('/v1/messages');
    const text = bodyText(fixerRequest);
    expect(text).toContain('fix round 1');
    expect(text).toMatch(/sum\.test\.js/);
    expect(text).toContain('a - b');
  });

  test('a run that never passes stops after N fix rounds with verify_failed, its files kept', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const rounds = h.server.config.pipeline.fixRounds;
    script(h, fx, [...happyTurns(SUM_BUG), ...Array.from({ length: rounds }, () => finishTurn('no idea'))]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'verify_failed' });
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.filter((s) => s.kind === 'fixer')).toHaveLength(rounds);
    expect(steps.filter((s) => s.kind === 'verify')).toHaveLength(rounds + 1);
    expect(steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(await (await fx.workspace()).files.readFile('sum.js')).toMatchObject({ content: SUM_BUG });
    const last = (await projectEvents(db, fx)).at(-1)!;
    expect(last).toMatchObject({ type: 'run.finished', data: { status: 'failed', reason: 'verify_failed' } });
  });

  test('a test script that runs no tests fails verify with "no tests ran"; the fixer is told, and real tests make it pass', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const noTests = JSON.stringify({ name: 'sum-app', version: '1.0.0', type: 'module', private: true, scripts: { test: 'echo "no tests yet"' } });
    script(h, fx, [
      planTurn([{ id: 't1', title: 'The sum function', description: 'Create package.json and sum.js.' }]),
      archTurn('npm test', '', [{ path: 'sum.js', purpose: 'the function' }, { path: 'package.json', purpose: 'scripts' }]),
      writeTurn('package.json', noTests),
      writeTurn('sum.js', SUM_OK),
      finishTurn('sum written'),
      // The fixer: a real test and a test script that runs it.
      writeTurn('sum.test.js', SUM_TEST),
      writeTurn('package.json', PACKAGE_JSON),
      finishTurn('added a real test'),
    ]);
    const run = await startRun(h, fx);
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
    const steps = await new StepsRepo(db).list(run.id);
    expect(steps.map((s) => `${s.kind}:${s.round}`)).toEqual(['planner:0', 'architect:0', 'coder:0', 'verify:0', 'fixer:1', 'verify:1']);
    expect(steps[3]!.output).toMatchObject({ passed: false, phase: 'test', exitCode: 0, problem: expect.stringMatching(/^no tests ran/) });
    expect(steps[5]!.output).toMatchObject({ passed: true, testsRun: 1 });
    const fixerRequest = requestsOf(h, fx).find((r) => bodyText(r).includes('fix round 1'))!;
    expect(bodyText(fixerRequest)).toContain('Verify failed: no tests ran');
  });

  test('a declared file that was never written fails verify before any command runs; the run says what is missing', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const rounds = h.server.config.pipeline.fixRounds;
    script(h, fx, [
      planTurn([{ id: 't1', title: 'x', description: 'y' }]),
      archTurn(INLINE_TEST, '', [{ path: 'src/server.js', purpose: 'the server' }]),
      finishTurn('nothing written'),
      ...Array.from({ length: rounds }, () => finishTurn('still nothing')),
    ]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'verify_failed' });
    const verify = (await new StepsRepo(db).list(run.id)).find((s) => s.kind === 'verify')!;
    expect(verify.output).toMatchObject({ passed: false, phase: 'files', problem: 'declared files missing: src/server.js' });
    const events = await projectEvents(db, fx);
    expect(events.some((e) => e.type === 'command.started')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { reason: 'verify_failed', message: expect.stringContaining('declared files missing: src/server.js') } });
  });

  test('a run over its token stop-loss stops with token_budget; nothing more is sent', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    const over = h.server.config.pipeline.tokenBudget + 1;
    script(h, fx, [{ ...planTurn([{ id: 't1', title: 'x', description: 'y' }]), usage: { input: over, output: 1 } }, archTurn()]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'token_budget' });
    expect(done.plan).toBeTruthy();
    expect(requestsOf(h, fx)).toHaveLength(1);
  });

  test('malformed tool JSON gets a tool error; the corrected call succeeds', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [
      planTurn([{ id: 't1', title: 'One file', description: 'Write notes.txt' }]),
      bareArchTurn(),
      toolTurn('write_file', '{"path": "notes.txt", "content": "hel'),
      toolTurn('write_file', { path: 'notes.txt' }),
      toolTurn('write_file', { path: 'notes.txt', content: 'hello' }),
      finishTurn(),
    ]);
    const run = await startRun(h, fx);
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
    const reqs = requestsOf(h, fx);
    const toolMessages = (i: number) => ((reqs[i]!.body as { messages: { role: string; content: string }[] }).messages).filter((m) => m.role === 'tool').map((m) => m.content);
    expect(toolMessages(3).at(-1)).toMatch(/The arguments are not valid JSON \(/);
    expect(toolMessages(4).at(-1)).toMatch(/Invalid arguments: content: /);
    expect(toolMessages(4).join('\n')).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
    expect(await (await fx.workspace()).files.readFile('notes.txt')).toMatchObject({ content: 'hello' });
    const called = (await projectEvents(db, fx)).filter((e) => e.type === 'tool.called' && (e.data as { name: string }).name === 'write_file');
    expect(called.map((e) => (e.data as { ok: boolean }).ok)).toEqual([false, false, true]);
  });

  test('K invalid tool calls in a row fail the step with a clear reason', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    const k = h.server.config.pipeline.maxInvalidToolCalls;
    script(h, fx, [planTurn([{ id: 't1', title: 'x', description: 'y' }]), bareArchTurn(), ...Array.from({ length: k }, () => toolTurn('delete_everything', {}))]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'invalid_tool_calls' });
    const coder = (await new StepsRepo(db).list(run.id)).at(-1)!;
    expect(coder).toMatchObject({ kind: 'coder', status: 'failed', error: expect.stringContaining(`${k} invalid tool calls in a row`) });
  });

  test('a run whose job lease ran out on its last attempt ends failed worker_lost, with run.finished', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    // Created and, in the same transaction, made to look like its last holder died mid-run: the
    // worker's next claim finds it expired with no attempt left.
    const run = await db.transaction(async (tx) => {
      const { run: r, job } = await enqueueRun(tx, { projectId: fx.projectId, userId: fx.userId, kind: 'generate', prompt: 'p', provider: fx.provider, model: 'fake-model', keyId: fx.keyId, keySource: 'byok', maxAttempts: 1 });
      await new RunsRepo(tx).transition(r.id, 'running');
      await tx.query(`UPDATE jobs SET status = 'active', attempts = 1, locked_by = 'dead-node', lease_until = now() - interval '1 second' WHERE id = $1`, [job.id]);
      return r;
    });
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'failed', reason: 'worker_lost' });
    expect((await projectEvents(db, fx)).map((e) => [e.seq, e.type, e.data])).toEqual([
      [1, 'run.queued', expect.anything()],
      [2, 'run.finished', { status: 'failed', reason: 'worker_lost' }],
    ]);
    expect(requestsOf(h, fx)).toEqual([]);
  });

  test('cancel during a sandbox command ends the run cancelled without waiting for the command', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [planTurn([{ id: 't1', title: 'x', description: 'y' }]), bareArchTurn(), toolTurn('run_command', { command: 'sleep 600' })]);
    const run = await startRun(h, fx);
    const end = Date.now() + 30_000;
    while (!(await projectEvents(db, fx)).some((e) => e.type === 'command.started')) {
      if (Date.now() > end) throw new Error('no command started');
      await new Promise((r) => setTimeout(r, 25));
    }
    const asked = Date.now();
    await new RunsRepo(db).requestCancel(run.id, fx.userId);
    const done = await waitForRun(db, run.id, 45_000);
    // Rules out waiting for the command (600 s), not a slow machine.
    expect(Date.now() - asked).toBeLessThan(30_000);
    expect(done).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect((await new StepsRepo(db).list(run.id)).at(-1)).toMatchObject({ kind: 'coder', status: 'cancelled' });
    expect((await projectEvents(db, fx)).at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'cancelled' } });
  });

  test('a follow-up run edits an existing file; revert keeps later history', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    script(h, fx, happyTurns());
    const first = await startRun(h, fx);
    expect(await waitForRun(db, first.id)).toMatchObject({ status: 'succeeded' });
    const before = requestsOf(h, fx).length;

    const doubled = 'export const sum = (a, b) => a + b;\nexport const double = (a) => sum(a, a);\n';
    script(h, fx, [
      planTurn([{ id: 'c1', title: 'Add double', description: 'Edit sum.js to export double(a).' }], 'Add double()'),
      archTurn(),
      toolTurn('read_file', { path: 'sum.js' }),
      writeTurn('sum.js', doubled),
      finishTurn('double added'),
    ]);
    const change = await startRun(h, fx, 'Add a double function', 'change');
    expect(await waitForRun(db, change.id)).toMatchObject({ status: 'succeeded' });
    const reqs = requestsOf(h, fx).slice(before);
    // The planner saw the change request, the current plan and the tree; the coder the file it edits.
    const planner = bodyText(reqs[0]!);
    expect(planner).toContain('Add a double function');
    expect(planner).toContain('A sum function with a node:test test.');
    expect(planner).toContain('sum.test.js');
    expect(bodyText(reqs[2]!)).toContain('a + b');
    const ws = await fx.workspace();
    expect(await ws.files.readFile('sum.js')).toMatchObject({ content: doubled });
    expect(await ws.files.readFile('package.json')).toMatchObject({ content: PACKAGE_JSON });

    // Revert to the first run's end: a new commit; every later commit stays in the history.
    const firstEnd = (await new StepsRepo(db).list(first.id)).at(-1)!.commitSha!;
    const headBefore = await ws.history.headSha();
    const count = (await ws.history.history({ limit: 1000 })).length;
    await ws.history.revert(firstEnd);
    const after = await ws.history.history({ limit: 1000 });
    expect(after).toHaveLength(count + 1);
    expect(after.map((c) => c.sha)).toContain(headBefore);
    expect(await ws.files.readFile('sum.js')).toMatchObject({ content: SUM_OK });
    expect(await ws.files.readFile('sum.test.js')).toMatchObject({ content: SUM_TEST });
  });

  test('write_file through a traversal, an absolute path or a planted symlink is refused; nothing outside changes', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const outside = await mkdtemp(path.join(os.tmpdir(), 'sk-outside-'));
    const ws = await fx.workspace();
    const absolute = path.join(outside, 'abs.txt');
    script(h, fx, [
      planTurn([{ id: 't1', title: 'x', description: 'y' }]),
      bareArchTurn(),
      // The agent plants the symlink itself (commits never hold one, so one planted before the run
      // would not survive its reset); it points at a host folder the service must not write through.
      toolTurn('run_command', { command: `ln -s ${outside} link` }),
      writeTurn('../escape.txt', 'x'),
      writeTurn(absolute, 'x'),
      writeTurn('inside.txt', 'fine'),
      writeTurn('link/evil.txt', 'x'),
      writeTurn('link/../../escape2.txt', 'x'),
      finishTurn(),
    ]);
    const run = await startRun(h, fx);
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
    expect(await readdir(outside)).toEqual([]);
    await expect(lstat(path.join(ws.dir, '..', 'escape.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(path.join(ws.dir, '..', '..', 'escape2.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await ws.files.readFile('inside.txt')).toMatchObject({ content: 'fine' });
    const results = (await projectEvents(db, fx)).filter((e) => e.type === 'tool.called' && (e.data as { name: string }).name === 'write_file').map((e) => e.data as { ok: boolean; error?: string });
    expect(results.map((r) => r.ok)).toEqual([false, false, true, false, false]);
    for (const r of results.filter((x) => !x.ok)) expect(r.error).toMatch(/^Refused: /);
    await rm(outside, { recursive: true, force: true });
  });

  test('run.finished is POSTed to the project webhook, signed, and retried after a failure', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    const received: { body: string; headers: Record<string, string | string[] | undefined>; status: number }[] = [];
    const hook: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const status = received.length === 0 ? 503 : 204; // the first delivery fails
        received.push({ body, headers: req.headers, status });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const { secret } = (await new ProjectsRepo(db).setWebhook(fx.projectId, fx.userId, { url }))!;
      script(h, fx, [planTurn([{ id: 't1', title: 'x', description: 'y' }]), bareArchTurn(), finishTurn()]);
      const run = await startRun(h, fx);
      expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
      const end = Date.now() + 10_000;
      while (received.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(received.map((r) => r.status)).toEqual([503, 204]);
      const [a, b] = received;
      expect(b!.body).toBe(a!.body);
      const payload = JSON.parse(b!.body);
      expect(payload).toMatchObject({ type: 'run.finished', projectId: fx.projectId, runId: run.id, data: { status: 'succeeded', reason: null } });
      const finished = (await projectEvents(db, fx)).at(-1)!;
      expect(payload.seq).toBe(finished.seq);
      const ts = Number(b!.headers['x-samokoder-timestamp']);
      expect(verifyWebhookSignature(secret!, ts, b!.body, String(b!.headers['x-samokoder-signature']))).toBe(true);
      expect(verifyWebhookSignature('wrong', ts, b!.body, String(b!.headers['x-samokoder-signature']))).toBe(false);
    } finally {
      hook.close();
    }
  });
});
