import { useEffect, useState } from 'preact/hooks';
import { useT } from '../i18n/index.js';
import { Field } from './common.js';

export interface BudgetChoice {
  maxTokens?: number;
  maxCostUsd?: number;
}

/** The run's optional budget (generate's `budget`): empty fields mean no budget of its own. */
export function BudgetFields(props: { onChange(b: BudgetChoice | undefined): void }) {
  const t = useT('budget');
  const [tokens, setTokens] = useState('');
  const [cost, setCost] = useState('');
  useEffect(() => {
    const maxTokens = Number.parseInt(tokens, 10);
    const maxCostUsd = Number.parseFloat(cost);
    const b: BudgetChoice = { ...(maxTokens > 0 ? { maxTokens } : {}), ...(maxCostUsd > 0 ? { maxCostUsd } : {}) };
    props.onChange(Object.keys(b).length ? b : undefined);
  }, [tokens, cost]);
  return (
    <fieldset class="budget-fields">
      <legend>{t('fields.legend')}</legend>
      <Field label={t('fields.maxTokens')} hint={t('fields.maxTokensHint')}>
        <input type="number" name="budgetMaxTokens" min={1} step={1000} inputMode="numeric" value={tokens} onInput={(e) => setTokens(e.currentTarget.value)} />
      </Field>
      <Field label={t('fields.maxCost')} hint={t('fields.maxCostHint')}>
        <input type="number" name="budgetMaxCostUsd" min={0.01} step={0.01} inputMode="decimal" value={cost} onInput={(e) => setCost(e.currentTarget.value)} />
      </Field>
    </fieldset>
  );
}
