import { useEffect, useState } from 'preact/hooks';
import { api, enc, listOf, type ApiKey } from '../api.js';
import { fmtDate } from '../format.js';
import { PROVIDER_NAMES, PROVIDERS, type Provider } from '../providers.js';
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
      setNotice(`Stored ${stored.masked}${stored.validation ? ' — the provider accepted it' : ''}.`);
      await reload();
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(k: ApiKey) {
    if (!confirm(`Delete the ${k.provider} key ${k.masked}?`)) return;
    try {
      await api('DELETE', `/api/user/api-keys/${enc(k.id)}`);
      setNotice(`Deleted ${k.masked}.`);
      await reload();
    } catch (err) {
      setFormError(err);
    }
  }

  return (
    <div class="page">
      <h1>API keys</h1>
      <p class="muted">Bring your own keys. They are encrypted at rest, shown only masked, and never sent into the sandbox.</p>
      <div class="grid-2">
        <section class="card" aria-labelledby="add-key">
          <h2 id="add-key">Add a key</h2>
          <form onSubmit={add}>
            <Field label="Provider">
              <select name="provider" value={provider} onChange={(e) => setProvider(e.currentTarget.value as Provider)}>
                {PROVIDERS.map((p) => (
                  <option value={p}>{PROVIDER_NAMES[p]}</option>
                ))}
              </select>
            </Field>
            {compatible && (
              <Field label="Base URL" hint="The server's OpenAI-style API root, e.g. http://localhost:11434/v1 for Ollama.">
                <input type="url" name="baseUrl" required placeholder="http://localhost:11434/v1" value={baseUrl} onInput={(e) => setBaseUrl(e.currentTarget.value)} />
              </Field>
            )}
            <Field label="API key" hint={compatible ? 'Local servers often accept any value, e.g. "ollama".' : undefined}>
              <input type="password" name="apiKey" autoComplete="off" required value={apiKey} onInput={(e) => setApiKey(e.currentTarget.value)} />
            </Field>
            <Field label="Label (optional)">
              <input type="text" name="label" maxLength={100} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
            </Field>
            <label class="check">
              <input type="checkbox" name="validate" checked={validate} onChange={(e) => setValidate(e.currentTarget.checked)} /> Check the key with one cheap call first
            </label>
            {validate && compatible && (
              <Field label="Model for the check" hint="Only for a server without a model list (GET /models).">
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
              {busy ? (validate ? 'Checking…' : 'Saving…') : 'Add key'}
            </button>
          </form>
        </section>
        <section class="card" aria-labelledby="your-keys">
          <h2 id="your-keys">Your keys</h2>
          <ErrorNote error={error} />
          {keys === null ? (
            <p class="muted">Loading…</p>
          ) : keys.length === 0 ? (
            <p class="muted">No keys yet. Add one to start a project.</p>
          ) : (
            <table class="keys">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Key</th>
                  <th scope="col">Label</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr data-key-id={k.id}>
                    <td>
                      {k.provider}
                      {k.baseUrl && <div class="muted small">{k.baseUrl}</div>}
                    </td>
                    <td>
                      <code>{k.masked}</code>
                      <div class="muted small">{fmtDate(k.createdAt)}</div>
                    </td>
                    <td>{k.label ?? ''}</td>
                    <td>
                      <button class="danger small" onClick={() => void remove(k)} aria-label={`Delete ${k.provider} key ${k.masked}`}>
                        Delete
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
