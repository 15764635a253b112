import { isAppError } from '../core/errors.js';
import { reportError } from '../core/error-tracking.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import type { Job } from '../db/queue/job-queue.js';
import { Worker, type JobContext } from '../db/queue/job-worker.js';
import { RUNS_QUEUE, RunsRepo, type RunJobPayload } from './runs-repo.js';
import { isTerminal, type RunStatus } from './run-status.js';
import { listenForCancel, type CancelListener } from './cancel-channel.js';
import { StepsRepo, type Step } from '../db/repos/steps.js';
import type { SandboxPort } from '../sandbox/port.js';
import { isSandboxDown } from '../sandbox/availability.js';
import type { Workspace, WorkspaceStore } from '../workspaces/index.js';
import type { LlmGateway } from '../llm/llm-gateway.js';
import { LlmSession } from '../llm/llm-session.js';
import { isProviderError } from '../llm/providers/index.js';
import { enqueueWebhook } from '../webhooks/queue.js';
import { appendEvent, RunEvents } from '../events/run-events.js';
import type { BrowserCheck, PipelineSettings, RunContext } from '../agents/pipeline/run-context.js';
import { sandboxAccess } from '../agents/pipeline/run-context.js';
import { runPipeline } from '../agents/pipeline/run-pipeline.js';
import { CancelRequested, RunStop, TimeBudgetExceeded, type StopReason } from '../agents/pipeline/run-stop.js';
import { armTimeBudget } from './run-time-budget.js';

export interface RunWorkerDeps {
  db: Database;
  logger: Logger;
  settings: PipelineSettings;
  gateway: LlmGateway;
  workspaces: WorkspaceStore;
  /** Undefined when the sandbox is off: runs then stop at verify with `sandbox_unavailable`. */
  sandbox: SandboxPort | undefined;
  /** Verify's browser check; undefined when it is off. */
  browser?: BrowserCheck | undefined;
  webhookMaxAttempts: number;
  workerId?: string;
  /** The project's environment variables (decrypted) for verify's test command. */
  projectEnv?: (userId: string, projectId: string) => Promise<Record<string, string>>;
}

type Outcome = { status: Exclude<RunStatus, 'queued' | 'running'>; reason: StopReason | null; message?: string };

/**
 * Executes runs: a Worker on the runs queue (leases + heartbeats; a dead node's run is re-claimed
 * when its lease runs out and resumes from its first unfinished step), plus the cancel channel's
 * listener, which aborts a cancelled run's in-flight model call and sandbox command at once.
 */
export class RunWorker {
  private readonly worker: Worker<RunJobPayload>;
  private readonly controllers = new Map<string, AbortController>();
  private cancels: CancelListener | undefined;

  constructor(private readonly deps: RunWorkerDeps) {
    this.worker = new Worker<RunJobPayload>({
      db: deps.db,
      queue: RUNS_QUEUE,
      handler: (job, ctx) => this.handle(job, ctx),
      concurrency: deps.settings.concurrency,
      leaseMs: deps.settings.leaseMs,
      pollMs: Math.min(2000, Math.max(200, Math.floor(deps.settings.leaseMs / 3))),
      onExhausted: (job) => this.exhausted(job),
      logger: deps.logger,
      ...(deps.workerId ? { workerId: deps.workerId } : {}),
    });
  }

  async start(): Promise<void> {
    this.cancels = await listenForCancel(
      this.deps.db,
      () => [...this.controllers].filter(([, ac]) => !ac.signal.aborted).map(([runId]) => runId),
      (runId) => this.controllers.get(runId)?.abort(new CancelRequested()),
    );
    await this.worker.start();
  }

