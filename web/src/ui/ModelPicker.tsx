import { useEffect, useState } from 'preact/hooks';
import type { CatalogueModel, ModelCatalogue, ModelPrices } from '../../../protocol/model-catalogue.js';
import { api } from '../api.js';
import { formatNumber, useT, type T } from '../i18n/index.js';
import type { Provider } from '../providers.js';
import { ErrorNote, Field } from './common.js';

/** The option that switches to typing a model name the catalogue does not have. */
const OTHER = '\u0000other';

/**
 * The run's model, picked from the catalogue (GET /api/models: the operator's models and what the
 * chosen key's provider listed, never retired ones) with each model's price; or typed, for a
 * model the catalogue does not know. A value not offered is replaced by the provider's
 * recommended coder (the run uses one model for every agent), else its first model.
 */
export function ModelPicker(props: { provider: Provider; keyId: string; value: string; onChange(model: string): void }) {
  const t = useT('models');
  const [catalogue, setCatalogue] = useState<ModelCatalogue | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [typing, setTyping] = useState(false);

  useEffect(() => {
    api<ModelCatalogue>('GET', '/api/models').then(setCatalogue, setError);
  }, []);

  const models = (catalogue?.providers.find((p) => p.id === props.provider)?.models ?? []).filter(
    // A model some key listed is offered with that key; catalogue models no key was asked about, with any.
    (m) => m.keyIds.length === 0 || !props.keyId || m.keyIds.includes(props.keyId),
  );
  const selected = models.find((m) => m.id === props.value);

  useEffect(() => setTyping(false), [props.provider]);
  // A model that is not offered (none yet, another provider's, or one remembered from an earlier
  // visit and retired since) is replaced by the default, unless the user is typing one.
  useEffect(() => {
    if (!catalogue || typing || selected) return;
    const pick = models.find((m) => m.recommended.coder === 'strong') ?? models.find((m) => m.recommended.coder === 'cheap') ?? models[0];
    if (pick) props.onChange(pick.id);
    else setTyping(true); // nothing to offer: the name is typed (what was there stays)
  }, [catalogue, props.provider, props.keyId, props.value, typing]);

  if (error) return <ErrorNote error={error} />;
  if (!catalogue) return <p class="muted">{t('loading')}</p>;
  const custom = typing;

  return (
    <div class="model-picker">
      <Field label={t('label')}>
        <select
          name="model"
          value={custom ? OTHER : props.value}
          onChange={(e) => {
            const v = e.currentTarget.value;
            setTyping(v === OTHER);
            props.onChange(v === OTHER ? '' : v);
          }}
        >
          {models.map((m) => (
            <option value={m.id} data-model={m.id}>
              {optionText(t, m)}
            </option>
          ))}
          <option value={OTHER}>{t('other')}</option>
        </select>
      </Field>
      {custom ? (
        <Field label={t('customLabel')} hint={models.length === 0 ? t('empty') : t('customHint')}>
          <input type="text" name="customModel" required value={props.value} onInput={(e) => props.onChange(e.currentTarget.value.trim())} />
        </Field>
      ) : (
        selected && <ModelFacts t={t} model={selected} />
      )}
    </div>
  );
}

function usd(n: number): string {
  return formatNumber(n, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: n < 1 ? 4 : 2 });
}

function priceText(t: T, p: ModelPrices | null): string {
  return p ? t('price', { input: usd(p.input), output: usd(p.output) }) : t('noPrice');
}

function optionText(t: T, m: CatalogueModel): string {
  const pick = m.recommended.coder === 'strong' ? ` · ${t('recommended')}` : m.recommended.coder === 'cheap' ? ` · ${t('recommendedCheap')}` : '';
  return `${m.name} — ${priceText(t, m.prices)}${pick}`;
}

/** What the chosen model costs and can do, under the field. */
function ModelFacts({ t, model }: { t: T; model: CatalogueModel }) {
  const facts = [
    priceText(t, model.prices),
    model.prices?.cachedInput != null ? t('cached', { price: usd(model.prices.cachedInput) }) : '',
    model.contextWindow ? t('context', { count: model.contextWindow, tokens: formatNumber(model.contextWindow) }) : '',
    model.maxOutputTokens ? t('output', { count: model.maxOutputTokens, tokens: formatNumber(model.maxOutputTokens) }) : '',
    model.toolCalling === false ? t('noTools') : '',
    model.source === 'key' ? t('fromKey') : '',
  ].filter(Boolean);
  return (
    <p class="hint" data-model-facts={model.id}>
      <code>{model.id}</code> · {facts.join(' · ')}
    </p>
  );
}
