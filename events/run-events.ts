import type { Logger } from '../core/logger.js';
import type { Database, Queryable } from '../db/port.js';
import type { DurableEventType, EphemeralEventType, EventData, EventInput } from '../protocol/event-catalogue.js';
import { EventsRepo, publishEphemeral, type ProjectEvent } from './event-log.js';

/**
 * Appends one catalogue event (typed: its data must match its type) in the caller's transaction;
 * see EventsRepo.append, which stores any type.
 */
export function appendEvent<T extends DurableEventType>(db: Queryable, input: { projectId: string; runId: string | null } & EventInput<T>): Promise<ProjectEvent<EventData<T>>> {
  return new EventsRepo(db).append<EventData<T>>(input);
}

/** The ephemeral events that carry streamed text (llm.delta, command.output, chat.delta). */
export type TextEventType = { [T in EphemeralEventType]: EventData<T> extends { text: string } ? T : never }[EphemeralEventType];

/**
 * The run's events. Durable ones (run.*, step.*, llm.usage, tool.called, file.written,
 * command.started, command.finished) are appended with the project's next gapless seq; those that
 * describe state (run.*, step.*, llm.usage) by the statement that writes the state (RunsRepo,
 * StepsRepo, the usage ledger), the others here. Ephemeral ones
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

  append<T extends DurableEventType>(type: T, data: EventData<T>): Promise<ProjectEvent<EventData<T>>> {
    return new EventsRepo(this.db).append<EventData<T>>({ projectId: this.projectId, runId: this.runId, type, data });
  }

  /** Several events in one statement (consecutive seqs, atomic). */
  appendMany(events: EventInput<DurableEventType>[]): Promise<void> {
    return new EventsRepo(this.db).appendMany(this.projectId, this.runId, events);
  }

  /** Fire-and-forget: a lost delta must never fail or slow the run. */
  ephemeral<T extends EphemeralEventType>(type: T, data: EventData<T>): void {
    publishEphemeral(this.db, { projectId: this.projectId, runId: this.runId, type, data }).catch((err: unknown) =>
      this.logger.debug({ err, type }, 'ephemeral event not sent'),
    );
  }

  /** A buffer that publishes its text as one ephemeral event every `intervalMs` at most. */
  coalescer<T extends TextEventType>(type: T, data: Omit<EventData<T>, 'text'>, intervalMs = 50): Coalescer {
    return new Coalescer((text) => this.ephemeral<EphemeralEventType>(type, { ...data, text } as EventData<T>), intervalMs);
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
