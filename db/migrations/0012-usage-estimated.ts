import type { Migration } from './index.js';

/**
 * Calls whose provider reported no usage are billed at an estimate (usage/estimated-usage.ts):
 * the ledger row says so, and a run counts its estimated calls, so the user can tell reported
 * tokens from estimated ones in the run's usage and in /api/usage.
 */
export const usageEstimated: Migration = {
  version: 12,
  name: 'usage-estimated',
  sql: /* sql */ `
ALTER TABLE usage_ledger ADD COLUMN estimated boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN estimated_calls integer NOT NULL DEFAULT 0;
`,
};