  /** Hands running runs back (they resume on the next claim) and stops listening. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.worker.stop(timeoutMs);
    await this.cancels?.stop();
  }

  private async handle(job: Job<RunJobPayload>, jobCtx: JobContext): Promise<void> {
    const { db, logger } = this.deps;
    const runId = job.payload.runId;
    const before = await new RunsRepo(db).getById(runId);
    if (!before || isTerminal(before.status)) return; // deleted, or finished by an earlier attempt
    const ac = new AbortController();
    const onJobAbort = (): void => ac.abort(jobCtx.signal.reason);
    if (jobCtx.signal.aborted) onJobAbort();
    jobCtx.signal.addEventListener('abort', onJobAbort, { once: true });
    this.controllers.set(runId, ac);
    const log = logger.child({ runId, projectId: before.projectId, attempt: job.attempts });
    const events = new RunEvents(db, before.projectId, runId, log);
    const workspace = await this.deps.workspaces.create(before.projectId);
    const sandbox = sandboxAccess(this.deps.sandbox, before, workspace.dir, db);
    let disarmTimeBudget = (): void => undefined;
    try {
      const { run } = await new RunsRepo(db).transitionAsHolder(jobCtx.lease, runId, 'running', null, {
        type: before.status === 'queued' ? 'run.started' : 'run.resumed',
        data: { attempt: job.attempts },
      });
      if (run.cancelRequestedAt) throw new CancelRequested();
      disarmTimeBudget = await armTimeBudget(db, runId, (reason) => ac.abort(reason));
      ac.signal.throwIfAborted();
      const finishedSteps = await new StepsRepo(db).finishedSteps(runId);
      // A resumed run's earlier holder (a dead node, or one that lost its lease) may have left a
      // command running in its container, writing to this shared workspace: remove it first, so
      // nothing of the lost attempt writes after the reset below.
      if (before.status !== 'queued') await this.evictForeignSandboxes(before.projectId, log);
      await restoreWorkspace(workspace, finishedSteps, runId);
      const rc: RunContext = {
        db,
        logger: log,
        settings: this.deps.settings,
        gateway: this.deps.gateway,
        llmSession: new LlmSession(),
        workspace,
        run,
        events,
        signal: ac.signal,
        lease: jobCtx.lease,
        sandbox: () => sandbox.get(),
        browser: this.deps.browser,
        projectEnv: this.deps.projectEnv && (() => this.deps.projectEnv!(run.userId, run.projectId)),
        tokensUsed: run.inputTokens + run.outputTokens,
        costMicroUsdUsed: run.costMicroUsd,
      };
      await runPipeline(rc, finishedSteps, job.attempts);
      await this.finish(jobCtx, runId, { status: 'succeeded', reason: null });
    } catch (err) {
      const outcome = this.classify(err, ac.signal, job);
      if (!outcome) throw err;
      log.info({ err, status: outcome.status, reason: outcome.reason }, 'run stopped');
      await this.finish(jobCtx, runId, outcome);
    } finally {
      disarmTimeBudget();
      jobCtx.signal.removeEventListener('abort', onJobAbort);
      this.controllers.delete(runId);
      await sandbox.release();
      // Step commits skip git's automatic gc (a process per commit); it runs once per attempt
      // here, after the run's end is recorded, so nothing waits for it.
      workspace.history.maintain().catch((err: unknown) => log.warn({ err }, 'git maintenance of the workspace failed'));
    }
  }

  private async evictForeignSandboxes(projectId: string, log: Logger): Promise<void> {
    try {
      await this.deps.sandbox?.evictForeign?.(projectId);
    } catch (err) {
      // The engine is down: the run goes on (verify will find out); the start-up sweep of the
      // dead node's host still removes its containers.
      log.warn({ err }, 'could not remove an earlier holder\'s sandbox containers');
    }
  }

  /** How a run that threw ends; undefined: rethrow, so the job is retried (the run resumes). */
  private classify(err: unknown, signal: AbortSignal, job: Job<RunJobPayload>): Outcome | undefined {
    if (signal.reason instanceof TimeBudgetExceeded) return { status: 'failed', reason: 'time_budget', message: signal.reason.message };
    // The worker is stopping or lost the lease: the next holder resumes the run.
    if (signal.aborted && !(signal.reason instanceof CancelRequested)) return undefined;
    if (signal.reason instanceof CancelRequested || err instanceof CancelRequested) return { status: 'cancelled', reason: 'cancelled' };
    if (err instanceof RunStop) return { status: err.runStatus, reason: err.reason, message: err.message };
    if (isProviderError(err) && err.code === 'E_PROVIDER_QUOTA') {
      // The provider's own words (scrubbed of the key) say which account and what it lacks.
      return { status: 'failed', reason: 'provider_quota', message: `${err.code}: ${err.message}. Top up the provider account or pay with another key, then start a change run to continue.` };
    }
    if (isProviderError(err) && !err.isRetryable) return { status: 'failed', reason: 'provider_error', message: `${err.code}: ${err.message}` };
    // A commit over the disk quota: retrying cannot help, the workspace is as full as it was.
    if (isAppError(err) && err.code === 'E_WORKSPACE_QUOTA') return { status: 'failed', reason: 'workspace_quota', message: err.message };
    // No engine, no image or no sandbox: a retry seconds later cannot cure it; the message has the fix.
    if (isSandboxDown(err)) return { status: 'failed', reason: 'sandbox_unavailable', message: `E_SANDBOX_UNAVAILABLE: ${(err as Error).message}` };
    this.deps.logger.error({ err, runId: job.payload.runId, attempt: job.attempts }, 'run attempt failed');
    if (job.attempts < job.maxAttempts) return undefined;
    const reason: StopReason = isProviderError(err) ? 'provider_error' : isAppError(err) && err.code === 'E_SANDBOX_UNAVAILABLE' ? 'sandbox_unavailable' : 'internal_error';
    if (reason === 'internal_error') reportError(err, { component: 'run-worker', runId: job.payload.runId, jobId: job.id });
    // The model and the client get the code, never a stack trace (the log above has it).
    return { status: 'failed', reason, message: isAppError(err) || isProviderError(err) ? `${(err as { code: string }).code}: ${(err as Error).message}` : 'internal error; see the server log' };
  }

