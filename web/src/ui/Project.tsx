import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { api, enc, itemOf, raw, type Me, type Project, type Run } from '../api.js';
import { useT } from '../i18n/index.js';
import { navigate } from '../router.js';
import { applyEvent, emptyRun, isActive, type RunView } from '../run-state.js';
import { session } from '../session.js';
import { ProjectStream, type StreamEvent, type StreamStatus } from '../stream.js';
import { ErrorNote, Field } from './common.js';
import { FilesView } from './Files.js';
import { HistoryView } from './History.js';
import { ChatView } from './Chat.js';
import { useKeys } from './Keys.js';
import { RunPicker, type RunChoice } from './NewRunForm.js';
import { EstimateHint } from './EstimateHint.js';
import { RunPanel } from './RunView.js';
import { RunScreenshot } from './RunScreenshot.js';
import { PreviewView } from './Preview.js';
import { PushButton } from './PushDialog.js';

type Tab = 'run' | 'files' | 'history' | 'preview' | 'chat';
const TABS: Tab[] = ['run', 'files', 'history', 'preview', 'chat'];

declare global {
  interface Window {
    /** For tests and debugging: the live stream of the open project. */
    __samokoder?: { dropSocket(): void; seq(): number; connections(): number };
  }
}

function reducer(state: RunView, action: StreamEvent | { type: '@bump' }): RunView {
  if (action.type === '@bump') return { ...state, filesVersion: state.filesVersion + 1 };
  return applyEvent(state, action as StreamEvent);
}

