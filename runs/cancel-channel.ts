import type { Database, Queryable } from '../db/port.js';

/**
 * The one way a run's cancel reaches the worker executing it, on whichever node: a NOTIFY on a
 * channel only this file names (payload: the run id), plus a poll of runs.cancel_requested_at
 * for the notices that never arrive (a dropped LISTEN connection; PGlite delivers none raised
 * inside another transaction). Whoever requests a cancel sets cancel_requested_at first (or
 * deletes the run), then calls notifyCancel.
 */
const CHANNEL = 'run_cancel';

/** How often a listener reads the cancel flags of the runs it watches (the 2-second promise holds on every database). */
export const CANCEL_POLL_MS = 500;

/**
 * Tells the workers of `runIds` to stop them now. Inside a transaction the notices go out at its
 * commit (and not at all on rollback), so call it in the transaction that records the cancel.
 */
export async function notifyCancel(db: Queryable, runIds: readonly string[]): Promise<void> {
  if (runIds.length === 0) return;
  await db.query('SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id', [CHANNEL, runIds]);
}

export interface CancelListener {
  stop(): Promise<void>;
}

/**
 * Calls `onCancel(runId)` when a cancel of a run is announced, and, every `pollMs`, for each of
 * `watched()` (the runs this node executes) whose cancel was requested. A run may be reported more
 * than once; `onCancel` must be idempotent (aborting an AbortController is).
 */
export async function listenForCancel(
  db: Database,
  watched: () => readonly string[],
  onCancel: (runId: string) => void,
  pollMs = CANCEL_POLL_MS,
): Promise<CancelListener> {
  const unlisten = await db.listen(CHANNEL, onCancel);
  let busy = false;
  const timer = setInterval(() => {
    const ids = watched();
    if (busy || ids.length === 0) return;
    busy = true;
    db.query<{ id: string }>('SELECT id FROM runs WHERE id = ANY($1::uuid[]) AND cancel_requested_at IS NOT NULL', [ids])
      .then((res) => res.rows.forEach((r) => onCancel(r.id)))
      // A failed read is the next tick's to repeat; the NOTIFY path is unaffected.
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, pollMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await unlisten().catch(() => undefined);
    },
  };
}
