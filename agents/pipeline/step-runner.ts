import type { Step, StepKind } from '../../db/repos/steps.js';
import { StepsRepo } from '../../db/repos/steps.js';
import type { RunContext, StepRef } from './run-context.js';
import { CancelRequested } from './run-stop.js';
import type { StepResult } from './steps/step-result.js';
import { RunsRepo } from '../../db/repos/runs.js';

export interface StepSpec {
  seq: number;
  kind: StepKind;
  taskId?: string;
  round?: number;
}

/**
 * Runs steps exactly once across attempts. A step whose seq already succeeded (an earlier
 * attempt) is skipped and its stored output returned, so a resumed run spends no tokens on it.
 * Otherwise: `step.started`, the body, one git commit (message names run, step and task; trailers
 * carry them), then — in ONE transaction fenced by the job lease — the step's output and commit,
 * the body's extra writes and `step.finished`. Only then does the next step start.
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
    // A cancel whose NOTIFY was missed (another node's restart, a dropped connection) is seen here.
    if (await new RunsRepo(rc.db).isCancelRequested(rc.run.id)) throw new CancelRequested();
    const step = await rc.db.transaction(async (tx) => {
      await rc.assertLease(tx);
      const s = await new StepsRepo(tx).start({ runId: rc.run.id, seq: spec.seq, kind: spec.kind, taskId: spec.taskId ?? null, round: spec.round ?? 0 });
      await rc.events.append('step.started', { seq: s.seq, kind: s.kind, taskId: s.taskId, round: s.round, stepId: s.id, attempt: this.attempt }, tx);
      return s;
    });
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
    const finished = await rc.db.transaction(async (tx) => {
      await rc.assertLease(tx);
      const s = await new StepsRepo(tx).finish(step.id, { output: result.output, commitSha });
      await result.persist?.(tx);
      await rc.events.append('step.finished', { seq: s.seq, kind: s.kind, taskId: s.taskId, round: s.round, commitSha, summary: result.summary }, tx);
      return s;
    });
    this.finished.set(spec.seq, finished);
    return result.output;
  }

  /**
   * A step that ended in error is marked failed/cancelled — unless the job itself was taken away
   * (worker stopping, lease lost): then nothing is written and the next holder redoes the step.
   */
  private async recordFailure(step: Step, err: unknown): Promise<void> {
    const reason = this.rc.signal.reason;
    if (this.rc.signal.aborted && !(reason instanceof CancelRequested)) return;
    const cancelled = reason instanceof CancelRequested;
    const message = err instanceof Error ? err.message : String(err);
    await this.rc.db
      .transaction(async (tx) => {
        await this.rc.assertLease(tx);
        await new StepsRepo(tx).fail(step.id, cancelled ? 'cancelled' : message, cancelled ? 'cancelled' : 'failed');
      })
      .catch((e: unknown) => this.rc.logger.warn({ err: e, stepId: step.id }, 'could not record the step failure'));
  }
}
