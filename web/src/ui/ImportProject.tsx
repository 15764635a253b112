import { useState } from 'preact/hooks';
import type { ImportResult } from '../../../protocol/gitio-types.js';
import { api, enc } from '../api.js';
import { useT } from '../i18n/index.js';
import { navigate } from '../router.js';
import { ErrorNote, Field } from './common.js';
import { CredentialSelect, GitCredentialsManager, useGitCredentials } from './GitCredentials.js';
import { HostKeyField, isSshUrl } from './HostKeyField.js';

type Source = 'git' | 'zip';

/** The projects page's import card: a git URL (with an optional branch and credential) or a ZIP file. */
export function ImportProject() {
  const t = useT('gitio');
  const { credentials, reload } = useGitCredentials();
  const [source, setSource] = useState<Source>('git');
  const [gitUrl, setGitUrl] = useState('');
  const [ref, setRef] = useState('');
  const [credentialId, setCredentialId] = useState('');
  const [hostKey, setHostKey] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // What the import left out (symlinks, submodules, .git/, node_modules/): shown before moving on.
  const [left, setLeft] = useState<{ projectId: string; skipped: string[] } | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setLeft(null);
    try {
      let body: unknown;
      if (source === 'zip') {
        const form = new FormData();
        if (name.trim()) form.append('name', name.trim());
        form.append('file', file!, file!.name);
        body = form;
      } else {
        body = { gitUrl: gitUrl.trim(), ...(ref.trim() ? { ref: ref.trim() } : {}), ...(credentialId ? { credentialId } : {}), ...(isSshUrl(gitUrl) && hostKey.trim() ? { hostKey: hostKey.trim() } : {}), ...(name.trim() ? { name: name.trim() } : {}) };
      }
      const result = await api<ImportResult>('POST', '/api/projects/import', body);
      if (result.import.skipped.length > 0) setLeft({ projectId: result.project.id, skipped: result.import.skipped });
      else navigate(`/projects/${enc(result.project.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const ready = source === 'git' ? gitUrl.trim().length > 0 : file !== null;
  return (
    <section class="card" aria-labelledby="import-project">
      <h2 id="import-project">{t('import.title')}</h2>
      <p class="muted small">{t('import.intro')}</p>
      <div role="radiogroup" class="actions">
        {(['git', 'zip'] as const).map((s) => (
          <label>
            <input type="radio" name="source" value={s} checked={source === s} onChange={() => setSource(s)} /> {s === 'git' ? t('import.fromGit') : t('import.fromZip')}
          </label>
        ))}
      </div>
      <form onSubmit={submit}>
        {source === 'git' ? (
          <>
            <Field label={t('import.gitUrl')} hint={t('import.gitUrlHint')}>
              <input type="text" name="gitUrl" required spellcheck={false} placeholder="https://github.com/owner/repo.git" value={gitUrl} onInput={(e) => setGitUrl(e.currentTarget.value)} />
            </Field>
            <Field label={t('import.ref')} hint={t('import.refHint')}>
              <input type="text" name="ref" maxLength={255} spellcheck={false} value={ref} onInput={(e) => setRef(e.currentTarget.value)} />
            </Field>
            {credentials && <CredentialSelect credentials={credentials} value={credentialId} onChange={setCredentialId} />}
            <HostKeyField url={gitUrl} value={hostKey} onChange={setHostKey} />
          </>
        ) : (
          <Field label={t('import.zipFile')} hint={t('import.zipHint')}>
            <input type="file" name="file" accept=".zip,application/zip" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
          </Field>
        )}
        <Field label={t('import.name')}>
          <input type="text" name="name" maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <ErrorNote error={error} />
        {left && (
          <p class="notice" role="status">
            {t('import.skipped', { count: left.skipped.length, list: left.skipped.join(', ') })} <a href={`/projects/${enc(left.projectId)}`}>{t('import.open')}</a>
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || !ready}>
          {busy ? t('import.busy') : t('import.submit')}
        </button>
      </form>
      {credentials && <GitCredentialsManager credentials={credentials} reload={reload} />}
    </section>
  );
}
