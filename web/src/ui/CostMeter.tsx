import { fmtCost } from '../format.js';
import { formatNumber, useT } from '../i18n/index.js';

export interface MeterBudget {
  maxTokens: number | null;
  maxCostMicroUsd: number | null;
}


/**
 * The run's live cost meter: tokens and cost as the server's llm.usage events report them (the
 * cost is the ledger's), and how much of the run's own budget that is, when it has one.
 */
export function CostMeter(props: { inputTokens: number; outputTokens: number; costMicroUsd: number; budget?: MeterBudget | undefined }) {
  const t = useT('budget');
  const tokens = props.inputTokens + props.outputTokens;
  const { maxTokens = null, maxCostMicroUsd = null } = props.budget ?? {};
  // The share of the budget used: the larger of the two, as either one ends the run.
  const shares = [maxTokens ? tokens / maxTokens : null, maxCostMicroUsd ? props.costMicroUsd / maxCostMicroUsd : null].filter((x): x is number => x !== null);
  const used = shares.length ? Math.min(1, Math.max(...shares)) : null;
  return (
    <div class="counter cost-meter" aria-label={t('meter.label')} data-cost-micro-usd={props.costMicroUsd}>
      <span title={t('meter.inputTitle')}>{t('meter.in', { count: props.inputTokens, n: formatNumber(props.inputTokens) })}</span>
      <span title={t('meter.outputTitle')}>{t('meter.out', { count: props.outputTokens, n: formatNumber(props.outputTokens) })}</span>
      <span title={t('meter.costTitle')}>{fmtCost(props.costMicroUsd)}</span>
      {used !== null && (
        <span class="budget-used" title={budgetTitle(t, maxTokens, maxCostMicroUsd)}>
          <progress max={1} value={used} aria-label={t('meter.budgetLabel')} /> {t('meter.ofBudget', { percent: formatNumber(used, { style: 'percent' }) })}
        </span>
      )}
    </div>
  );
}

function budgetTitle(t: (k: string, v?: Record<string, unknown>) => string, maxTokens: number | null, maxCostMicroUsd: number | null): string {
  const parts: string[] = [];
  if (maxTokens) parts.push(t('meter.budgetTokens', { count: maxTokens, n: formatNumber(maxTokens) }));
  if (maxCostMicroUsd) parts.push(t('meter.budgetCost', { cost: fmtCost(maxCostMicroUsd) }));
  return parts.join(' · ');
}
