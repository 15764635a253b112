import type { Clock } from '../../core/clock.js';
import { reportError } from '../../core/error-tracking.js';
import type { Logger } from '../../core/logger.js';
import type { Queryable } from '../port.js';
import { JobQueue } from './job-queue.js';

export interface JobPurgeSettings {
  /** Finished (done or failed) jobs last touched longer ago than this are deleted. */
  retentionMs: number;
  /** How often a node checks. */
  intervalMs: number;
}

export interface JobPurger {
  /** One pass now; resolves with how many jobs were deleted. */
  purgeOnce(): Promise<number>;
  /** Stops the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Keeps the `jobs` table from growing without end: finished jobs are only history (a run's own
 * rows keep its outcome), so each node deletes those older than the retention, on a timer. Every
 * node may do it at once: the delete goes in batches that skip rows another node is deleting
 * (`JobQueue.purgeFinished`), so passes neither block each other nor delete anything twice.
 *
 * The cutoff comes from the node's clock (the port, so tests pin it) rather than the database's:
 * retention is measured in days, where clock drift of seconds does not matter, and only finished
 * jobs are touched, which no lease or claim depends on.
 */
export function startJobPurger(deps: { db: Queryable; clock: Clock; logger: Logger; settings: JobPurgeSettings }): JobPurger {
  const { clock, logger, settings } = deps;
  const queue = new JobQueue(deps.db);
  let running: Promise<number> | undefined;
  let stopped = false;

  const purgeOnce = (): Promise<number> =>
    (running ??= (async () => {
      try {
        const removed = await queue.purgeFinished(new Date(clock.now().getTime() - settings.retentionMs));
        if (removed) logger.info({ removed }, 'jobs: purged finished jobs past the retention');
        return removed;
      } finally {
        running = undefined;
      }
    })());

  const tick = () => {
    if (stopped) return;
    purgeOnce().catch((err: unknown) => {
      logger.warn({ err }, 'jobs: could not purge finished jobs; retrying at the next interval');
      reportError(err, { component: 'job-purger' });
    });
  };
  // A first pass soon after start-up (a node restarted more often than the interval still
  // purges), then one per interval; neither timer keeps the process alive.
  const first = setTimeout(tick, Math.min(settings.intervalMs, FIRST_PASS_DELAY_MS));
  const every = setInterval(tick, settings.intervalMs);
  first.unref();
  every.unref();

  return {
    purgeOnce,
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running?.catch(() => undefined);
    },
  };
}

/** Start-up is busy (migrations, recovering runs); the first purge waits this long. */
const FIRST_PASS_DELAY_MS = 60_000;
