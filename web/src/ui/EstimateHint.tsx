import { useEffect, useState } from 'preact/hooks';
import type { RunEstimate } from '../../../protocol/api-types.js';
import { api, enc } from '../api.js';
import { formatNumber, useT } from '../i18n/index.js';
import type { RunChoice } from './NewRunForm.js';

const usd = (n: number): string => formatNumber(n, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: n < 0.1 ? 4 : 2 });

/** What a run with this prompt and model would spend (POST …/estimate), shown before it starts. */
export function EstimateHint(props: { projectId: string; prompt: string; choice: RunChoice | null }) {
  const t = useT('budget');
  const [estimate, setEstimate] = useState<RunEstimate | null>(null);
  const { choice, prompt } = props;
  useEffect(() => {
    setEstimate(null);
    if (!choice || !prompt.trim()) return;
    // Typing changes the prompt on every key: ask once it rests.
    const timer = setTimeout(() => {
      api<RunEstimate>('POST', `/api/projects/${enc(props.projectId)}/estimate`, { prompt: prompt.trim(), provider: choice.provider, model: choice.model }).then(setEstimate, () => undefined);
    }, 500);
    return () => clearTimeout(timer);
  }, [props.projectId, prompt, choice?.provider, choice?.model]);
  if (!estimate) return null;
  const { tokens, costUsd } = estimate;
  return (
    <p class="hint estimate" data-tokens-high={tokens.high}>
      {t('estimate.tokens', { low: formatNumber(tokens.low), high: formatNumber(tokens.high), count: tokens.high })}{' '}
      {costUsd ? t('estimate.cost', { low: usd(costUsd.low), high: usd(costUsd.high) }) : t('estimate.unpriced')}
    </p>
  );
}
