import type { Logger } from '../../core/logger.js';
import type { Database, Queryable } from '../../db/port.js';
import { EventsRepo, publishEphemeral, type ProjectEvent } from '../../db/repos/events.js';

/**
 * The run's events. Durable ones (run.*, step.*, llm.usage, tool.called, file.written,
 * command.started, command.finished) are appended with the project's next gapless seq — inside
 * the caller's transaction when the event describes state written there. Ephemeral ones
 * (llm.delta, command.output) go out over NOTIFY only: they are advisory and high-volume, and the
 * durable events plus the workspace are the record.
 */
export class RunEvents {
  constructor(
    private readonly db: Database,
    readonly projectId: string,
    readonly runId: string,
    private readonly logger: Logger,
  ) {}

  /** Appends in `tx` when given (atomic with the state it describes), else in its own transaction. */
  append(type: string, data: unknown, tx?: Queryable): Promise<ProjectEvent> {
    return new EventsRepo(tx ?? this.db).append({ projectId: this.projectId, runId: this.runId, type, data });
  }

  /** Several events in one statement (consecutive seqs, atomic), in `tx` when given. */
  appendMany(events: { type: string; data: unknown }[], tx?: Queryable): Promise<void> {
    return new EventsRepo(tx ?? this.db).appendMany(this.projectId, this.runId, events);
  }

  /** Fire-and-forget: a lost delta must never fail or slow the run. */
  ephemeral(type: string, data: unknown): void {
    publishEphemeral(this.db, { projectId: this.projectId, runId: this.runId, type, data }).catch((err: unknown) =>
      this.logger.debug({ err, type }, 'ephemeral event not sent'),
    );
  }

  /** A buffer that publishes its text as one ephemeral event every `intervalMs` at most. */
  coalescer(type: string, data: Record<string, unknown>, intervalMs = 50): Coalescer {
    return new Coalescer((text) => this.ephemeral(type, { ...data, text }), intervalMs);
  }
}

/** Collects text pieces and flushes them together, at most once per interval (llm.delta, command.output). */
export class Coalescer {
  private buffer = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (text: string) => void,
    private readonly intervalMs: number,
  ) {}

  push(text: string): void {
    this.buffer += text;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = '';
    this.send(text);
  }
}
