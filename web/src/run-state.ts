// Folds the event stream into what the run view shows. Pure: (state, event) → state. Each case
// reads its event's data as the catalogue (protocol/event-catalogue.ts) types it.
import type { EventData } from '../../protocol/event-catalogue.js';
import type { StreamEvent } from './stream.js';

export interface ToolCallView {
  name: string;
  ok: boolean;
  /** The path or command the call named. */
  target?: string;
}

export interface CommandView {
  command: string;
  /** null while it runs. */
  exitCode: number | null;
  timedOut: boolean;
}

export interface StepView {
  key: string;
  kind: string;
  taskId?: string;
  taskTitle?: string;
  /** A fixer's round (0 for other steps). */
  round: number;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  text: string;
  tools: ToolCallView[];
  commands: CommandView[];
  summary?: string;
}

export interface TerminalLine {
  kind: 'command' | 'stdout' | 'stderr' | 'exit';
  text: string;
  /** On 'exit' lines: the view words them in the reader's language. */
  exitCode?: number;
  timedOut?: boolean;
}

export interface RunView {
  runId: string | null;
  status: string;
  reason: string | null;
  /** What went wrong, from run.finished. */
  message: string | null;
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
  message: null,
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
const MAX_STEP_ITEMS = 200;
const MAX_LOG = 1000;

/** Steps are keyed by their position in the run: `seq` on step.*, `stepSeq` on the events inside a step. */
const stepKey = (seq: number) => `step-${seq}`;

type StepFields = Pick<EventData<'step.started'>, 'kind' | 'taskId' | 'round'> & { taskTitle?: string | undefined };

function stepTitle(d: StepFields): string {
  const task = d.taskId ? `· ${d.taskId}${d.taskTitle ? `: ${d.taskTitle}` : ''}` : '';
  return [d.kind, task, d.round > 0 && d.kind === 'fixer' ? `· round ${d.round}` : ''].filter(Boolean).join(' ');
}

const exitText = (d: { exitCode: number; timedOut: boolean }) => `exit ${d.exitCode}${d.timedOut ? ' (timed out)' : ''}`;

function summary(e: StreamEvent): string {
  switch (e.type) {
    case 'step.started':
      return stepTitle(e.data);
    case 'step.finished':
      return [stepTitle(e.data), e.data.summary].filter(Boolean).join(' — ');
    case 'file.written':
      return e.data.path;
    case 'tool.called':
      return [e.data.name ?? '(no tool call)', e.data.path ?? e.data.command ?? '', e.data.ok ? '' : 'error'].filter(Boolean).join(' ');
    case 'command.started':
      return e.data.command;
    case 'command.finished':
      return exitText(e.data);
    case 'run.finished':
      return [e.data.status, e.data.reason].filter(Boolean).join(': ');
    default:
      return '';
  }
}

function pushTerminal(lines: TerminalLine[], add: TerminalLine[]): TerminalLine[] {
  const next = lines.concat(add);
  return next.length > MAX_TERMINAL_LINES ? next.slice(next.length - MAX_TERMINAL_LINES) : next;
}

const capped = <T,>(items: T[], item: T): T[] => (items.length >= MAX_STEP_ITEMS ? [...items.slice(1), item] : [...items, item]);

function updateStep(steps: StepView[], seq: number, f: (s: StepView) => StepView): StepView[] {
  const i = steps.findIndex((s) => s.key === stepKey(seq));
  if (i < 0) return steps;
  const copy = steps.slice();
  copy[i] = f(copy[i]!);
  return copy;
}

export function applyEvent(s: RunView, e: StreamEvent): RunView {
  let next: RunView = s;
  // A new run starts a fresh view; the log keeps every run's events.
  if ((e.type === 'run.queued' || e.type === 'run.started') && e.runId && e.runId !== s.runId) {
    next = { ...emptyRun(), log: s.log, filesVersion: s.filesVersion, runId: e.runId };
  }
  if ('seq' in e) {
    const log = next.log.length >= MAX_LOG ? next.log.slice(1) : next.log.slice();
    log.push({ seq: e.seq, type: e.type, at: e.at, summary: summary(e) });
    next = { ...next, log };
  }
  if (e.runId && next.runId && e.runId !== next.runId && e.type !== 'run.queued') return next;
  switch (e.type) {
    case 'run.queued':
      return { ...next, runId: e.runId, status: 'queued' };
    case 'run.started':
    case 'run.resumed':
      return { ...next, runId: e.runId, status: 'running' };
    case 'step.started': {
      const d = e.data;
      const key = stepKey(d.seq);
      // A resumed run starts its unfinished step again: the same key, running again.
      if (next.steps.some((x) => x.key === key)) return { ...next, steps: updateStep(next.steps, d.seq, (x) => ({ ...x, status: 'running' })) };
      const step: StepView = { key, kind: d.kind, ...(d.taskId ? { taskId: d.taskId } : {}), ...(d.taskTitle ? { taskTitle: d.taskTitle } : {}), round: d.round, status: 'running', text: '', tools: [], commands: [] };
      return { ...next, status: next.status === 'queued' || next.status === 'idle' ? 'running' : next.status, steps: [...next.steps, step] };
    }
    case 'step.finished': {
      const d = e.data;
      return { ...next, filesVersion: next.filesVersion + 1, steps: updateStep(next.steps, d.seq, (x) => ({ ...x, status: 'succeeded', ...(d.summary ? { summary: d.summary } : {}) })) };
    }
    case 'llm.delta': {
      const { text, stepSeq } = e.data;
      if (!text || stepSeq === undefined) return next; // a truncated delta may have lost its fields
      return { ...next, steps: updateStep(next.steps, stepSeq, (x) => ({ ...x, text: (x.text + text).slice(-MAX_STEP_TEXT) })) };
    }
    case 'llm.usage': {
      // The live cost meter: the run's cost so far, as the ledger priced its settled calls.
      const cost = e.data.runCostMicroUsd ?? next.costMicroUsd;
      return { ...next, inputTokens: next.inputTokens + e.data.inputTokens, outputTokens: next.outputTokens + e.data.outputTokens, costMicroUsd: Math.max(next.costMicroUsd, cost) };
    }
    case 'tool.called': {
      const d = e.data;
      const target = d.path ?? d.command;
      const call: ToolCallView = { name: d.name ?? '(no tool call)', ok: d.ok, ...(target ? { target } : {}) };
      return { ...next, steps: updateStep(next.steps, d.stepSeq, (x) => ({ ...x, tools: capped(x.tools, call) })) };
    }
    case 'file.written': {
      const { path } = e.data;
      return { ...next, filesVersion: next.filesVersion + 1, files: next.files.includes(path) ? next.files : [...next.files, path] };
    }
    case 'command.started': {
      const d = e.data;
      const command: CommandView = { command: d.command, exitCode: null, timedOut: false };
      return {
        ...next,
        terminal: pushTerminal(next.terminal, [{ kind: 'command', text: `$ ${d.command}` }]),
        steps: updateStep(next.steps, d.stepSeq, (x) => ({ ...x, commands: capped(x.commands, command) })),
      };
    }
    case 'command.output': {
      const { text } = e.data;
      if (!text) return next;
      return { ...next, terminal: pushTerminal(next.terminal, text.replace(/\n$/, '').split('\n').map((t) => ({ kind: 'stdout' as const, text: t }))) };
    }
    case 'command.finished': {
      const d = e.data;
      // The step's last command of that text still running is the one that finished.
      const finish = (x: StepView): StepView => {
        const i = x.commands.findLastIndex((c) => c.exitCode === null && c.command === d.command);
        if (i < 0) return { ...x, commands: capped(x.commands, { command: d.command, exitCode: d.exitCode, timedOut: d.timedOut }) };
        const commands = x.commands.slice();
        commands[i] = { ...commands[i]!, exitCode: d.exitCode, timedOut: d.timedOut };
        return { ...x, commands };
      };
      return { ...next, terminal: pushTerminal(next.terminal, [{ kind: 'exit', text: exitText(d), exitCode: d.exitCode, timedOut: d.timedOut }]), steps: updateStep(next.steps, d.stepSeq, finish) };
    }
    case 'run.finished': {
      const d = e.data;
      const steps = next.steps.map((x) => (x.status === 'running' ? { ...x, status: d.status === 'cancelled' ? ('cancelled' as const) : ('failed' as const) } : x));
      return { ...next, steps, status: d.status, reason: d.reason, message: d.message ?? null, filesVersion: next.filesVersion + 1 };
    }
    default:
      return next;
  }
}

export const isActive = (status: string) => status === 'queued' || status === 'running';
