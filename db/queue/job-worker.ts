import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../core/logger.js';
import type { Database, Unlisten } from '../port.js';
import { JobQueue, queueChannel, type Job } from './job-queue.js';
import { LeaseFence, LeaseLostError } from './lease-fence.js';

/** The signal's reason on Worker.stop(): the job is handed back for another worker to resume. */
export class WorkerStoppingError extends Error {
  constructor() {
    super('worker is stopping');
    this.name = 'WorkerStoppingError';
  }
}

/** Thrown by a handler to fail the job for good (no retry), e.g. on invalid payload. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export interface JobContext {
  /** Fires on lease loss (reason: LeaseLostError) or Worker.stop() (reason: WorkerStoppingError). */
  signal: AbortSignal;
  workerId: string;
  /**
   * Fencing for the handler's own writes: a statement built with it renews the lease and writes
   * only while this worker still holds the job; when it does not, the signal fires (reason
   * LeaseLostError) and the statement throws LeaseLostError.
   */
  lease: LeaseFence;
}

export type JobHandler<P> = (job: Job<P>, ctx: JobContext) => Promise<void>;

export interface WorkerOptions<P> {
  db: Database;
  queue: string;
  handler: JobHandler<P>;
  /** Unique per process (default host:pid:random); two processes must never share one. */
  workerId?: string;
  /** Jobs this node runs at once (default 1). */
  concurrency?: number;
  /** Lease length (default 30 s). A dead node's jobs are resumed elsewhere after this. */
  leaseMs?: number;
  /** Renewal period (default leaseMs / 3, so two renewals can fail before the lease ends). */
  heartbeatMs?: number;
  /** Polling period when no NOTIFY arrives (default 2 s). NOTIFY wakes it sooner. */
  pollMs?: number;
  /** Delay before a failed attempt is retried (default: the queue's exponential backoff). */
  retryInMs?: (job: Job<P>, error: unknown) => number | undefined;
  /** Called for jobs whose lease ran out on their last attempt (moved to failed by a claim). */
  onExhausted?: (job: Job<P>) => Promise<void> | void;
  logger?: Logger;
}

interface InFlight {
  abort(reason: Error): void;
  /** Stops the heartbeat (after stop()'s timeout, so the lease can run out). */
  abandon(): void;
  done: Promise<void>;
}

/**
 * Polls a queue and runs its jobs, at most `concurrency` at a time on this node. While a handler
 * runs, its lease is renewed; when renewal says the lease is lost, or when the local estimate of
 * the lease end passes without a successful renewal (database unreachable), the handler's signal
 * fires — before the lease can end in the database, because the estimate is measured from the
 * moment the renewal was sent — so a job is never run by two workers at once as long as
 * handlers honour the signal (and fence their writes with ctx.lease).
 */
export class Worker<P = unknown> {
  readonly workerId: string;
  private readonly queue: JobQueue;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  /** How much earlier than the lease end a cut-off handler is aborted (time to wind down). */
  private readonly safetyMs: number;
  private readonly inFlight = new Map<string, InFlight>();
  private loop: Promise<void> | undefined;
  private unlisten: Unlisten | undefined;
  private stopping = false;
  private pendingWake = false;
  private wakeSleeper: (() => void) | undefined;

