import { stat } from 'node:fs/promises';
import path from 'node:path';
import { StepsRepo } from '../../db/repos/steps.js';
import {
  archTurn, finishTurn, newProjectFixture, PACKAGE_JSON, planTurn, projectEvents, requestsOf, script, startHarness, startRun, SUM_OK, SUM_TEST, TASKS, toolTurn, waitForRun, writeTurn,
  bodyText, type Harness, type ProjectFixture,
} from './harness.js';

const MIB = 1024 * 1024;
const QUOTA_MB = 64;
/** Far more than the quota: a volume stops it at the quota, a measured quota notices it after. */
const DD = (mb: number): string => `dd if=/dev/urandom of=big.bin bs=1M count=${mb}`;

const volumeDescribe = process.getuid?.() === 0 ? describe : describe.skip;

function quotaHarness(setting: 'enforce' | 'reactive'): { h: () => Harness; fixture(): Promise<ProjectFixture> } {
  let h: Harness;
  const fixtures: ProjectFixture[] = [];
  beforeAll(async () => {
    h = await startHarness('postgres', { SAMOKODER_WORKSPACE_QUOTA: setting, SAMOKODER_WORKSPACE_QUOTA_MB: QUOTA_MB });
  });
  afterAll(async () => {
    // Project deletion's order: containers first, then the workspace (and its volume).
    for (const fx of fixtures) {
      await h.server.ctx.sandbox?.removeProject?.(fx.projectId);
      await h.server.ctx.workspaces.remove(fx.projectId);
    }
    await h?.close();
  });
  return {
    h: () => h,
    fixture: async () => {
      const fx = await newProjectFixture(h, 'openai-compatible');
      fixtures.push(fx);
      return fx;
    },
  };
}

/** The run_command results the model was sent back, as the requests carried them. */
const toolResultsSeen = (h: Harness, fx: ProjectFixture): string => requestsOf(h, fx).map(bodyText).join('\n');

volumeDescribe('workspace quota enforced by a volume (real sandbox, real git, fake LLM)', () => {
  const q = quotaHarness('enforce');

  test('a coder that fills the workspace with dd and does not clean up: the command fails with ENOSPC, the model is told, the run ends workspace_quota and nothing over the quota is committed', async () => {
    const h = q.h();
    const fx = await q.fixture();
    script(h, fx, [planTurn(TASKS), archTurn(), toolTurn('run_command', { command: DD(2048) }), finishTurn('wrote a big file')]);
    const run = await startRun(h, fx);
    const done = await waitForRun(h.server.ctx.db, run.id, 120_000);
    expect(done).toMatchObject({ status: 'failed', reason: 'workspace_quota' });
    const finished = (await projectEvents(h.server.ctx.db, fx)).filter((e) => e.runId === run.id && e.type === 'run.finished');
    expect(finished.at(-1)!.data).toMatchObject({ status: 'failed', reason: 'workspace_quota', message: expect.stringMatching(/not committed: the workspace is at its disk quota \(.* of 64 MiB/) });

    const called = (await projectEvents(h.server.ctx.db, fx)).filter((e) => e.runId === run.id && e.type === 'tool.called').map((e) => e.data as { name: string; ok: boolean; error?: string }).filter((c) => c.name === 'run_command');
    expect(called[0]).toMatchObject({ name: 'run_command', ok: false, error: expect.stringMatching(/No space left on device[\s\S]*at its disk quota/) });
    expect(toolResultsSeen(h, fx)).toContain('Delete what the project does not need');

    // The coder step never got its commit; the host holds at most the quota for the project.
    const steps = await new StepsRepo(h.server.ctx.db).list(run.id);
    expect(steps.filter((s) => s.commitSha).map((s) => s.kind)).toEqual(['planner', 'architect']);
    const ws = await h.server.ctx.workspaces.open(fx.projectId);
    expect((await ws.history.history({ limit: 1 }))[0]!.trailers['Samokoder-Step']).toBe('architect');
    const image = await stat(path.join(h.server.config.workspaces.dir, `${fx.projectId}.img`));
    expect(image.blocks * 512).toBeLessThanOrEqual(QUOTA_MB * MIB * 1.05);
  });

  test('a coder that deletes the file after the quota error recovers: the run succeeds', async () => {
    const h = q.h();
    const fx = await q.fixture();
    script(h, fx, [
      planTurn(TASKS),
      archTurn(),
      toolTurn('run_command', { command: DD(2048) }),
      toolTurn('run_command', { command: 'rm big.bin' }),
      writeTurn('package.json', PACKAGE_JSON),
      writeTurn('sum.js', SUM_OK),
      finishTurn('sum written'),
      writeTurn('sum.test.js', SUM_TEST),
      finishTurn('test written'),
    ]);
    const run = await startRun(h, fx);
    const done = await waitForRun(h.server.ctx.db, run.id, 120_000);
    expect(done).toMatchObject({ status: 'succeeded', reason: null });
    const called = (await projectEvents(h.server.ctx.db, fx)).filter((e) => e.runId === run.id && e.type === 'tool.called').map((e) => e.data as { name: string; ok: boolean }).filter((c) => c.name === 'run_command');
    expect(called.slice(0, 2)).toEqual([expect.objectContaining({ name: 'run_command', ok: false }), expect.objectContaining({ name: 'run_command', ok: true })]);
    const ws = await h.server.ctx.workspaces.open(fx.projectId);
    await expect(ws.files.readFile('big.bin')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(await ws.quota.usage()).toMatchObject({ full: false });
  });
});

describe('workspace quota measured (reactive), as on a host without loop mounts', () => {
  const q = quotaHarness('reactive');

  test('dd past the quota is noticed after the command; the run ends workspace_quota without committing it', async () => {
    const h = q.h();
    const fx = await q.fixture();
    script(h, fx, [planTurn(TASKS), archTurn(), toolTurn('run_command', { command: DD(QUOTA_MB + 16) }), finishTurn('wrote a big file')]);
    const run = await startRun(h, fx);
    const done = await waitForRun(h.server.ctx.db, run.id, 120_000);
    expect(done).toMatchObject({ status: 'failed', reason: 'workspace_quota' });
    const events = (await projectEvents(h.server.ctx.db, fx)).filter((e) => e.runId === run.id);
    expect(events.find((e) => e.type === 'tool.called' && (e.data as { name: string }).name === 'run_command')!.data).toMatchObject({ name: 'run_command', ok: false, error: expect.stringContaining('at its disk quota') });
    expect(events.at(-1)!.data).toMatchObject({ reason: 'workspace_quota', message: expect.stringContaining('The step was not committed') });
    const ws = await h.server.ctx.workspaces.open(fx.projectId);
    expect(ws.quota.mode).toBe('reactive');
    expect((await ws.history.history({ limit: 1 }))[0]!.trailers['Samokoder-Step']).toBe('architect');
  });
});
