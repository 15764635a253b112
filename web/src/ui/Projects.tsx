import { useEffect, useState } from 'preact/hooks';
import { api, enc, itemOf, listOf, type Me, type Project } from '../api.js';
import { fmtDate } from '../format.js';
import { navigate } from '../router.js';
import { ErrorNote, Field } from './common.js';
import { ImportProject } from './ImportProject.js';
import { useKeys } from './Keys.js';
import { RunPicker, type RunChoice } from './NewRunForm.js';

function nameFrom(prompt: string): string {
  const words = prompt.trim().split(/\s+/).slice(0, 6).join(' ');
  return (words.length > 60 ? words.slice(0, 60) : words) || 'Untitled';
}

export function ProjectsPage({ me }: { me: Me | null }) {
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
      <h1>Projects</h1>
      <div class="grid-2">
        <section class="card" aria-labelledby="new-project">
          <h2 id="new-project">New project</h2>
          <form onSubmit={create}>
            <Field label="What should it build?" hint="Describe the app: what it does, the stack if you care, and how to test it.">
              <textarea
                name="prompt"
                rows={5}
                required
                maxLength={20000}
                placeholder="A CLI todo app in Node.js with tests"
                value={prompt}
                onInput={(e) => setPrompt(e.currentTarget.value)}
              />
            </Field>
            <Field label="Name (optional)">
              <input type="text" name="name" maxLength={100} placeholder={prompt ? nameFrom(prompt) : ''} value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </Field>
            {keys && <RunPicker keys={keys} platformAllowed={platformAllowed} onChange={setChoice} />}
            {keys && keys.length === 0 && !platformAllowed && (
              <p class="notice">
                Add a key on the <a href="/keys">API keys</a> page first.
              </p>
            )}
            <ErrorNote error={formError} />
            <button type="submit" class="primary" disabled={busy || !choice || !prompt.trim()}>
              {busy ? 'Starting…' : 'Create and generate'}
            </button>
          </form>
        </section>
        <ImportProject />
        <section class="card" aria-labelledby="your-projects">
          <h2 id="your-projects">Your projects</h2>
          <ErrorNote error={error} />
          {projects === null ? (
            <p class="muted">Loading…</p>
          ) : projects.length === 0 ? (
            <p class="muted">No projects yet.</p>
          ) : (
            <ul class="projects">
              {projects.map((p) => (
                <li>
                  <a href={`/projects/${enc(p.id)}`}>{p.name}</a>
                  <div class="muted small clamp">{p.prompt}</div>
                  <div class="muted small">{fmtDate(p.createdAt)}</div>
                </li>
              ))}
            </ul>
          )}
          {me?.plan.maxProjects != null && (
            <p class="muted small">
              {me.usage.projects} of {me.plan.maxProjects} projects on the {me.plan.name} plan.
            </p>
          )}
        </section>
      </div>
    </div>
  );
}