async function downloadZip(project: Project) {
  const res = await raw('GET', `/api/projects/${enc(project.id)}/export`);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${(project.name || 'project').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'project'}.zip`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ProjectPage({ id }: { id: string }) {
  const t = useT('project');
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState<unknown>(() => sessionStorage.getItem(`samokoder.generateError.${id}`));
  const [tab, setTab] = useState<Tab>('run');
  const [run, dispatch] = useReducer(reducer, undefined, emptyRun);
  const [connection, setConnection] = useState<StreamStatus>('connecting');
  const [cancelling, setCancelling] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const [me, setMe] = useState<Me | null>(null);
  const { keys } = useKeys();
  const [choice, setChoice] = useState<RunChoice | null>(null);
  const [change, setChange] = useState('');
  const [starting, setStarting] = useState(false);
  const tabRefs = useRef<(HTMLButtonElement | null)[]>([]);

  useEffect(() => {
    sessionStorage.removeItem(`samokoder.generateError.${id}`);
    api<unknown>('GET', `/api/projects/${enc(id)}`).then((b) => setProject(itemOf<Project>(b, 'project')), setError);
    api<Me>('GET', '/api/me').then(setMe, () => undefined);
    const token = session.token();
    if (!token) return;
    const stream = new ProjectStream({ projectId: id, token, since: 0, onEvent: dispatch, onStatus: setConnection });
    window.__samokoder = { dropSocket: () => stream.drop(), seq: () => stream.seq, connections: () => stream.opened };
    return () => {
      stream.close();
      delete window.__samokoder;
    };
  }, [id]);

  // llm.usage carries tokens; the run's cost (priced by the server) comes from the run itself.
  const [runCost, setRunCost] = useState<number | null>(null);
  const [runBudget, setRunBudget] = useState<Run['budget'] | undefined>(undefined);
  useEffect(() => {
    const runId = run.runId;
    if (!runId) return;
    const timer = setTimeout(() => {
      api<{ run: Run }>('GET', `/api/projects/${enc(id)}/runs/${enc(runId)}`).then(
        (b) => {
          setRunCost(b.run.usage.costMicroUsd);
          setRunBudget(b.run.budget);
        },
        () => undefined,
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [id, run.runId, run.outputTokens, run.status]);

  async function cancel() {
    if (!run.runId) return;
    setCancelling(true);
    try {
      await api('POST', `/api/projects/${enc(id)}/runs/${enc(run.runId)}/cancel`);
    } catch (err) {
      setError(err);
    } finally {
      setCancelling(false);
    }
  }

  async function startChange(e: Event) {
    e.preventDefault();
    if (!choice) return;
    setStarting(true);
    setError(null);
    try {
      await api('POST', `/api/projects/${enc(id)}/generate`, { ...choice, ...(change.trim() ? { prompt: change.trim() } : {}) });
      setChange('');
      setTab('run');
    } catch (err) {
      setError(err);
    } finally {
      setStarting(false);
    }
  }

  async function remove() {
    if (!project || !confirm(t('confirmDelete', { name: project.name }))) return;
    try {
      await api('DELETE', `/api/projects/${enc(id)}`);
      navigate('/');
    } catch (err) {
      setError(err);
    }
  }

  function onTabKey(e: KeyboardEvent, i: number) {
    const dir = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!dir) return;
    e.preventDefault();
    const next = (i + dir + TABS.length) % TABS.length;
    setTab(TABS[next]!);
    tabRefs.current[next]?.focus();
  }

  const active = isActive(run.status);
  return (
    <div class="page project">
      <div class="project-head">
        <div>
          <p class="crumbs">
            <a href="/">{t('projects')}</a> /
          </p>
          <h1 translate={false}>{project?.name ?? '…'}</h1>
          {project && (
            <p class="muted clamp" translate={false}>
              {project.prompt}
            </p>
          )}
        </div>
        <div class="actions">
          <button
            class="primary"
            disabled={!project || downloading}
            onClick={() => {
              if (!project) return;
              setDownloading(true);
              downloadZip(project)
                .catch(setError)
                .finally(() => setDownloading(false));
            }}
          >
            {downloading ? t('preparing') : t('download')}
          </button>
          {project && <PushButton projectId={project.id} />}
          <button class="ghost danger" onClick={() => void remove()} disabled={!project}>
            {t('delete')}
          </button>
        </div>
      </div>
      <ErrorNote error={error} />
      <div role="tablist" aria-label={t('views')} class="tabs">
        {TABS.map((name, i) => (
          <button
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            tabIndex={tab === name ? 0 : -1}
            ref={(el) => void (tabRefs.current[i] = el)}
            onClick={() => setTab(name)}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            {t(`tab.${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'run' && (
          <>
            <RunPanel run={runCost === null ? run : { ...run, costMicroUsd: Math.max(run.costMicroUsd, runCost) }} connection={connection} budget={runBudget} cancelling={cancelling} {...(active ? { onCancel: () => void cancel() } : {})} />
            <RunScreenshot projectId={id} run={run} />
            {!active && keys && (
              <section class="card" aria-labelledby="change-request">
                <h2 id="change-request">{run.runId ? t('askChange') : t('generate')}</h2>
                <form onSubmit={startChange}>
                  <Field label={run.runId ? t('whatChange') : t('promptOptional')}>
                    <textarea name="change" rows={3} placeholder={run.runId ? t('changePlaceholder') : ''} value={change} onInput={(e) => setChange(e.currentTarget.value)} />
                  </Field>
                  <RunPicker keys={keys} platformAllowed={Boolean(me?.plan.platformKeysAllowed)} onChange={setChoice} />
                  <EstimateHint projectId={id} prompt={change.trim() || (run.runId ? '' : (project?.prompt ?? ''))} choice={choice} />
                  <button type="submit" class="primary" disabled={starting || !choice || (Boolean(run.runId) && !change.trim())}>
                    {starting ? t('starting') : run.runId ? t('startChange') : t('generate')}
                  </button>
                </form>
              </section>
            )}
          </>
        )}
        {tab === 'files' && <FilesView projectId={id} version={run.filesVersion} />}
        {tab === 'chat' && project && keys && <ChatView project={project} keys={keys} me={me} onChangeStarted={() => setTab('run')} />}
        {tab === 'preview' && <PreviewView projectId={id} version={run.filesVersion} />}
        {tab === 'history' && <HistoryView projectId={id} version={run.filesVersion} onReverted={() => dispatch({ type: '@bump' })} />}
      </div>
    </div>
  );
}
