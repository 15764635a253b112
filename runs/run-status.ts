/** The run state machine: a run's statuses and the moves between them. */

export type RunKind = 'generate' | 'change';
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The statuses of a run that holds its project: at most one run per project is in one of them. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

/**
 * Legal moves, by target status. `running → running` is the resume of a run whose worker died:
 * the new worker marks it running again (started_at is kept).
 */
export const ALLOWED_FROM: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: [],
  running: ['queued', 'running'],
  succeeded: ['running'],
  failed: ['queued', 'running'],
  cancelled: ['queued', 'running'],
};

export const isTerminal = (s: RunStatus): boolean => s === 'succeeded' || s === 'failed' || s === 'cancelled';
