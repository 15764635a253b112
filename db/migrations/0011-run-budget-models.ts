import type { Migration } from './index.js';

/**
 * What a run may spend and which model each agent role uses, set when it is started:
 * budget_max_tokens / budget_max_cost_micro_usd (null: no budget of the user's; the server's
 * stop-loss and the plan's monthly limit still hold) and models (role → provider, model and the
 * key that pays for it; a role not listed uses the run's own provider and model). The two indexes
 * serve the run estimate's measured averages: the latest finished steps of each kind, and their
 * ledger rows.
 */
export const runBudgetModels: Migration = {
  version: 11,
  name: 'run-budget-models',
  sql: /* sql */ `
ALTER TABLE runs
  ADD COLUMN budget_max_tokens bigint CHECK (budget_max_tokens > 0),
  ADD COLUMN budget_max_cost_micro_usd bigint CHECK (budget_max_cost_micro_usd > 0),
  ADD COLUMN models jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX steps_succeeded_kind_idx ON steps (kind, finished_at DESC) WHERE status = 'succeeded';
CREATE INDEX usage_ledger_step_idx ON usage_ledger (step_id) WHERE step_id IS NOT NULL;
`,
};
