import type { Migration } from './index.js';

/**
 * Why a run ended, in a sentence (what happened, what to do next), next to its `reason` code: the
 * REST body carries it, not only the run.finished event.
 */
export const runMessage: Migration = {
  version: 16,
  name: 'run-message',
  sql: /* sql */ `ALTER TABLE runs ADD COLUMN message text;`,
};
