import { useEffect, useState } from 'preact/hooks';
import { enc, raw } from '../api.js';
import { useT } from '../i18n/index.js';
import type { RunView as RunState } from '../run-state.js';

/**
 * The page verify's browser check loaded, for the run on screen. Fetched with the session's token
 * (an <img src> could not send it), again after each `browser.checked` (a fix round takes a new one).
 * Nothing shows for runs without a check (no web app, check off).
 */
export function RunScreenshot(props: { projectId: string; run: RunState }) {
  const t = useT('run');
  const { projectId, run } = props;
  const checks = run.log.filter((l) => l.type === 'browser.checked').length;
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!run.runId || checks === 0) return setUrl(null);
    let objectUrl: string | null = null;
    let live = true;
    raw('GET', `/api/projects/${enc(projectId)}/runs/${enc(run.runId)}/screenshot`)
      .then((res) => res.blob())
      .then((blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      // 404: the check took no picture (the app never listened).
      .catch(() => live && setUrl(null));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [projectId, run.runId, checks]);
  if (!url) return null;
  return (
    <section class="card" aria-label={t('screenshot.label')}>
      <h3>{t('screenshot.title')}</h3>
      <img src={url} alt={t('screenshot.alt')} style={{ maxWidth: '100%', border: '1px solid #ddd' }} />
    </section>
  );
}
