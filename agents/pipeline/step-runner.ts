import type { Queryable } from '../../db/port.js';
import type { Step, StepKind } from '../../db/repos/steps.js';
import { StepsRepo } from '../../db/repos/steps.js';
import type { RunContext, StepRef } from './run-context.js';
import { CancelRequested, RunStop } from './run-stop.js';
import type { StepResult } from './steps/step-result.js';

export interface StepSpec {
  seq: number;
  kind: StepKind;
  taskId?: string;
  /** Sent in step.started so clients can name the step without reading the plan. */
  taskTitle?: string;
  round?: number;
}

/**
 * Runs steps exactly once across attempts. A step whose seq already succeeded (an earlier
 * attempt) is skipped and its stored output returned, so a resumed run spends no tokens on it.
 * Otherwise: the step's start (one statement, fenced by the job lease: the step row and
 * `step.started`, or CancelRequested if the run's cancel was asked for), the body, one git commit
 * (message names run, step and task; trailers carry them), then its finish — the step's output and
 * commit and `step.finished` in one statement fenced by the lease, in one transaction with the
 * body's extra writes when it has any. Only then does the next step start.
 */
export class StepRunner {
  private readonly finished: Map<number, Step>;

  constructor(
    private readonly rc: RunContext,
    finishedSteps: Step[],
    private readonly attempt: number,
  ) {
    this.finished = new Map(finishedSteps.map((s) => [s.seq, s]));
  }

  async run<T>(spec: StepSpec, body: (step: StepRef) => Promise<StepResult<T>>): Promise<T> {
    const done = this.finished.get(spec.seq);
    if (done) return done.output as T;
    const { rc } = this;
    const step = await new StepsRepo(rc.db).start(
      rc.lease,
      { runId: rc.run.id, seq: spec.seq, kind: spec.kind, taskId: spec.taskId ?? null, round: spec.round ?? 0 },
      { attempt: this.attempt, ...(spec.taskTitle ? { taskTitle: spec.taskTitle } : {}) },
    );
    // A cancel whose NOTIFY was missed (another node's restart, a dropped connection) is seen here.
    if (step === 'cancel_requested') throw new CancelRequested();
    let result: StepResult<T>;
    try {
      result = await body(step);
    } catch (err) {
      await this.recordFailure(step, err);
      throw err;
    }
    const task = spec.taskId ? ` ${spec.taskId}` : spec.round ? ` round ${spec.round}` : '';
    const commitSha = await rc.workspace.history.commitAll(`${spec.kind}${task}: ${result.summary}\n\nRun ${rc.run.id}, step ${spec.seq}.`, {
      'Samokoder-Run': rc.run.id,
      'Samokoder-Step': spec.kind,
      'Samokoder-Step-Seq': String(spec.seq),
      ...(spec.taskId ? { 'Samokoder-Task': spec.taskId } : {}),
      ...(spec.round ? { 'Samokoder-Round': String(spec.round) } : {}),
    });
    const finish = (db: Queryable): Promise<Step> => new StepsRepo(db).finish(rc.lease, step.id, { output: result.output, commitSha }, { summary: result.summary });
    const { persist } = result;
    const finished = persist
      ? await rc.db.transaction(async (tx) => {
          const s = await finish(tx);
          await persist(tx);
          return s;
        })
      : await finish(rc.db);
    this.finished.set(spec.seq, finished);
    return result.output;
  }

  /**
   * A step that ended in error is marked failed/cancelled — unless the job itself was taken away
   * (worker stopping, lease lost): then nothing is written and the next holder redoes the step.
   * An abort that ends the run (a RunStop reason, e.g. the time budget) fails the step with its message.
   */
  private async recordFailure(step: Step, err: unknown): Promise<void> {
    const reason: unknown = this.rc.signal.reason;
    if (this.rc.signal.aborted && !(reason instanceof CancelRequested) && !(reason instanceof RunStop)) return;
    const cancelled = reason instanceof CancelRequested;
    const cause = reason instanceof RunStop ? reason : err;
    const message = cause instanceof Error ? cause.message : String(cause);
    await new StepsRepo(this.rc.db)
      .fail(this.rc.lease, step.id, cancelled ? 'cancelled' : message, cancelled ? 'cancelled' : 'failed')
      .catch((e: unknown) => this.rc.logger.warn({ err: e, stepId: step.id }, 'could not record the step failure'));
  }
}
