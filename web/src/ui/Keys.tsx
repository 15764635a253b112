import { useEffect, useState } from 'preact/hooks';
import { api, enc, listOf, type ApiKey } from '../api.js';
import { fmtDate } from '../format.js';
import { useT } from '../i18n/index.js';
import { PROVIDERS, providerName, type Provider } from '../providers.js';
import { ErrorNote, Field } from './common.js';

export function useKeys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = () =>
    api<unknown>('GET', '/api/user/api-keys').then(
      (b) => setKeys(listOf<ApiKey>(b, 'keys', 'apiKeys')),
      (err: unknown) => setError(err),
    );
  useEffect(() => void reload(), []);
  return { keys, error, reload };
}

export function KeysPage() {
  const t = useT('keys');
  const { keys, error, reload } = useKeys();
  const [provider, setProvider] = useState<Provider>('anthropic');
  const [apiKey, setApiKey] = useState('');
  const [label, setLabel] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [validate, setValidate] = useState(true);
  const [validateModel, setValidateModel] = useState('');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const compatible = provider === 'openai-compatible';

  async function add(e: Event) {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    setNotice('');
    try {
      const body: Record<string, unknown> = { provider, apiKey, validate };
      if (label.trim()) body.label = label.trim();
      if (baseUrl.trim()) body.baseUrl = baseUrl.trim();
      if (validate && validateModel.trim()) body.validateModel = validateModel.trim();
      const stored = await api<ApiKey>('POST', '/api/user/api-keys', body);
      setApiKey('');
      setLabel('');
      setNotice(stored.validation ? t('storedValidated', { masked: stored.masked }) : t('stored', { masked: stored.masked }));
      await reload();
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(k: ApiKey) {
    if (!confirm(t('confirmDelete', { provider: providerName(k.provider), masked: k.masked }))) return;
    try {
      await api('DELETE', `/api/user/api-keys/${enc(k.id)}`);
      setNotice(t('deleted', { masked: k.masked }));
      await reload();
    } catch (err) {
      setFormError(err);
    }
  }

  return (
    <div class="page">
      <h1>{t('title')}</h1>
      <p class="muted">{t('intro')}</p>
      <div class="grid-2">
        <section class="card" aria-labelledby="add-key">
          <h2 id="add-key">{t('add')}</h2>
          <form onSubmit={add}>
            <Field label={t('provider')}>
              <select name="provider" value={provider} onChange={(e) => setProvider(e.currentTarget.value as Provider)}>
                {PROVIDERS.map((p) => (
                  <option value={p}>{providerName(p)}</option>
                ))}
              </select>
            </Field>
            {compatible && (
              <Field label={t('baseUrl')} hint={t('baseUrlHint')}>
                <input type="url" name="baseUrl" required placeholder="http://localhost:11434/v1" value={baseUrl} onInput={(e) => setBaseUrl(e.currentTarget.value)} />
              </Field>
            )}
            <Field label={t('apiKey')} hint={compatible ? t('apiKeyHint') : undefined}>
              <input type="password" name="apiKey" autoComplete="off" required value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} />
            </Field>
            <Field label={t('label')}>
              <input type="text" name="label" maxLength={100} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
            </Field>
            <label class="check">
              <input type="checkbox" name="validate" checked={validate} onChange={(e) => setValidate(e.currentTarget.checked)} /> {t('validate')}
            </label>
            {validate && compatible && (
              <Field label={t('validateModel')} hint={t('validateModelHint')}>
                <input type="text" name="validateModel" value={validateModel} onInput={(e) => setValidateModel(e.currentTarget.value)} />
              </Field>
            )}
            <ErrorNote error={formError} />
            {notice && (
              <p class="notice" role="status">
                {notice}
              </p>
            )}
            <button type="submit" class="primary" disabled={busy}>
              {busy ? (validate ? t('checking') : t('saving')) : t('addButton')}
            </button>
          </form>
        </section>
        <section class="card" aria-labelledby="your-keys">
          <h2 id="your-keys">{t('yours')}</h2>
          <ErrorNote error={error} />
          {keys === null ? (
            <p class="muted">{t('common:loading')}</p>
          ) : keys.length === 0 ? (
            <p class="muted">{t('none')}</p>
          ) : (
            <table class="keys">
              <thead>
                <tr>
                  <th scope="col">{t('col.provider')}</th>
                  <th scope="col">{t('col.key')}</th>
                  <th scope="col">{t('col.label')}</th>
                  <th scope="col">
                    <span class="sr-only">{t('col.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr data-key-id={k.id}>
                    <td>
                      {providerName(k.provider)}
                      {k.baseUrl && <div class="muted small">{k.baseUrl}</div>}
                    </td>
                    <td>
                      <code>{k.masked}</code>
                      <div class="muted small">{fmtDate(k.createdAt)}</div>
                    </td>
                    <td translate={false}>{k.label ?? ''}</td>
                    <td>
                      <button class="danger small" onClick={() => void remove(k)} aria-label={t('deleteKey', { provider: providerName(k.provider), masked: k.masked })}>
                        {t('delete')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </div>
  );
}
