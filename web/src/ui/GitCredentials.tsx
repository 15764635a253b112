import { useCallback, useEffect, useState } from 'preact/hooks';
import type { GitCredential, GitCredentialKind } from '../../../protocol/gitio-types.js';
import { api, enc } from '../api.js';
import { formatDate, useT } from '../i18n/index.js';
import { ErrorNote, Field } from './common.js';

/** The caller's git credentials (masked), reloadable after a change. */
export function useGitCredentials(): { credentials: GitCredential[] | null; reload: () => void; error: unknown } {
  const [credentials, setCredentials] = useState<GitCredential[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(() => {
    api<{ credentials: GitCredential[] }>('GET', '/api/user/git-credentials').then(
      (b) => setCredentials(b.credentials),
      (err: unknown) => (setError(err), setCredentials([])),
    );
  }, []);
  useEffect(reload, [reload]);
  return { credentials, reload, error };
}

/** A select of the stored credentials, "none" first. */
export function CredentialSelect({ credentials, value, onChange }: { credentials: GitCredential[]; value: string; onChange: (id: string) => void }) {
  const t = useT('gitio');
  return (
    <Field label={t('credentials.choose')}>
      <select name="credentialId" value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{t('credentials.none')}</option>
        {credentials.map((c) => (
          <option value={c.id}>
            {c.label ?? c.kind} · {c.masked}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Add a token or an SSH key, list and delete them: the secret is sent once and never shown again. */
export function GitCredentialsManager({ credentials, reload }: { credentials: GitCredential[]; reload: () => void }) {
  const t = useT('gitio');
  const [kind, setKind] = useState<GitCredentialKind>('token');
  const [secret, setSecret] = useState('');
  const [username, setUsername] = useState('');
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function add(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { kind, secret: kind === 'token' ? secret.trim() : secret, ...(label.trim() ? { label: label.trim() } : {}), ...(kind === 'token' && username.trim() ? { username: username.trim() } : {}) };
      await api('POST', '/api/user/git-credentials', body);
      setSecret('');
      setLabel('');
      setUsername('');
      reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: string) {
    setError(null);
    try {
      await api('DELETE', `/api/user/git-credentials/${enc(id)}`);
      reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <details class="git-credentials">
      <summary>{t('credentials.title')}</summary>
      {credentials.length === 0 ? (
        <p class="muted small">{t('credentials.empty')}</p>
      ) : (
        <ul class="projects">
          {credentials.map((c) => (
            <li>
              <code>{c.masked}</code> <span class="muted small">{c.label ?? c.kind}</span>
              <div class="muted small">{c.lastUsedAt ? t('credentials.lastUsed', { date: formatDate(c.lastUsedAt) }) : t('credentials.neverUsed')}</div>
              <button type="button" class="ghost danger small" onClick={() => void remove(c.id)}>
                {t('credentials.delete')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add}>
        <Field label={t('credentials.kind')}>
          <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as GitCredentialKind)}>
            <option value="token">{t('credentials.token')}</option>
            <option value="ssh-key">{t('credentials.sshKey')}</option>
          </select>
        </Field>
        <Field label={kind === 'token' ? t('credentials.secret') : t('credentials.key')} hint={t('credentials.secretHint')}>
          {kind === 'token' ? (
            <input type="password" name="secret" autocomplete="off" required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
          ) : (
            <textarea name="secret" rows={4} required spellcheck={false} autocomplete="off" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
          )}
        </Field>
        {kind === 'token' && (
          <Field label={t('credentials.username')} hint={t('credentials.usernameHint')}>
            <input type="text" name="username" maxLength={100} value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          </Field>
        )}
        <Field label={t('credentials.label')}>
          <input type="text" name="label" maxLength={100} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy || !secret.trim()}>
          {busy ? t('credentials.adding') : t('credentials.add')}
        </button>
      </form>
    </details>
  );
}
