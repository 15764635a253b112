import { StepsRepo } from '../../db/repos/steps.js';
import {
  bareArchTurn, bodyText, finishTurn, happyTurns, newProjectFixture, planTurn, projectEvents, requestsOf, script, startHarness, startRun,
  SUM_BUG, SUM_OK, toolTurn, waitForRun, writeTurn, type Harness,
} from './harness.js';

// The coder's tool loop against behaviours real models show: looping on reads, never finishing,
// a refused huge write, and targeted edits instead of rewrites. Real sandbox, git and SDKs.
describe('the coder and fixer tool loop (postgres, fake LLM through the SDKs)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('postgres', { SAMOKODER_MAX_STEPS_PER_TASK: 8, SAMOKODER_LOOP_IDLE_TURNS: 5 });
  });
  afterAll(async () => {
    await h?.close();
  });
  const oneTask = () => planTurn([{ id: 't1', title: 'The task', description: 'Do it' }]);

  test('the same call with the same result 4 times stops the run as stuck, saying what was tried; the step is not a success', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [oneTask(), bareArchTurn(), ...Array.from({ length: 6 }, () => toolTurn('list_files', {}))]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'stuck' });
    expect(requestsOf(h, fx)).toHaveLength(2 + 4);
    const coder = (await new StepsRepo(db).list(run.id)).find((s) => s.kind === 'coder')!;
    expect(coder.status).toBe('failed');
    const finished = (await projectEvents(db, fx)).at(-1)!;
    expect(finished).toMatchObject({ type: 'run.finished', data: { status: 'failed', reason: 'stuck' } });
    expect((finished.data as { message: string }).message).toMatch(/the same list_files call returned the same result 4 times\. Tried: list_files, list_files, list_files, list_files/);
  });

  test('turns that change nothing (different reads) stop the run as stuck after the idle limit', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [oneTask(), bareArchTurn(), ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((p) => toolTurn('read_file', { path: `${p}.js` }))]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'stuck' });
    expect(requestsOf(h, fx)).toHaveLength(2 + 5);
    const finished = (await projectEvents(db, fx)).at(-1)!;
    expect((finished.data as { message: string }).message).toContain('5 model turns in a row changed nothing in the workspace');
  });

  test('a coder that uses every turn without finish fails with max_turns, its files kept', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    script(h, fx, [oneTask(), bareArchTurn(), ...Array.from({ length: 8 }, (_, i) => writeTurn('notes.txt', `draft ${i}\n`))]);
    const run = await startRun(h, fx);
    const done = await waitForRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', reason: 'max_turns' });
    expect((await new StepsRepo(db).list(run.id)).find((s) => s.kind === 'coder')!.status).toBe('failed');
    const finished = (await projectEvents(db, fx)).at(-1)!;
    expect((finished.data as { message: string }).message).toMatch(/used all 8 model turns without calling finish/);
    expect(await (await fx.workspace()).files.readFile('notes.txt')).toMatchObject({ content: 'draft 7\n' });
  });

  test('an install on its own gets the registry network; anything chained to it, and other commands, stay offline', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const commands = ['npm install --no-audit --no-fund', 'npm install && node -e 1', 'node -e 1'];
    script(h, fx, [oneTask(), bareArchTurn(), ...commands.map((command) => toolTurn('run_command', { command })), finishTurn()]);
    const run = await startRun(h, fx);
    await waitForRun(db, run.id);
    const started = (await projectEvents(db, fx)).filter((e) => e.type === 'command.started' && commands.includes((e.data as { command: string }).command));
    expect(started.map((e) => [(e.data as { command: string }).command, (e.data as { network: string }).network, (e.data as { purpose: string }).purpose])).toEqual([
      ['npm install --no-audit --no-fund', 'registry', 'install'],
      ['npm install && node -e 1', 'none', 'agent'],
      ['node -e 1', 'none', 'agent'],
    ]);
  });

  test('a refused 5 MB write_file is not resent: the next request stays small', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    const huge = 'x'.repeat(5 * 1024 * 1024);
    // Streamed in 64 KB pieces: the test is about what is sent back, not about streaming 5 MB in 8-byte chunks.
    script(h, fx, [oneTask(), bareArchTurn(), { ...writeTurn('huge.txt', huge), chunkSize: 65_536 }, finishTurn('gave up on the huge file')]);
    const run = await startRun(h, fx);
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
    const reqs = requestsOf(h, fx);
    const after = bodyText(reqs[3]!);
    expect(after).toContain('huge.txt would be 5242880 bytes; the limit is 1048576');
    expect(after.length).toBeLessThan(50_000);
    expect(after).toContain(`(${huge.length} characters omitted)`);
  });

  test('a long file is read in windows: the result says where to read on, and fromLine continues there', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'openai-compatible');
    // 2,000 lines of 40 characters: a window of 16,000 characters holds lines 1–390.
    const long = Array.from({ length: 2000 }, (_, i) => `// line ${i + 1}`.padEnd(40, '.')).join('\n') + '\n';
    script(h, fx, [
      oneTask(), bareArchTurn(), { ...writeTurn('big.js', long), chunkSize: 65_536 },
      toolTurn('read_file', { path: 'big.js' }), toolTurn('read_file', { path: 'big.js', fromLine: 391 }), finishTurn('read it'),
    ]);
    const run = await startRun(h, fx);
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
    // The tool result each read put in the conversation (the write_file call before it holds the whole file).
    const lastResult = (i: number) => (requestsOf(h, fx)[i]!.body as { messages: { content: string }[] }).messages.at(-1)!.content;
    expect(lastResult(4)).toMatch(/^\/\/ line 1\.[^]*\n\/\/ line 390\.+\n… \(big\.js: lines 1–390 of 2000 shown; read on with fromLine: 391\)$/);
    const second = lastResult(5);
    expect(second.startsWith('// line 391.')).toBe(true);
    expect(second).toContain('big.js: lines 391–780 of 2000 shown; read on with fromLine: 781');
  });

  test('the fixer changes a line with edit_file; the file is edited, not rewritten', async () => {
    const db = h.server.ctx.db;
    const fx = await newProjectFixture(h, 'anthropic');
    script(h, fx, [...happyTurns(SUM_BUG), toolTurn('edit_file', { path: 'sum.js', edits: [{ search: 'a - b', replace: 'a + b' }] }), finishTurn('fixed the sign')]);
    const run = await startRun(h, fx);
    expect(await waitForRun(db, run.id)).toMatchObject({ status: 'succeeded' });
    expect(await (await fx.workspace()).files.readFile('sum.js')).toMatchObject({ content: SUM_OK });
    const events = await projectEvents(db, fx);
    const edit = events.find((e) => e.type === 'tool.called' && (e.data as { name: string }).name === 'edit_file');
    expect(edit?.data).toMatchObject({ name: 'edit_file', ok: true, path: 'sum.js' });
    expect(events.some((e) => e.type === 'file.written' && (e.data as { path: string }).path === 'sum.js' && e.seq > edit!.seq)).toBe(true);
  });
});
