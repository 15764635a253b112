import { useEffect, useState } from 'preact/hooks';
import { api, enc, listOf, type Commit, type Diff } from '../api.js';
import { fmtDate, shortSha } from '../format.js';
import { useT } from '../i18n/index.js';
import { ErrorNote } from './common.js';

function PatchView({ patch }: { patch: string }) {
  const t = useT('history');
  return (
    <pre class="code diff" tabIndex={0} aria-label={t('unifiedDiff')}>
      {patch.split('\n').map((line) => {
        const cls = line.startsWith('+++') || line.startsWith('---') ? 'd-file' : line.startsWith('+') ? 'd-add' : line.startsWith('-') ? 'd-del' : line.startsWith('@@') ? 'd-hunk' : line.startsWith('diff ') ? 'd-file' : '';
        return <div class={cls}>{line || ' '}</div>;
      })}
    </pre>
  );
}

/** One end of the compare form: a commit picked by sha. */
function CommitSelect({ label, name, commits, value, onChange }: { label: string; name: string; commits: Commit[]; value: string; onChange(sha: string): void }) {
  return (
    <label>
      {label}{' '}
      <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {commits.map((c) => (
          <option value={c.sha}>
            {shortSha(c.sha)} {c.subject}
          </option>
        ))}
      </select>
    </label>
  );
}

export function HistoryView({ projectId, version, onReverted }: { projectId: string; version: number; onReverted(): void }) {
  const t = useT('history');
  const [commits, setCommits] = useState<Commit[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [diff, setDiff] = useState<Diff | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');
  const [reloadTick, setReloadTick] = useState(0);

  useEffect(() => {
    let live = true;
    api<unknown>('GET', `/api/projects/${enc(projectId)}/history`).then(
      (b) => {
        if (!live) return;
        const list = listOf<Commit>(b, 'commits', 'history', 'steps');
        setCommits(list);
        setError(null);
        if (list.length > 1 && !to) {
          setTo(list[0]!.sha);
          setFrom(list[1]!.sha);
        }
      },
      (err: unknown) => live && setError(err),
    );
    return () => void (live = false);
  }, [projectId, version, reloadTick]);

  async function showDiff(f: string, t: string) {
    setFrom(f);
    setTo(t);
    setError(null);
    try {
      setDiff(await api<Diff>('GET', `/api/projects/${enc(projectId)}/diff?from=${enc(f)}&to=${enc(t)}`));
    } catch (err) {
      setError(err);
    }
  }

  async function revert(c: Commit) {
    if (!confirm(t('confirmRevert', { subject: c.subject, sha: shortSha(c.sha) }))) return;
    setBusy(true);
    setError(null);
    try {
      await api('POST', `/api/projects/${enc(projectId)}/revert`, { to: c.sha });
      setNotice(t('reverted', { sha: shortSha(c.sha) }));
      setDiff(null);
      setReloadTick((n) => n + 1);
      onReverted();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="history">
      <ErrorNote error={error} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {commits === null ? (
        <p class="muted">{t('common:loading')}</p>
      ) : commits.length === 0 ? (
        <p class="muted">{t('none')}</p>
      ) : (
        <>
          <form
            class="compare"
            onSubmit={(e) => {
              e.preventDefault();
              if (from && to) void showDiff(from, to);
            }}
          >
            <CommitSelect label={t('from')} name="from" commits={commits} value={from} onChange={setFrom} />
            <CommitSelect label={t('to')} name="to" commits={commits} value={to} onChange={setTo} />
            <button type="submit">{t('compare')}</button>
          </form>
          <ol class="commits">
            {commits.map((c, i) => {
              const parent = commits[i + 1];
              return (
                <li data-sha={c.sha}>
                  <div>
                    <strong translate={false}>{c.subject}</strong>
                    <div class="muted small">
                      <code>{shortSha(c.sha)}</code> · {fmtDate(c.date)}
                      {c.trailers?.['Samokoder-Step'] && ` · ${c.trailers['Samokoder-Step']}`}
                    </div>
                  </div>
                  <div class="actions">
                    {parent && (
                      <button class="small" onClick={() => void showDiff(parent.sha, c.sha)}>
                        {t('diff')}
                      </button>
                    )}
                    {i > 0 && (
                      <button class="small" disabled={busy} onClick={() => void revert(c)} aria-label={t('revertTo', { subject: c.subject })}>
                        {t('revertHere')}
                      </button>
                    )}
                  </div>
                </li>
              );
            })}
          </ol>
        </>
      )}
      {diff && (
        <section class="card" aria-label={t('diff')}>
          <h3 class="plain mono">
            {shortSha(diff.from)} → {shortSha(diff.to)}
          </h3>
          <ul class="diff-files">
            {diff.files.map((f) => (
              <li>
                <code>{f.path}</code>{' '}
                {f.binary ? (
                  <span class="muted">{t('binary')}</span>
                ) : (
                  <>
                    <span class="add">+{f.additions}</span> <span class="del">−{f.deletions}</span>
                  </>
                )}
              </li>
            ))}
          </ul>
          {diff.patch ? <PatchView patch={diff.patch} /> : <p class="muted">{t('noChanges')}</p>}
          {diff.truncated && <p class="muted">{t('truncated')}</p>}
        </section>
      )}
    </div>
  );
}
