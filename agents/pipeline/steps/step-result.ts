import type { Queryable } from '../../../db/port.js';

/** What a step body returns; the step runner commits the workspace and persists this. */
export interface StepResult<T> {
  output: T;
  /** One line for the commit subject and the step.finished event. */
  summary: string;
  /** Extra writes in the step's final transaction (e.g. the run's plan). */
  persist?: (tx: Queryable) => Promise<void>;
}
