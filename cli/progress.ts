import type { EventData } from '../protocol/event-catalogue.js';
import type { RunEvent } from './follow.js';
import { fmtCost, fmtSeconds, fmtTokens } from './format.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface StepLine {
  key: string;
  title: string;
  started: number;
  finished?: number;
  summary?: string;
}

function stepTitle(d: EventData<'step.started'>): string {
  const task = d.taskId ? ` ${d.taskId}${d.taskTitle ? `: ${d.taskTitle}` : ''}` : '';
  return `${d.kind}${task}${d.kind === 'fixer' && d.round ? ` (round ${d.round})` : ''}`;
}

/**
 * The build's progress. On a TTY: finished steps scroll up as lines; the running step has a
 * spinner and a live line with tokens, cost and the elapsed time. Elsewhere (a pipe, CI): one
 * plain line per event worth a line.
 */
export class Progress {
  private readonly steps = new Map<string, StepLine>();
  private current: StepLine | undefined;
  private inputTokens = 0;
  private outputTokens = 0;
  private costMicroUsd: number | null = null;
  private files = 0;
  private frame = 0;
  private liveLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private lastCommand = '';

  constructor(
    private readonly out: NodeJS.WriteStream,
    readonly tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb',
  ) {
    if (this.tty) this.timer = setInterval(() => this.redraw(), 100);
  }

  /** A line above the live area (or a plain line). */
  line(text: string): void {
    this.clearLive();
    this.out.write(`${text}\n`);
    this.drawLive();
  }

  setCost(micro: number | null, input?: number, output?: number): void {
    this.costMicroUsd = micro;
    if (input !== undefined && input > this.inputTokens) this.inputTokens = input;
    if (output !== undefined && output > this.outputTokens) this.outputTokens = output;
  }

  event(e: RunEvent): void {
    switch (e.type) {
      case 'run.queued':
        this.line('queued');
        break;
      case 'run.started':
        if (!this.tty) this.line('run started');
        break;
      case 'step.started': {
        const key = String(e.data.seq);
        const s: StepLine = { key, title: stepTitle(e.data), started: Date.now() };
        this.steps.set(key, s);
        this.current = s;
        if (!this.tty) this.line(`▶ ${s.title}`);
        break;
      }
      case 'step.finished': {
        const s = this.steps.get(String(e.data.seq)) ?? this.current;
        if (!s) break;
        s.finished = Date.now();
        s.summary = e.data.summary;
        if (this.current === s) this.current = undefined;
        this.line(`${this.tty ? '\x1b[32m✓\x1b[0m' : '✓'} ${s.title}${s.summary ? ` — ${s.summary}` : ''} (${fmtSeconds(s.finished - s.started)})`);
        break;
      }
      case 'llm.usage':
        this.inputTokens += e.data.inputTokens;
        this.outputTokens += e.data.outputTokens;
        // The live cost meter: the run's cost as the ledger priced its settled calls.
        if (e.data.runCostMicroUsd != null) this.costMicroUsd = Math.max(this.costMicroUsd ?? 0, e.data.runCostMicroUsd);
        if (!this.tty) this.line(`  tokens: ${fmtTokens(this.inputTokens)} in, ${fmtTokens(this.outputTokens)} out, ${fmtCost(this.costMicroUsd)} so far`);
        break;
      case 'file.written':
        this.files++;
        if (!this.tty) this.line(`  wrote ${e.data.path}`);
        else this.lastCommand = `wrote ${e.data.path}`;
        break;
      case 'command.started':
        this.lastCommand = `$ ${e.data.command}`;
        if (!this.tty) this.line(`  $ ${e.data.command}`);
        break;
      case 'command.finished':
        if (!this.tty) this.line(`  exit ${e.data.exitCode}`);
        else this.lastCommand = `${this.lastCommand} → exit ${e.data.exitCode}`;
        break;
      default:
        break;
    }
  }

  summary(): string {
    return `${this.steps.size} steps, ${this.files} files, ${fmtTokens(this.inputTokens)} tokens in, ${fmtTokens(this.outputTokens)} out, ${fmtCost(this.costMicroUsd)}, ${fmtSeconds(Date.now() - this.started)}`;
  }

  stop(): void {
    clearInterval(this.timer);
    this.clearLive();
  }

  /** The live lines, each cut to the terminal's width (a wrapped line would break the redraw). */
  private liveText(): string[] {
    const cols = Math.max(20, (this.out.columns || 100) - 1);
    const spin = SPINNER[this.frame % SPINNER.length]!;
    const counters = `${fmtTokens(this.inputTokens)} in · ${fmtTokens(this.outputTokens)} out · ${fmtCost(this.costMicroUsd)} · ${fmtSeconds(Date.now() - this.started)}`;
    const step = this.current ? `${this.current.title} (${fmtSeconds(Date.now() - this.current.started)})` : 'working…';
    const first = `${spin} ${step}  ${counters}`.slice(0, cols);
    const lines = [`\x1b[36m${first.slice(0, 1)}\x1b[0m${first.slice(1)}`];
    if (this.lastCommand) lines.push(`\x1b[2m  ${this.lastCommand.replace(/\s+/g, ' ').slice(0, cols - 2)}\x1b[0m`);
    return lines;
  }

  private drawLive(): void {
    if (!this.tty || this.timer === undefined) return;
    const lines = this.liveText();
    this.out.write(lines.join('\n') + '\n');
    this.liveLines = lines.length;
  }

  private clearLive(): void {
    if (!this.tty || this.liveLines === 0) return;
    this.out.write(`\x1b[${this.liveLines}A\x1b[J`);
    this.liveLines = 0;
  }

  private redraw(): void {
    this.frame++;
    this.clearLive();
    this.drawLive();
  }
}
