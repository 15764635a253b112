import type { RunBudget } from '../../runs/role-models.js';
import type { RunContext } from './run-context.js';
import { RunStop } from './run-stop.js';

const usd = (micro: number): string => `$${(micro / 1e6).toFixed(micro < 10_000 ? 4 : 2)}`;

/** The server's stop-loss (SAMOKODER_RUN_TOKEN_BUDGET), checked before each model call. */
export function checkStopLoss(rc: Pick<RunContext, 'tokensUsed' | 'settings'>): void {
  if (rc.tokensUsed >= rc.settings.tokenBudget) {
    throw new RunStop('token_budget', `The run spent ${rc.tokensUsed} tokens, its stop-loss is ${rc.settings.tokenBudget} (SAMOKODER_RUN_TOKEN_BUDGET).`);
  }
}

/**
 * The run's own budget (generate's `budget`), against its totals as the ledger settled them. Checked
 * before each model call (a resumed run may have spent it already) and after each one settles, so
 * a run overshoots by at most the call that crossed it, and nothing of that call is acted on.
 */
export function checkRunBudget(rc: Pick<RunContext, 'tokensUsed' | 'costMicroUsdUsed'> & { run: { budget: RunBudget } }): void {
  const { maxTokens, maxCostMicroUsd } = rc.run.budget;
  const next = 'Its finished steps are kept: start a change run with a larger budget to continue, or a cheaper model (models per role).';
  if (maxTokens !== null && rc.tokensUsed >= maxTokens) {
    throw new RunStop('budget_exceeded', `The run spent ${rc.tokensUsed} tokens; its budget is ${maxTokens} tokens (budget.maxTokens). ${next}`);
  }
  if (maxCostMicroUsd !== null && rc.costMicroUsdUsed >= maxCostMicroUsd) {
    throw new RunStop('budget_exceeded', `The run cost ${usd(rc.costMicroUsdUsed)}; its budget is ${usd(maxCostMicroUsd)} (budget.maxCostUsd). ${next}`);
  }
}
