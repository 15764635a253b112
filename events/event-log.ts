import { notFound } from '../core/errors.js';
import type { Database, Queryable } from '../db/port.js';

/** The one NOTIFY channel every event notice travels on (one LISTEN per node, see EventFeed). */
export const EVENTS_CHANNEL = 'events';

/** A durable event: stored, with the project's next gapless sequence number. */
export interface ProjectEvent<D = unknown> {
  projectId: string;
  seq: number;
  runId: string | null;
  type: string;
  data: D;
  at: Date;
}

/** A non-durable event (e.g. `llm.delta`): sent over NOTIFY only, never stored, no seq. */
export interface EphemeralEvent<D = unknown> {
  projectId: string;
  runId: string | null;
  type: string;
  data: D;
  at: Date;
  /** Set when string fields of `data` were cut to fit the NOTIFY payload limit. */
  truncated?: true;
}

export interface AppendEventInput {
  projectId: string;
  runId?: string | null;
  type: string;
  data?: unknown;
}

/**
 * What a NOTIFY on EVENTS_CHANNEL carries. A durable notice holds no event body on purpose: it
 * is a wake-up ("project P has events up to seq S"), and the consumer reads the rows after its
 * cursor from the database, so a lost or duplicated notice can neither lose nor repeat events.
 */
export type EventNotice = { kind: 'durable'; projectId: string; seq: number } | { kind: 'ephemeral'; event: EphemeralEvent };

interface EventRow {
  project_id: string;
  seq: number | string;
  run_id: string | null;
  type: string;
  data: unknown;
  at: Date;
}

const toEvent = (r: EventRow): ProjectEvent => ({
  projectId: r.project_id,
  seq: Number(r.seq),
  runId: r.run_id,
  type: r.type,
  data: r.data,
  at: new Date(r.at),
});

/**
 * EventsRepo.append as common table expressions, for a statement that appends one event together
 * with the writes it describes (same guarantees: see append). The arguments are SQL expressions
 * (parameters, or subqueries of the statement's other CTEs); `projectId` NULL appends nothing and
 * takes no seq. `event_notified` yields the appended row (it must be read by the statement: a
 * SELECT-only CTE that is not referenced does not run, and its pg_notify with it).
 */
export function appendEventCtes(e: { projectId: string; runId: string; type: string; data: string; channel: string }): string {
  return `event_bump AS (
         UPDATE projects SET last_event_seq = last_event_seq + 1 WHERE id = ${e.projectId} RETURNING id, last_event_seq
       ), event_ins AS (
         INSERT INTO events (project_id, seq, run_id, type, data)
         SELECT id, last_event_seq, ${e.runId}, ${e.type}, ${e.data} FROM event_bump
         RETURNING project_id, seq, run_id, type, data, at
       ), event_notified AS (
         SELECT event_ins.*, pg_notify(${e.channel}, json_build_object('kind', 'durable', 'projectId', project_id, 'seq', seq)::text) AS notified FROM event_ins
       )`;
}

export class EventsRepo {
  /** @param db append needs the transaction whose state change the event describes. */
  constructor(private readonly db: Queryable) {}

  /**
   * Appends a durable event, in the caller's transaction, in one statement:
   * - the project row's counter is bumped (UPDATE … RETURNING): its row lock serialises the
   *   writers of one project until their commit, so sequence numbers commit in order, and a
   *   rollback un-bumps it, so they are gapless;
   * - the row is inserted with that seq;
   * - pg_notify announces it; PostgreSQL delivers NOTIFY only on commit (never on rollback).
   * Keep the surrounding transaction short: it holds the project row lock until it ends.
   */
  async append<D = unknown>(input: AppendEventInput): Promise<ProjectEvent<D>> {
    const res = await this.db.query<EventRow>(
      `WITH ${appendEventCtes({ projectId: '$1', runId: '$2', type: '$3', data: '$4::jsonb', channel: '$5' })}
       SELECT project_id, seq, run_id, type, data, at FROM event_notified`,
      [input.projectId, input.runId ?? null, input.type, JSON.stringify(input.data ?? {}), EVENTS_CHANNEL],
    );
    const row = res.rows[0];
    if (!row) throw notFound('project');
    return toEvent(row) as ProjectEvent<D>;
  }

  /**
   * Appends several durable events of one project in one statement (one round trip, atomic on its
   * own): the counter is bumped by their number under the same row lock as `append`, the rows get
   * consecutive seqs in the given order, and one notice announces the last seq (a notice is a
   * wake-up for "events up to S", so one per batch loses nothing).
   */
  async appendMany(projectId: string, runId: string | null, events: { type: string; data?: unknown }[]): Promise<void> {
    if (events.length === 0) return;
    const res = await this.db.query<{ seq: number | string }>(
      `WITH input AS (
         SELECT e.ord, e.value->>'type' AS type, e.value->'data' AS data FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(value, ord)
       ), bump AS (
         UPDATE projects SET last_event_seq = last_event_seq + $4 WHERE id = $1 RETURNING id, last_event_seq
       ), ins AS (
         INSERT INTO events (project_id, seq, run_id, type, data)
         SELECT bump.id, bump.last_event_seq - $4 + input.ord, $2, input.type, input.data FROM bump, input
         RETURNING project_id, seq
       )
       SELECT max(seq) AS seq, pg_notify($5, json_build_object('kind', 'durable', 'projectId', $1::uuid, 'seq', max(seq))::text) AS notified
         FROM ins HAVING count(*) > 0`,
      [projectId, runId, JSON.stringify(events.map((e) => ({ type: e.type, data: e.data ?? {} }))), events.length, EVENTS_CHANNEL],
    );
    if (!res.rows[0]) throw notFound('project');
  }

