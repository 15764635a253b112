// Folds the event stream into what the run view shows. Pure: (state, event) → state.
import type { StreamEvent } from './stream.js';

export interface StepView {
  key: string;
  kind: string;
  title: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled' | string;
  text: string;
  error?: string;
}

export interface TerminalLine {
  kind: 'command' | 'stdout' | 'stderr' | 'exit';
  text: string;
}

export interface RunView {
  runId: string | null;
  status: string;
  reason: string | null;
  steps: StepView[];
  files: string[];
  terminal: TerminalLine[];
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  /** Durable events as received (seq, type) for the event log. */
  log: { seq: number; type: string; at: string; summary: string }[];
  /** Bumps on every file.written / step.finished: views that list files reload. */
  filesVersion: number;
}

export const emptyRun = (): RunView => ({
  runId: null,
  status: 'idle',
  reason: null,
  steps: [],
  files: [],
  terminal: [],
  inputTokens: 0,
  outputTokens: 0,
  costMicroUsd: 0,
  log: [],
  filesVersion: 0,
});

const MAX_TERMINAL_LINES = 2000;
const MAX_STEP_TEXT = 20_000;
const MAX_LOG = 1000;

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Steps are keyed by their position in the run: `seq` on step.*, `stepSeq` on the events inside a step. */
function stepKey(d: Record<string, unknown>, fallback: string): string {
  const seq = d.stepSeq ?? d.seq;
  return typeof seq === 'number' ? `step-${seq}` : str(d.stepId) || fallback;
}

function stepTitle(d: Record<string, unknown>): string {
  const kind = str(d.kind) || str(d.step) || 'step';
  const task = str(d.title) || str(d.taskTitle) || str(d.taskId);
  const round = num(d.round);
  return [kind, task && `· ${task}`, round > 0 && kind === 'fixer' ? `· round ${round}` : ''].filter(Boolean).join(' ');
}

function summary(e: StreamEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'step.started':
    case 'step.finished':
      return [stepTitle(d), str(d.status)].filter(Boolean).join(' ');
    case 'file.written':
      return str(d.path);
    case 'tool.called':
      return [str(d.name) || str(d.tool), str(d.path), d.ok === false ? 'error' : ''].filter(Boolean).join(' ');
    case 'command.started':
      return str(d.command);
    case 'command.finished':
      return `exit ${String(d.exitCode ?? d.code ?? '?')}`;
    case 'run.finished':
      return [str(d.status), str(d.reason)].filter(Boolean).join(': ');
    default:
      return '';
  }
}

function pushTerminal(lines: TerminalLine[], add: TerminalLine[]): TerminalLine[] {
  const next = lines.concat(add);
  return next.length > MAX_TERMINAL_LINES ? next.slice(next.length - MAX_TERMINAL_LINES) : next;
}

function updateStep(steps: StepView[], key: string, kind: string, f: (s: StepView) => StepView): StepView[] {
  let i = steps.findIndex((s) => s.key === key);
  if (i < 0) for (let j = steps.length - 1; j >= 0; j--) if (steps[j]!.status === 'running' && (!kind || steps[j]!.kind === kind)) { i = j; break; }
  if (i < 0) return steps;
  const copy = steps.slice();
  copy[i] = f(copy[i]!);
  return copy;
}

export function applyEvent(s: RunView, e: StreamEvent): RunView {
  const d = e.data;
  let next: RunView = s;
  // A new run starts a fresh view; the log keeps every run's events.
  if ((e.type === 'run.queued' || e.type === 'run.started') && e.runId && e.runId !== s.runId) {
    next = { ...emptyRun(), log: s.log, filesVersion: s.filesVersion, runId: e.runId };
  }
  if (typeof e.seq === 'number') {
    const log = next.log.length >= MAX_LOG ? next.log.slice(1) : next.log.slice();
    log.push({ seq: e.seq, type: e.type, at: e.at, summary: summary(e) });
    next = { ...next, log };
  }
  if (e.runId && next.runId && e.runId !== next.runId && e.type !== 'run.queued') return next;
  switch (e.type) {
    case 'run.queued':
      return { ...next, runId: e.runId, status: 'queued' };
    case 'run.started':
      return { ...next, runId: e.runId, status: 'running' };
    case 'step.started': {
      const kind = str(d.kind) || str(d.step);
      const key = stepKey(d, `${kind}-${next.steps.length}`);
      // A resumed run starts its unfinished step again: the same key, running again.
      if (next.steps.some((x) => x.key === key)) return { ...next, steps: updateStep(next.steps, key, kind, (x) => ({ ...x, status: 'running' })) };
      return { ...next, status: next.status === 'queued' || next.status === 'idle' ? 'running' : next.status, steps: [...next.steps, { key, kind, title: stepTitle(d), status: 'running', text: '' }] };
    }
    case 'step.finished': {
      const kind = str(d.kind) || str(d.step);
      const status = str(d.status) || 'succeeded';
      const error = str(d.error) || str(d.reason);
      return { ...next, filesVersion: next.filesVersion + 1, steps: updateStep(next.steps, stepKey(d, ''), kind, (x) => ({ ...x, status, ...(error ? { error } : {}) })) };
    }
    case 'llm.delta': {
      const text = str(d.text) || str(d.delta) || str(d.content);
      if (!text) return next;
      const key = stepKey(d, '');
      return { ...next, steps: updateStep(next.steps, key, str(d.kind), (x) => ({ ...x, text: (x.text + text).slice(-MAX_STEP_TEXT) })) };
    }
    case 'llm.usage': {
      const u = (d.usage && typeof d.usage === 'object' ? d.usage : d) as Record<string, unknown>;
      return {
        ...next,
        inputTokens: next.inputTokens + num(u.inputTokens ?? u.input),
        outputTokens: next.outputTokens + num(u.outputTokens ?? u.output),
        costMicroUsd: next.costMicroUsd + num(u.costMicroUsd ?? u.cost),
      };
    }
    case 'file.written': {
      const path = str(d.path);
      if (!path) return next;
      return { ...next, filesVersion: next.filesVersion + 1, files: next.files.includes(path) ? next.files : [...next.files, path] };
    }
    case 'command.started':
      return { ...next, terminal: pushTerminal(next.terminal, [{ kind: 'command', text: `$ ${str(d.command)}` }]) };
    case 'command.output': {
      const text = str(d.text) || str(d.chunk) || str(d.output) || str(d.data);
      if (!text) return next;
      const kind = str(d.stream) === 'stderr' ? 'stderr' : 'stdout';
      return { ...next, terminal: pushTerminal(next.terminal, text.replace(/\n$/, '').split('\n').map((t) => ({ kind, text: t }))) };
    }
    case 'command.finished': {
      const code = d.exitCode ?? d.code;
      const extra = d.timedOut ? ' (timed out)' : '';
      return { ...next, terminal: pushTerminal(next.terminal, [{ kind: 'exit', text: `exit ${String(code ?? '?')}${extra}` }]) };
    }
    case 'run.finished': {
      const steps = next.steps.map((x) => (x.status === 'running' ? { ...x, status: str(d.status) === 'cancelled' ? 'cancelled' : 'failed' } : x));
      return { ...next, steps, status: str(d.status) || 'finished', reason: str(d.reason) || null, filesVersion: next.filesVersion + 1 };
    }
    default:
      return next;
  }
}

export const isActive = (status: string) => status === 'queued' || status === 'running';