  /** The run's last state, its run.finished event and the webhook delivery commit together. */
  private async finish(jobCtx: JobContext, runId: string, outcome: Outcome): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const { event } = await new RunsRepo(tx).transitionAsHolder(jobCtx.lease, runId, outcome.status, outcome.reason, {
        type: 'run.finished',
        data: { status: outcome.status, reason: outcome.reason, ...(outcome.message ? { message: outcome.message.slice(0, 1000) } : {}) },
      });
      await enqueueWebhook(tx, event, this.deps.webhookMaxAttempts);
    });
  }

  /** The job's lease ran out on its last attempt (its workers kept dying): the run fails for good. */
  private async exhausted(job: Job<RunJobPayload>): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const runs = new RunsRepo(tx);
      const run = await runs.getById(job.payload.runId);
      if (!run || isTerminal(run.status)) return;
      await runs.transition(run.id, 'failed', 'worker_lost');
      const event = await appendEvent(tx, { projectId: run.projectId, runId: run.id, type: 'run.finished', data: { status: 'failed', reason: 'worker_lost' } });
      await enqueueWebhook(tx, event, this.deps.webhookMaxAttempts);
    });
  }
}

/**
 * Before a (resumed) attempt: discard what a killed step left uncommitted, and if the workspace's
 * HEAD is not the last finished step's commit (the process died between a step's commit and its
 * database record), go back to that commit — as a new commit, so history is kept.
 */
async function restoreWorkspace(ws: Workspace, finished: Step[], runId: string): Promise<void> {
  await ws.history.resetToHead();
  const last = finished.at(-1);
  if (!last?.commitSha) return;
  if ((await ws.history.headSha()) === last.commitSha) return;
  await ws.history.revert(last.commitSha, `Resume run ${runId} from step ${last.seq}`, { 'Samokoder-Run': runId, 'Samokoder-Step': 'resume' });
}