  /**
   * Events with seq > `since`, oldest first, of a project owned by `userId` (another user's
   * project yields nothing, exactly like a missing one).
   */
  async listSince(projectId: string, userId: string, since: number, limit = 500): Promise<ProjectEvent[]> {
    const res = await this.db.query<EventRow>(
      `SELECT e.project_id, e.seq, e.run_id, e.type, e.data, e.at
       FROM events e JOIN projects p ON p.id = e.project_id
       WHERE e.project_id = $1 AND p.user_id = $2 AND e.seq > $3
       ORDER BY e.seq
       LIMIT $4`,
      [projectId, userId, since, Math.max(1, Math.min(limit, 10_000))],
    );
    return res.rows.map(toEvent);
  }

  /** The project's last durable seq (0 before any event); undefined if not the user's project. */
  async lastSeq(projectId: string, userId: string): Promise<number | undefined> {
    const res = await this.db.query<{ last_event_seq: number | string }>(
      'SELECT last_event_seq FROM projects WHERE id = $1 AND user_id = $2',
      [projectId, userId],
    );
    const row = res.rows[0];
    return row && Number(row.last_event_seq);
  }
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; this leaves room for the envelope. */
export const MAX_NOTICE_BYTES = 7900;

const noticeBytes = (n: EventNotice): number => Buffer.byteLength(JSON.stringify(n), 'utf8');

/** Cuts a string to about `chars` characters without splitting a surrogate pair. */
function cut(s: string, chars: number): string {
  let out = s.slice(0, Math.max(0, chars));
  const last = out.charCodeAt(out.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  return out;
}

/**
 * Fits an ephemeral event into one NOTIFY: while too large, the longest top-level string field
 * of `data` is shortened (marking the event `truncated`); if that is not enough, `data` is
 * dropped. Deltas are advisory (the durable events and the workspace are the record), so a cut
 * delta is acceptable where a failed send is not.
 */
export function capEphemeral(event: EphemeralEvent): EphemeralEvent {
  let notice: EventNotice = { kind: 'ephemeral', event };
  let excess = noticeBytes(notice) - MAX_NOTICE_BYTES;
  if (excess <= 0) return event;
  const data = typeof event.data === 'object' && event.data !== null && !Array.isArray(event.data) ? { ...(event.data as Record<string, unknown>) } : undefined;
  while (data && excess > 0) {
    const longest = Object.entries(data)
      .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length > 0)
      .sort((a, b) => b[1].length - a[1].length)[0];
    if (!longest) break;
    const [key, value] = longest;
    // A character may take up to 6 bytes once JSON-escaped: cut at least `excess / 6` chars.
    data[key] = cut(value, value.length - Math.max(1, Math.ceil(excess / 6), Math.floor(value.length / 8)));
    notice = { kind: 'ephemeral', event: { ...event, data, truncated: true } };
    excess = noticeBytes(notice) - MAX_NOTICE_BYTES;
  }
  if (excess <= 0 && data) return { ...event, data, truncated: true };
  return { ...event, data: {}, truncated: true };
}

/**
 * Sends a non-durable event to every node's EventFeed, at once (never tied to a transaction:
 * deltas describe work in progress, not committed state). Through Database.notify, which on
 * PostgreSQL sends the notices published while one is in flight together, in order.
 */
export async function publishEphemeral(db: Pick<Database, 'notify'>, input: { projectId: string; runId?: string | null; type: string; data?: unknown }): Promise<void> {
  const event: EphemeralEvent = { projectId: input.projectId, runId: input.runId ?? null, type: input.type, data: input.data ?? {}, at: new Date() };
  await db.notify(EVENTS_CHANNEL, ephemeralNoticeText(event));
}

/** The NOTIFY payload of an ephemeral event, capped (capEphemeral); serialised once when it fits. */
function ephemeralNoticeText(event: EphemeralEvent): string {
  const text = JSON.stringify({ kind: 'ephemeral', event } satisfies EventNotice);
  // A UTF-16 unit takes at most 3 UTF-8 bytes: most deltas fit without counting.
  if (text.length * 3 <= MAX_NOTICE_BYTES || Buffer.byteLength(text, 'utf8') <= MAX_NOTICE_BYTES) return text;
  return JSON.stringify({ kind: 'ephemeral', event: capEphemeral(event) } satisfies EventNotice);
}

/** Parses a NOTIFY payload from EVENTS_CHANNEL; undefined for anything malformed. */
export function parseEventNotice(payload: string): EventNotice | undefined {
  try {
    const v = JSON.parse(payload) as Partial<{ kind: string; projectId: unknown; seq: unknown; event: Partial<EphemeralEvent> }>;
    if (v.kind === 'durable' && typeof v.projectId === 'string' && typeof v.seq === 'number') {
      return { kind: 'durable', projectId: v.projectId, seq: v.seq };
    }
    const e = v.event;
    if (v.kind === 'ephemeral' && e && typeof e.projectId === 'string' && typeof e.type === 'string') {
      return {
        kind: 'ephemeral',
        event: { projectId: e.projectId, runId: e.runId ?? null, type: e.type, data: e.data ?? {}, at: new Date(e.at as unknown as string), ...(e.truncated ? { truncated: true as const } : {}) },
      };
    }
  } catch {
    // not ours
  }
  return undefined;
}
