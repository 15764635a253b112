import { useRef, useState } from 'preact/hooks';
import type { PushResult } from '../../../protocol/gitio-types.js';
import { api, ApiError, enc } from '../api.js';
import { useT } from '../i18n/index.js';
import { ErrorNote, Field } from './common.js';
import { CredentialSelect, GitCredentialsManager, useGitCredentials } from './GitCredentials.js';
import { HostKeyField, isSshUrl } from './HostKeyField.js';

/** The project view's "Push to git" button and its dialog: remote, branch, credential, force. */
export function PushButton({ projectId }: { projectId: string }) {
  const t = useT('gitio');
  const dialog = useRef<HTMLDialogElement>(null);
  const { credentials, reload } = useGitCredentials();
  const [remoteUrl, setRemoteUrl] = useState('');
  const [branch, setBranch] = useState('main');
  const [credentialId, setCredentialId] = useState('');
  const [hostKey, setHostKey] = useState('');
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<PushResult | null>(null);

  async function push(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const body = { remoteUrl: remoteUrl.trim(), branch: branch.trim(), ...(credentialId ? { credentialId } : {}), ...(isSshUrl(remoteUrl) && hostKey.trim() ? { hostKey: hostKey.trim() } : {}), ...(force ? { force: true } : {}) };
      const res = await api<{ push: PushResult }>('POST', `/api/projects/${enc(projectId)}/push`, body);
      setDone(res.push);
      setForce(false);
      reload(); // the credential's last use changed
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'E_PUSH_REJECTED' ? new ApiError(err.status, err.code, t('push.rejected')) : err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button class="ghost" onClick={() => dialog.current?.showModal()}>
        {t('push.open')}
      </button>
      <dialog ref={dialog} aria-labelledby={`push-title-${projectId}`} class="card">
        <h2 id={`push-title-${projectId}`}>{t('push.title')}</h2>
        <form onSubmit={push}>
          <Field label={t('push.remoteUrl')} hint={t('push.remoteUrlHint')}>
            <input type="text" name="remoteUrl" required spellcheck={false} value={remoteUrl} onInput={(e) => setRemoteUrl(e.currentTarget.value)} />
          </Field>
          <Field label={t('push.branch')}>
            <input type="text" name="branch" required maxLength={255} spellcheck={false} value={branch} onInput={(e) => setBranch(e.currentTarget.value)} />
          </Field>
          {credentials && <CredentialSelect credentials={credentials} value={credentialId} onChange={setCredentialId} />}
          <HostKeyField url={remoteUrl} value={hostKey} onChange={setHostKey} />
          <label>
            <input type="checkbox" name="force" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> {t('push.force')}
          </label>
          <p class="muted small">{t('push.forceHint')}</p>
          <ErrorNote error={error} />
          {done && (
            <p class="notice" role="status">
              {t('push.done', { sha: done.sha.slice(0, 12), branch: done.branch })}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="primary" disabled={busy || !remoteUrl.trim() || !branch.trim()}>
              {busy ? t('push.busy') : t('push.submit')}
            </button>
            <button type="button" class="ghost" onClick={() => dialog.current?.close()}>
              {t('push.close')}
            </button>
          </div>
        </form>
        {credentials && <GitCredentialsManager credentials={credentials} reload={reload} />}
      </dialog>
    </>
  );
}
