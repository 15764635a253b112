import { useEffect, useState } from 'preact/hooks';
import { api, enc, itemOf, listOf, type Me, type Project } from '../api.js';
import { fmtDate } from '../format.js';
import { useT } from '../i18n/index.js';
import { navigate } from '../router.js';
import { ErrorNote, Field } from './common.js';
import { ImportProject } from './ImportProject.js';
import { useKeys } from './Keys.js';
import { RunPicker, type RunChoice } from './NewRunForm.js';

function nameFrom(prompt: string, untitled: string): string {
  const words = prompt.trim().split(/\s+/).slice(0, 6).join(' ');
  return (words.length > 60 ? words.slice(0, 60) : words) || untitled;
}

export function ProjectsPage({ me }: { me: Me | null }) {
  const t = useT('projects');
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { keys } = useKeys();
  const [prompt, setPrompt] = useState('');
  const [name, setName] = useState('');
  const [choice, setChoice] = useState<RunChoice | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<unknown>(null);

  useEffect(() => {
    api<unknown>('GET', '/api/projects').then(
      (b) => setProjects(listOf<Project>(b, 'projects')),
      (err: unknown) => (setError(err), setProjects([])),
    );
  }, []);

  async function create(e: Event) {
    e.preventDefault();
    if (!choice) return;
    setBusy(true);
    setFormError(null);
    try {
      const project = itemOf<Project>(await api('POST', '/api/projects', { ...(name.trim() ? { name: name.trim() } : {}), prompt: prompt.trim() }), 'project');
      try {
        await api('POST', `/api/projects/${enc(project.id)}/generate`, { prompt: prompt.trim(), ...choice });
      } catch (err) {
        // The project exists: show the error on its page, where the user can retry.
        sessionStorage.setItem(`samokoder.generateError.${project.id}`, err instanceof Error ? err.message : String(err));
      }
      navigate(`/projects/${enc(project.id)}`);
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  }

  const platformAllowed = Boolean(me?.plan.platformKeysAllowed);
  return (
    <div class="page">
      <h1>{t('title')}</h1>
      <div class="grid-2">
        <section class="card" aria-labelledby="new-project">
          <h2 id="new-project">{t('new')}</h2>
          <form onSubmit={create}>
            <Field label={t('prompt')} hint={t('promptHint')}>
              <textarea
                name="prompt"
                rows={5}
                required
                maxLength={20000}
                placeholder={t('promptPlaceholder')}
                value={prompt}
                onInput={(e) => setPrompt(e.currentTarget.value)}
              />
            </Field>
            <Field label={t('name')}>
              <input type="text" name="name" maxLength={100} placeholder={prompt ? nameFrom(prompt, t('untitled')) : ''} value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </Field>
            {keys && <RunPicker keys={keys} platformAllowed={platformAllowed} onChange={setChoice} />}
            {keys && keys.length === 0 && !platformAllowed && (
              <p class="notice">
                {t('addKeyFirst')} <a href="/keys">{t('keysPage')}</a>
              </p>
            )}
            <ErrorNote error={formError} />
            <button type="submit" class="primary" disabled={busy || !choice || !prompt.trim()}>
              {busy ? t('starting') : t('create')}
            </button>
          </form>
        </section>
        <ImportProject />
        <section class="card" aria-labelledby="your-projects">
          <h2 id="your-projects">{t('yours')}</h2>
          <ErrorNote error={error} />
          {projects === null ? (
            <p class="muted">{t('common:loading')}</p>
          ) : projects.length === 0 ? (
            <p class="muted">{t('none')}</p>
          ) : (
            <ul class="projects">
              {projects.map((p) => (
                <li>
                  <a href={`/projects/${enc(p.id)}`} translate={false}>
                    {p.name}
                  </a>
                  <div class="muted small clamp" translate={false}>
                    {p.prompt}
                  </div>
                  <div class="muted small">{fmtDate(p.createdAt)}</div>
                </li>
              ))}
            </ul>
          )}
          {me?.plan.maxProjects != null && (
            <p class="muted small">
              {t('quota', { count: me.plan.maxProjects, used: me.usage.projects, plan: me.plan.name })}
            </p>
          )}
        </section>
      </div>
    </div>
  );
}
