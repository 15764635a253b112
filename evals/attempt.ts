import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Run, Step, Usage } from '../protocol/api-types.js';
import { ApiClient, enc } from '../cli/client.js';
import { EventFollower, type RunEvent } from '../cli/follow.js';
import type { ModelChoice } from '../cli/model-choice.js';
import { judge, prepareFromZip, type AcceptanceOutcome, type JudgeOptions } from './judge.js';
import type { Spec } from './suite.js';

/** Where the specs run: the in-process service (a fresh account per attempt) or a running one. */
export interface EvalTarget {
  url: string;
  /** A bearer token; `dedicated`: the account does nothing else, so its usage is the attempt's (cached tokens, cost). */
  account(label: string): Promise<{ token: string; dedicated: boolean }>;
  /** Puts a start project into a new project's workspace as a commit; absent where the workspaces are out of reach (--url). */
  seed?(projectId: string, startDir: string): Promise<void>;
}

export type AttemptOutcome = 'passed' | 'failed' | 'error' | 'skipped';

export interface AttemptResult {
  specId: string;
  /** 1-based, up to --repeat. */
  attempt: number;
  outcome: AttemptOutcome;
  /** `succeeded`, the run's reason (verify_failed, token_budget, …), `ceiling_tokens`, `ceiling_minutes`, or `error`. */
  stopReason: string;
  runStatus: Run['status'] | null;
  projectId: string | null;
  tokens: { input: number; output: number; cacheRead: number | null; cacheWrite: number | null };
  /** null: the model has no known price. */
  costUsd: number | null;
  wallSeconds: number;
  fixRounds: number;
  acceptance?: AcceptanceOutcome;
  /** What went wrong when the attempt could not be run or judged. */
  error?: string;
}

export interface AttemptContext {
  target: EvalTarget;
  choice: ModelChoice;
  judge: JudgeOptions;
  sharedFiles: readonly string[];
  /** One line per event worth a line (step started, run ended, judged). */
  onLine(line: string): void;
  signal?: AbortSignal;
}

const POLL_MS = 1000;

