import { useEffect, useState } from 'preact/hooks';
import type { Preview, PreviewShare, ProjectEnvVars } from '../../../protocol/preview-types.js';
import { api, enc } from '../api.js';
import { formatDate, useT } from '../i18n/index.js';
import { ErrorNote, Field } from './common.js';

/**
 * The Preview tab: the app running on the preview origin (never this page's origin: the iframe
 * cannot read our storage), reload, open in a new tab, a share link with a lifetime, the app's
 * output; and the project's environment variables (names only, values are write-only).
 */
export function PreviewView(props: { projectId: string; version: number }) {
  const t = useT('preview');
  const base = `/api/projects/${enc(props.projectId)}/preview`;
  const [preview, setPreview] = useState<Preview | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [frameKey, setFrameKey] = useState(0);
  const [ttl, setTtl] = useState(60);
  const [share, setShare] = useState<PreviewShare | null>(null);

  async function act(method: 'GET' | 'POST' | 'DELETE') {
    setBusy(true);
    setError(null);
    try {
      setPreview(await api<Preview>(method, base));
      setFrameKey((k) => k + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  // The status on open, and again when a run or a revert changed the files (the preview restarts).
  useEffect(() => void act('GET'), [props.projectId, props.version]);

  async function createShare() {
    setError(null);
    try {
      setShare(await api<PreviewShare>('POST', `${base}/share`, { ttlMinutes: ttl }));
    } catch (err) {
      setError(err);
    }
  }

  async function revokeShare() {
    if (!share) return;
    try {
      await api('DELETE', `${base}/share/${enc(share.id)}`);
      setShare(null);
    } catch (err) {
      setError(err);
    }
  }

  const running = preview?.status === 'running' && preview.url;
  return (
    <section class="card" aria-label={t('title')}>
      <h2>{t('title')}</h2>
      <p>{t(`status.${preview?.status ?? 'stopped'}`)}</p>
      <div class="actions">
        <button class="primary" disabled={busy} onClick={() => void act('POST')}>
          {busy ? t('starting') : running ? t('restart') : t('start')}
        </button>
        {running && (
          <>
            <button onClick={() => void act('GET')}>{t('reload')}</button>
            <a class="button" href={preview.url!} target="_blank" rel="noopener noreferrer">
              {t('openTab')}
            </a>
            <button class="ghost danger" disabled={busy} onClick={() => void act('DELETE')}>
              {t('stop')}
            </button>
          </>
        )}
      </div>
      <ErrorNote error={error} />
      {running && (
        <iframe
          key={frameKey}
          title={t('frameTitle')}
          src={preview.url!}
          sandbox="allow-scripts allow-forms allow-same-origin allow-popups allow-modals"
          style={{ width: '100%', height: '480px', border: '1px solid #ddd' }}
        />
      )}
      {running && (
        <div class="share">
          <h3>{t('share.title')}</h3>
          <Field label={t('share.ttl')}>
            <input type="number" min={1} value={ttl} onInput={(e) => setTtl(Number(e.currentTarget.value))} />
          </Field>
          <button onClick={() => void createShare()}>{t('share.create')}</button>
          {share?.url && (
            <p>
              <input readOnly value={share.url} aria-label={t('share.link')} style={{ width: '100%' }} />
              {t('share.expires', { when: formatDate(share.expiresAt) })}{' '}
              <button class="ghost danger" onClick={() => void revokeShare()}>
                {t('share.revoke')}
              </button>
            </p>
          )}
        </div>
      )}
      {preview?.output ? (
        <details open={preview.status === 'failed'}>
          <summary>{t('output')}</summary>
          <pre class="output">{preview.output}</pre>
        </details>
      ) : null}
      <EnvVarsPanel projectId={props.projectId} />
    </section>
  );
}

/** The project's variables: names with a delete button, and a form to set one (values never come back). */
function EnvVarsPanel(props: { projectId: string }) {
  const t = useT('preview');
  const path = `/api/projects/${enc(props.projectId)}/env`;
  const [vars, setVars] = useState<ProjectEnvVars['vars']>([]);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<ProjectEnvVars>('GET', path).then((r) => setVars(r.vars), setError);
  }, [path]);

  async function save(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      setVars((await api<ProjectEnvVars>('PUT', path, { vars: { [name.trim()]: value } })).vars);
      setName('');
      setValue('');
    } catch (err) {
      setError(err);
    }
  }

  async function remove(n: string) {
    try {
      await api('DELETE', `${path}/${enc(n)}`);
      setVars((v) => v.filter((x) => x.name !== n));
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div class="env-vars">
      <h3>{t('env.title')}</h3>
      <p class="hint">{t('env.hint')}</p>
      <p>{t('env.count', { count: vars.length })}</p>
      <ul>
        {vars.map((v) => (
          <li key={v.name}>
            <code>{v.name}</code>{' '}
            <button class="ghost danger" aria-label={t('env.deleteNamed', { name: v.name })} onClick={() => void remove(v.name)}>
              {t('env.delete')}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => void save(e)}>
        <Field label={t('env.name')}>
          <input value={name} pattern="[A-Za-z_][A-Za-z0-9_]*" required onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label={t('env.value')}>
          <input type="password" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={!name.trim()}>
          {t('env.set')}
        </button>
      </form>
      <ErrorNote error={error} />
    </div>
  );
}
