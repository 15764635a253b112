import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiKey } from '../api.js';
import { useT } from '../i18n/index.js';
import { PROVIDERS, isProvider, providerName, type Provider } from '../providers.js';
import { Field } from './common.js';
import { BudgetFields, type BudgetChoice } from './BudgetFields.js';
import { ModelPicker } from './ModelPicker.js';

export interface RunChoice {
  provider: Provider;
  model: string;
  keyId?: string;
  budget?: BudgetChoice;
}

const LAST = 'samokoder.lastRunChoice';

/** Provider, key and model pickers; remembers the last choice. */
export function RunPicker(props: { keys: ApiKey[]; platformAllowed: boolean; onChange(c: RunChoice | null): void }) {
  const t = useT('picker');
  const saved = useMemo(() => {
    try {
      return JSON.parse(localStorage.getItem(LAST) ?? 'null') as RunChoice | null;
    } catch {
      return null;
    }
  }, []);
  const keyProviders = PROVIDERS.filter((p) => props.keys.some((k) => k.provider === p));
  const initialProvider: Provider = saved && isProvider(saved.provider) && keyProviders.includes(saved.provider) ? saved.provider : (keyProviders[0] ?? 'anthropic');
  const [provider, setProvider] = useState<Provider>(initialProvider);
  const keysFor = props.keys.filter((k) => k.provider === provider);
  const [keyId, setKeyId] = useState<string>(saved?.keyId && keysFor.some((k) => k.id === saved.keyId) ? saved.keyId : (keysFor[0]?.id ?? ''));
  const [model, setModel] = useState(saved?.provider === provider ? saved.model : '');
  const [budget, setBudget] = useState<BudgetChoice | undefined>(undefined);

  useEffect(() => {
    const ks = props.keys.filter((k) => k.provider === provider);
    if (!ks.some((k) => k.id === keyId)) setKeyId(ks[0]?.id ?? '');
  }, [provider, props.keys]);

  useEffect(() => {
    const usable = Boolean(model.trim()) && (Boolean(keyId) || props.platformAllowed);
    const choice: RunChoice = { provider, model: model.trim(), ...(keyId ? { keyId } : {}) };
    if (usable) localStorage.setItem(LAST, JSON.stringify(choice));
    // The budget is per run: sent, never remembered.
    props.onChange(usable ? { ...choice, ...(budget ? { budget } : {}) } : null);
  }, [provider, model, keyId, budget, props.platformAllowed]);

  return (
    <div class="picker">
      <Field label={t('provider')}>
        <select
          name="provider"
          value={provider}
          onChange={(e) => {
            const p = e.currentTarget.value as Provider;
            setProvider(p);
            setModel('');
          }}
        >
          {PROVIDERS.map((p) => (
            <option value={p}>
              {providerName(p)}
              {keyProviders.includes(p) ? '' : props.platformAllowed ? ` (${t('platformKeyShort')})` : ` (${t('noKeyShort')})`}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('key')}>
        <select name="keyId" value={keyId} onChange={(e) => setKeyId(e.currentTarget.value)}>
          {keysFor.map((k) => (
            <option value={k.id}>
              {k.label ? `${k.label} · ` : ''}
              {k.masked}
              {k.baseUrl ? ` · ${k.baseUrl}` : ''}
            </option>
          ))}
          {props.platformAllowed && <option value="">{t('platformKey')}</option>}
          {!props.platformAllowed && keysFor.length === 0 && <option value="">{t('noKey', { provider: providerName(provider) })}</option>}
        </select>
      </Field>
      <ModelPicker provider={provider} keyId={keyId} value={model} onChange={setModel} />
      <BudgetFields onChange={setBudget} />
    </div>
  );
}
