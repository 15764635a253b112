import { AppError } from '../../core/errors.js';

/** Why a run ended other than `succeeded` (stored as runs.reason and sent in run.finished). */
export type StopReason =
  | 'verify_failed'
  | 'token_budget'
  | 'budget_exceeded'
  | 'time_budget'
  | 'limit_exceeded'
  | 'invalid_tool_calls'
  | 'stuck'
  | 'max_turns'
  | 'output_truncated'
  | 'provider_error'
  | 'provider_quota'
  | 'sandbox_unavailable'
  | 'workspace_quota'
  | 'cancelled'
  | 'worker_lost'
  | 'internal_error';

/**
 * Thrown inside the pipeline to end the run for good (no job retry): the run becomes `failed`
 * (or `cancelled`) with `reason`, and everything written so far stays in the workspace.
 */
export class RunStop extends AppError {
  constructor(
    readonly reason: StopReason,
    message: string,
    readonly runStatus: 'failed' | 'cancelled' = 'failed',
  ) {
    super(runStatus === 'cancelled' ? 'E_CANCELLED' : 'E_RUN_STOPPED', message, { details: { reason } });
    this.name = 'RunStop';
  }
}

/** The abort reason when the run's cancel was requested (NOTIFY run_cancel or seen at a step boundary). */
export class CancelRequested extends Error {
  constructor() {
    super('the run was cancelled');
    this.name = 'CancelRequested';
  }
}

/**
 * The abort reason when the run's wall-clock budget (the plan's max_run_seconds, counted from the
 * run's first start) is spent: the in-flight model call and sandbox command are aborted and the
 * run ends `failed` with reason `time_budget`, its finished steps kept.
 */
export class TimeBudgetExceeded extends RunStop {
  constructor(
    readonly planName: string,
    readonly maxRunSeconds: number,
  ) {
    super(
      'time_budget',
      `The run used its wall-clock budget of ${maxRunSeconds} s (the ${planName} plan's max_run_seconds, counted from the run's first start). ` +
        'Its finished steps are kept: start a change run to continue from them, split the prompt into smaller changes, or move to a plan with a longer budget.',
    );
    this.name = 'TimeBudgetExceeded';
  }
}
