// The project's Chat tab: questions about the code, answered read-only by a model; the answer
// streams in as chat.delta events, and an answer can become a change request with one click.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc, raw, type ApiKey, type ChatTurn, type Me, type Project } from '../api.js';
import { formatDate, formatNumber, useT } from '../i18n/index.js';
import { session } from '../session.js';
import { ProjectStream, type StreamEvent } from '../stream.js';
import { ErrorNote, Field } from './common.js';
import { Markdown } from './Markdown.js';
import { RunPicker, type RunChoice } from './NewRunForm.js';

interface Pending {
  id: string;
  question: string;
  text: string;
  /** The tool the model called last (e.g. read_file src/app.ts), shown while it works. */
  tool: string | null;
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts (a LAN address over http is not one). */
function newId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function download(projectId: string, format: 'md' | 'json', name: string) {
  const res = await raw('GET', `/api/projects/${enc(projectId)}/chat/export?format=${format}`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'project'}-chat.${format}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ChatView(props: { project: Project; keys: ApiKey[]; me: Me | null; onChangeStarted(): void }) {
  const t = useT('chat');
  const id = props.project.id;
  const [turns, setTurns] = useState<ChatTurn[]>([]); // newest first, as the API pages them
  const [cursor, setCursor] = useState<string | null>(null);
  const [question, setQuestion] = useState('');
  const [choice, setChoice] = useState<RunChoice | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const pendingRef = useRef<Pending | null>(null);
  pendingRef.current = pending;

  async function load(more = false) {
    const page = await api<{ turns: ChatTurn[]; nextCursor: string | null }>('GET', `/api/projects/${enc(id)}/chat?limit=20${more && cursor ? `&cursor=${enc(cursor)}` : ''}`);
    setTurns((old) => (more ? [...old, ...page.turns] : page.turns));
    setCursor(page.nextCursor);
  }

  useEffect(() => {
    load().catch(setError);
    const token = session.token();
    if (!token) return;
    // Its own subscription from the project's current seq: only what happens from now on.
    const stream = new ProjectStream({
      projectId: id,
      token,
      since: props.project.lastEventSeq,
      onEvent: (e: StreamEvent) => {
        const data = e.data as { turnId?: string; text?: string; name?: string; path?: string; query?: string };
        const p = pendingRef.current;
        if (e.type === 'chat.cleared') void load().catch(setError);
        if (!p || data.turnId !== p.id) return;
        if (e.type === 'chat.delta') setPending({ ...p, text: p.text + (data.text ?? '') });
        if (e.type === 'chat.tool') setPending({ ...p, tool: [data.name, data.path ?? data.query].filter(Boolean).join(' ') });
      },
    });
    return () => stream.close();
  }, [id]);

  async function ask(e: Event) {
    e.preventDefault();
    if (!choice || !question.trim()) return;
    const p: Pending = { id: newId(), question: question.trim(), text: '', tool: null };
    setPending(p);
    setError(null);
    setQuestion('');
    try {
      const { turn } = await api<{ turn: ChatTurn }>('POST', `/api/projects/${enc(id)}/chat`, { ...choice, message: p.question, turnId: p.id });
      setTurns((old) => [turn, ...old]);
    } catch (err) {
      setError(err);
      await load().catch(() => undefined); // a failed answer is in the history, with its reason
    } finally {
      setPending(null);
    }
  }

  async function makeChange(turn: ChatTurn) {
    if (!choice) return;
    setBusy(turn.id);
    setError(null);
    try {
      await api('POST', `/api/projects/${enc(id)}/generate`, { ...choice, fromChatTurn: turn.id });
      props.onChangeStarted();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  async function clear() {
    if (!confirm(t('clearConfirm'))) return;
    try {
      await api('DELETE', `/api/projects/${enc(id)}/chat`);
      await load();
    } catch (err) {
      setError(err);
    }
  }

  const maxChars = props.me?.plan.chatMaxMessageChars ?? null;
  return (
    <section class="card chat" aria-labelledby="chat-title">
      <div class="chat-head">
        <h2 id="chat-title">{t('title')}</h2>
        <div class="actions">
          <button class="small" disabled={turns.length === 0} onClick={() => void download(id, 'md', props.project.name).catch(setError)}>
            {t('exportMd')}
          </button>
          <button class="small" disabled={turns.length === 0} onClick={() => void download(id, 'json', props.project.name).catch(setError)}>
            {t('exportJson')}
          </button>
          <button class="small ghost danger" disabled={turns.length === 0 || pending !== null} onClick={() => void clear()}>
            {t('clear')}
          </button>
        </div>
      </div>
      <p class="muted small">{t('intro')}</p>
      {cursor && (
        <button class="small ghost" onClick={() => void load(true).catch(setError)}>
          {t('older')}
        </button>
      )}
      <ol class="chat-turns" aria-live="polite">
        {[...turns].reverse().map((turn) => (
          <li key={turn.id} class="chat-turn">
            <p class="chat-q">{turn.question}</p>
            {turn.status === 'answered' ? <Markdown class="agent-text chat-a" text={turn.answer ?? ''} /> : <p class="error">{turn.status === 'failed' ? t('failed', { reason: turn.error ?? '' }) : t('answering')}</p>}
            <p class="muted small">
              {formatDate(turn.createdAt)} · {turn.provider}/{turn.model} · {t('tokens', { count: turn.usage.inputTokens + turn.usage.outputTokens, n: formatNumber(turn.usage.inputTokens + turn.usage.outputTokens) })} ·{' '}
              {t('lookups', { count: turn.usage.toolCalls, n: formatNumber(turn.usage.toolCalls) })}
              {turn.status === 'answered' && (
                <>
                  {' '}
                  <button class="small" disabled={!choice || busy !== null} onClick={() => void makeChange(turn)}>
                    {busy === turn.id ? t('starting') : t('makeChange')}
                  </button>
                </>
              )}
            </p>
          </li>
        ))}
        {pending && (
          <li class="chat-turn">
            <p class="chat-q">{pending.question}</p>
            {pending.text ? <Markdown class="agent-text chat-a" text={pending.text} /> : <div class="agent-text chat-a">{t('thinking')}</div>}
            {pending.tool && <p class="muted small">{t('looking', { what: pending.tool })}</p>}
          </li>
        )}
      </ol>
      <ErrorNote error={error} />
      <form onSubmit={ask}>
        <Field label={t('question')} hint={maxChars ? t('maxChars', { n: formatNumber(maxChars) }) : undefined}>
          <textarea name="question" rows={3} maxLength={maxChars ?? undefined} placeholder={t('placeholder')} value={question} onInput={(e) => setQuestion(e.currentTarget.value)} />
        </Field>
        <RunPicker keys={props.keys} platformAllowed={Boolean(props.me?.plan.platformKeysAllowed)} onChange={setChoice} />
        <button type="submit" class="primary" disabled={pending !== null || !choice || !question.trim()}>
          {pending ? t('asking') : t('ask')}
        </button>
      </form>
    </section>
  );
}