  constructor(private readonly options: WorkerOptions<P>) {
    queueChannel(options.queue); // validates the name early
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.queue = new JobQueue(options.db);
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(this.leaseMs / 3));
    this.pollMs = options.pollMs ?? 2000;
    this.safetyMs = Math.min(2000, Math.floor(this.leaseMs / 10));
  }

  /** Job ids running on this worker now. */
  get running(): string[] {
    return [...this.inFlight.keys()];
  }

  async start(): Promise<void> {
    if (this.loop || this.stopping) return;
    this.unlisten = await this.options.db.listen(queueChannel(this.options.queue), () => this.wake());
    this.loop = this.runLoop();
  }

  /**
   * Stops claiming, aborts the running handlers (signal reason WorkerStoppingError) and waits up
   * to `timeoutMs` for them to return; jobs whose handler gave up are handed back at once (not
   * counted as an attempt). Handlers still running at the timeout are abandoned: their
   * heartbeat stops, so their lease runs out and another node takes the job.
   * @returns how many handlers were still running at the timeout.
   */
  async stop(timeoutMs = 10_000): Promise<{ abandoned: number }> {
    this.stopping = true;
    this.wake();
    await this.unlisten?.().catch(() => undefined);
    this.unlisten = undefined;
    for (const f of this.inFlight.values()) f.abort(new WorkerStoppingError());
    const all = Promise.all([this.loop, ...[...this.inFlight.values()].map((f) => f.done)]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const abandoned = timedOut ? this.inFlight.size : 0;
    if (timedOut) for (const f of this.inFlight.values()) f.abandon();
    return { abandoned };
  }

  private wake(): void {
    this.pendingWake = true;
    this.wakeSleeper?.();
  }

  private async sleep(): Promise<void> {
    if (this.pendingWake) {
      this.pendingWake = false;
      return;
    }
    // Jitter spreads the polls of many idle nodes apart.
    const ms = this.pollMs * (0.8 + Math.random() * 0.4);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
    this.wakeSleeper = undefined;
    this.pendingWake = false;
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      const free = this.concurrency - this.inFlight.size;
      let again = false;
      if (free > 0) {
        try {
          const sentAt = Date.now();
          const claimed = await this.queue.claim<P>(this.options.queue, this.workerId, this.leaseMs, free, this.running);
          if (this.stopping) {
            // stop() arrived during the claim: hand the fresh jobs straight back.
            for (const job of claimed.jobs) await this.queue.release(job.id, this.workerId).catch(() => undefined);
          } else {
            for (const job of claimed.jobs) this.launch(job, sentAt);
          }
          for (const job of claimed.exhausted) await this.reportExhausted(job);
          // Exhausted jobs used up claim slots: look again at once.
          again = claimed.exhausted.length > 0;
        } catch (err) {
          this.options.logger?.warn({ err, queue: this.options.queue }, 'job claim failed; retrying after the poll interval');
        }
      }
      if (!again) await this.sleep();
    }
  }

  private async reportExhausted(job: Job<P>): Promise<void> {
    this.options.logger?.warn({ jobId: job.id, queue: job.queue, attempts: job.attempts }, 'job failed: lease expired on its last attempt');
    try {
      await this.options.onExhausted?.(job);
    } catch (err) {
      this.options.logger?.error({ err, jobId: job.id }, 'onExhausted handler failed');
    }
  }

  /** @param claimSentAt when the claim that leased the job was sent (the lease began after it). */
  private launch(job: Job<P>, claimSentAt: number): void {
    const ac = new AbortController();
    const log = this.options.logger?.child({ jobId: job.id, queue: job.queue, attempt: job.attempts });
    let finished = false;
    let beatTimer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;
    const abort = (reason: Error): void => {
      if (!ac.signal.aborted) ac.abort(reason);
    };
    const stopTimers = (): void => {
      clearTimeout(beatTimer);
      clearTimeout(deadlineTimer);
    };
    // The local lease estimate: if no renewal succeeds before it, assume the lease is gone. It
    // is counted from when the claim/renewal was *sent* — the database set lease_until later
    // than that, on its own clock, but only durations matter here — and ends a safety margin
    // early, so the handler is told to stop before any other worker can claim the job.
    const armDeadline = (sentAt: number): void => {
      clearTimeout(deadlineTimer);
      deadlineTimer = setTimeout(
        () => abort(new LeaseLostError('lease ran out without a successful heartbeat')),
        sentAt + this.leaseMs - this.safetyMs - Date.now(),
      );
    };
    const beat = async (): Promise<void> => {
      const sentAt = Date.now();
      try {
        if (await this.queue.heartbeat(job.id, this.workerId, this.leaseMs)) armDeadline(sentAt);
        else abort(new LeaseLostError());
      } catch (err) {
        log?.warn({ err }, 'job heartbeat failed; will retry until the lease runs out');
      }
      if (!finished && !ac.signal.aborted) beatTimer = setTimeout(() => void beat(), this.heartbeatMs);
    };
    armDeadline(claimSentAt);
    beatTimer = setTimeout(() => void beat(), this.heartbeatMs);

    const ctx: JobContext = {
      signal: ac.signal,
      workerId: this.workerId,
      lease: new LeaseFence({ jobId: job.id, workerId: this.workerId, leaseMs: this.leaseMs }, () => abort(new LeaseLostError())),
    };

    const done = (async () => {
      let outcome: { ok: true } | { ok: false; error: unknown };
      try {
        await this.options.handler(job, ctx);
        outcome = { ok: true };
      } catch (error) {
        outcome = { ok: false, error };
      }
      finished = true;
      stopTimers();
      await this.settle(job, outcome, ac.signal, log);
    })().finally(() => {
      this.inFlight.delete(job.id);
      this.wake(); // a slot is free
    });

    this.inFlight.set(job.id, { abort, abandon: () => { finished = true; stopTimers(); }, done });
  }

  private async settle(job: Job<P>, outcome: { ok: true } | { ok: false; error: unknown }, signal: AbortSignal, log: Logger | undefined): Promise<void> {
    try {
      if (signal.reason instanceof LeaseLostError) {
        // Someone else may own the job now: write nothing.
        log?.warn('job lease lost; its result is dropped');
        return;
      }
      if (outcome.ok) {
        if (!(await this.queue.complete(job.id, this.workerId))) log?.warn('job finished but its lease was lost');
        return;
      }
      if (signal.reason instanceof WorkerStoppingError) {
        await this.queue.release(job.id, this.workerId);
        return;
      }
      const error = outcome.error;
      const message = error instanceof Error ? error.message : String(error);
      const status = await this.queue.fail(job.id, this.workerId, message, {
        permanent: error instanceof PermanentJobError,
        retryInMs: this.options.retryInMs?.(job, error),
      });
      log?.warn({ err: error, status }, 'job attempt failed');
    } catch (err) {
      // The lease will run out and the job be retried elsewhere; nothing is lost.
      log?.error({ err }, 'could not record the job outcome');
    }
  }
}