/** One attempt at one spec: account, key, project (seeded), run under the ceilings, export, judge. */
export async function runAttempt(ctx: AttemptContext, spec: Spec, attempt: number): Promise<AttemptResult> {
  const started = Date.now();
  const base: AttemptResult = { specId: spec.id, attempt, outcome: 'error', stopReason: 'error', runStatus: null, projectId: null, tokens: { input: 0, output: 0, cacheRead: null, cacheWrite: null }, costUsd: null, wallSeconds: 0, fixRounds: 0 };
  const say = (text: string): void => ctx.onLine(`${spec.id}#${attempt} ${text}`);
  if (spec.startDir && !ctx.target.seed) {
    say('skipped: it starts from a project, which only the in-process service can seed (run without --url)');
    return { ...base, outcome: 'skipped', stopReason: 'skipped', error: 'starts from a project: needs the in-process service' };
  }
  const { token, dedicated } = await ctx.target.account(`${spec.id}-${attempt}`);
  const api = new ApiClient(ctx.target.url, token);
  let follower: EventFollower | undefined;
  let keyId: string | undefined;
  const result = { ...base };
  try {
    const key = await api.json<{ id: string }>('POST', '/api/user/api-keys', { provider: ctx.choice.provider, apiKey: ctx.choice.apiKey, label: `samokoder eval ${spec.id}`, ...(ctx.choice.baseUrl ? { baseUrl: ctx.choice.baseUrl } : {}) });
    keyId = key.id;
    const { project } = await api.json<{ project: { id: string } }>('POST', '/api/projects', { prompt: spec.prompt, name: `eval ${spec.id} #${attempt}` });
    result.projectId = project.id;
    if (spec.startDir) await ctx.target.seed!(project.id, spec.startDir);
    follower = follow(ctx.target.url, token, project.id, say);
    const { run } = await api.json<{ run: Run }>('POST', `/api/projects/${enc(project.id)}/generate`, { provider: ctx.choice.provider, model: ctx.choice.model, keyId: key.id });
    const runPath = `/api/projects/${enc(project.id)}/runs/${enc(run.id)}`;

    // The run under the spec's ceilings: past either it is cancelled, and the ceiling is its stop reason.
    let ceiling: string | undefined;
    let final: { run: Run; steps: Step[] };
    for (;;) {
      final = await api.json<{ run: Run; steps: Step[] }>('GET', runPath);
      if (final.run.status !== 'queued' && final.run.status !== 'running') break;
      if (!ceiling) {
        const tokens = final.run.usage.inputTokens + final.run.usage.outputTokens;
        if (tokens > spec.ceilings.tokens) ceiling = 'ceiling_tokens';
        else if (Date.now() - started > spec.ceilings.minutes * 60_000) ceiling = 'ceiling_minutes';
        else if (ctx.signal?.aborted) ceiling = 'cancelled';
        if (ceiling) {
          say(`✗ ${ceiling === 'cancelled' ? 'cancelled' : `past its ${ceiling === 'ceiling_tokens' ? `token ceiling (${spec.ceilings.tokens})` : `time ceiling (${spec.ceilings.minutes} min)`}`}: cancelling the run`);
          await api.raw('POST', `${runPath}/cancel`).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    result.runStatus = final.run.status;
    result.stopReason = ceiling ?? (final.run.status === 'succeeded' ? 'succeeded' : (final.run.reason ?? final.run.status));
    result.fixRounds = final.steps.filter((s) => s.kind === 'fixer').reduce((n, s) => Math.max(n, s.round), 0);
    result.tokens = { ...result.tokens, input: final.run.usage.inputTokens, output: final.run.usage.outputTokens };
    result.costUsd = final.run.usage.costMicroUsd / 1e6;
    if (dedicated) {
      const usage = await api.json<Usage>('GET', '/api/usage');
      result.tokens.cacheRead = usage.byModel.reduce((n, m) => n + m.cacheReadTokens, 0);
      result.tokens.cacheWrite = usage.byModel.reduce((n, m) => n + m.cacheWriteTokens, 0);
      if (usage.byModel.some((m) => m.costMicroUsd === null)) result.costUsd = null;
    }
    result.wallSeconds = (Date.now() - started) / 1000;
    say(`run ${final.run.status}${final.run.status === 'succeeded' ? '' : ` (${result.stopReason})`} in ${result.wallSeconds.toFixed(0)}s, ${result.tokens.input + result.tokens.output} tokens; judging`);

    // Judged whatever the run's own verdict: the export is what the user would get.
    const zip = Buffer.from(await (await api.raw('GET', `/api/projects/${enc(project.id)}/export`)).arrayBuffer());
    result.acceptance = await judgeZip(ctx, spec, zip);
    result.outcome = result.acceptance.passed ? 'passed' : 'failed';
    const a = result.acceptance;
    say(`${a.passed ? '✓ passed' : '✗ failed'}: ${a.tests.pass} acceptance test(s) passed, ${a.tests.fail} failed${a.browser ? `; browser ${a.browser.passed ? 'ok' : 'failed'}` : ''}`);
    return result;
  } catch (err) {
    result.error = (err as Error).message;
    result.wallSeconds = (Date.now() - started) / 1000;
    say(`✗ error: ${result.error}`);
    return result;
  } finally {
    follower?.stop();
    if (keyId) await api.raw('DELETE', `/api/user/api-keys/${enc(keyId)}`).catch(() => undefined);
  }
}

async function judgeZip(ctx: AttemptContext, spec: Spec, zip: Buffer) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'samokoder-eval-'));
  try {
    await prepareFromZip(path.join(root, 'app'), zip, spec, ctx.sharedFiles);
    const [outcome] = await judge(root, [{ rel: 'app', spec }], ctx.judge);
    return outcome!;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** The project's events as progress lines: each step as it starts, and the run's end. */
function follow(url: string, token: string, projectId: string, say: (text: string) => void): EventFollower {
  return new EventFollower(`${url.replace(/^http/, 'ws')}/ws`, token, projectId, (e: RunEvent) => {
    if (e.type === 'step.started') say(`▶ ${e.data.kind}${e.data.taskId ? ` ${e.data.taskId}` : ''}${e.data.kind === 'fixer' && e.data.round ? ` (round ${e.data.round})` : ''}`);
    else if (e.type === 'run.finished' && e.data.message) say(`  ${e.data.message.split('\n')[0]}`);
  });
}
