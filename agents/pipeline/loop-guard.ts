import type { ToolCall } from '../../llm/providers/port.js';

export interface LoopGuardSettings {
  /** The same call with the same result this many times: stuck. */
  repeats: number;
  /** This many turns in a row without a workspace change: stuck. */
  idleTurns: number;
}

/**
 * Tells a tool loop that goes nowhere from one that works slowly. Real models sometimes call
 * `list_files` and `read_file` forever, or rerun the same failing command: without this the loop
 * spends every turn it is allowed (and the user's tokens) and the step looks done.
 *
 * Progress is a workspace change: a successful write or edit, or a command whose output is new
 * (a command run again with the same output changed nothing the model can see).
 */
export class LoopGuard {
  private readonly seen = new Map<string, number>();
  private idle = 0;
  private readonly tried: string[] = [];

  constructor(private readonly settings: LoopGuardSettings) {}

  /** Records one call and its result; returns why the loop is stuck, or undefined. */
  observe(call: ToolCall, result: { content: string; isError: boolean; written?: unknown }): string | undefined {
    const key = `${call.name}\u0000${canonical(call.arguments)}\u0000${result.content}`;
    const times = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, times);
    this.tried.push(describe(call, result.isError));
    if (times >= this.settings.repeats) return `the same ${call.name} call returned the same result ${times} times`;
    return undefined;
  }

  /** Ends a turn: `changed` says whether any of its calls changed the workspace. */
  endTurn(changed: boolean): string | undefined {
    this.idle = changed ? 0 : this.idle + 1;
    if (this.idle >= this.settings.idleTurns) return `${this.idle} model turns in a row changed nothing in the workspace`;
    return undefined;
  }

  /** What was tried, newest last, in one short line (for run.finished). */
  summary(max = 8): string {
    const recent = this.tried.slice(-max);
    return `${this.tried.length > max ? '… ' : ''}${recent.join(', ')}`;
  }

  /** Whether a command's (name, arguments, output) was seen before this call: for progress. */
  isNew(call: ToolCall, content: string): boolean {
    return (this.seen.get(`${call.name}\u0000${canonical(call.arguments)}\u0000${content}`) ?? 0) <= 1;
  }
}

/** Arguments compared as JSON values, so key order and spacing do not hide a repeat. */
function canonical(raw: string): string {
  try {
    return JSON.stringify(sortKeys(JSON.parse(raw)));
  } catch {
    return raw.trim();
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}

/** `read_file src/a.js`, `run_command "npm test" (error)`: what the user reads in the reason. */
function describe(call: ToolCall, isError: boolean): string {
  let detail = '';
  try {
    const a = JSON.parse(call.arguments) as { path?: unknown; command?: unknown };
    if (typeof a.path === 'string') detail = ` ${a.path.slice(0, 80)}`;
    else if (typeof a.command === 'string') detail = ` "${a.command.slice(0, 60)}"`;
  } catch {
    // unparseable arguments: the name alone says enough
  }
  return `${call.name}${detail}${isError ? ' (error)' : ''}`;
}
