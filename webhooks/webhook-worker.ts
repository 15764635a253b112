import type { Config } from '../core/config.js';
import { reportError } from '../core/error-tracking.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { PermanentJobError, Worker } from '../db/queue/job-worker.js';
import { ProjectsRepo } from '../db/repos/projects.js';
import { postJson } from './post.js';
import { WEBHOOKS_QUEUE, type WebhookJobPayload } from './queue.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './sign.js';
import { guardedLookup, urlHost, urlRefusal, WebhookTargetRefusedError } from './target-guard.js';

const MAX_RETRY_MS = 10 * 60_000;

/**
 * Sends queued webhook deliveries: POST of the event as JSON, signed (sign.ts). A 2xx is done; a
 * network error, timeout, 408, 429 or 5xx is retried with exponential backoff (retryBaseMs · 2^n,
 * at most 10 minutes) up to maxAttempts; any other 4xx or 3xx (redirects are not followed) is
 * final. A target the guard refuses (target-guard.ts: a non-public address in the URL or in what its
 * name resolves to now) is final too, with E_WEBHOOK_TARGET in the job's last error.
 */
export function createWebhookWorker(deps: { db: Database; logger: Logger; settings: Config['webhooks'] }): Worker<WebhookJobPayload> {
  const { db, logger, settings } = deps;
  const lookup = guardedLookup(settings.allowPrivate);
  return new Worker<WebhookJobPayload>({
    db,
    queue: WEBHOOKS_QUEUE,
    concurrency: 4,
    logger,
    leaseMs: Math.max(30_000, settings.timeoutMs * 3),
    retryInMs: (job) => Math.min(MAX_RETRY_MS, settings.retryBaseMs * 2 ** Math.max(0, job.attempts - 1)),
    handler: async (job, ctx) => {
      const p = job.payload;
      const target = await new ProjectsRepo(db)
        .getWebhookTarget(p.projectId)
        .catch((err: unknown) => {
          // Not the endpoint's fault (that is a delivery failure, below): our own lookup failed.
          reportError(err, { component: 'webhook-worker', projectId: p.projectId, runId: p.runId ?? undefined, jobId: job.id });
          throw err;
        });
      if (!target) return; // removed since: nothing to send
      const body = JSON.stringify({ id: `${p.projectId}:${p.seq}`, type: p.type, projectId: p.projectId, runId: p.runId, seq: p.seq, at: p.at, data: p.data });
      const timestamp = Math.floor(Date.now() / 1000);
      const url = new URL(target.url);
      // Logged by host only: a webhook URL's path or query often is a secret (Slack, Discord).
      const refused = (err: WebhookTargetRefusedError): PermanentJobError => {
        logger.warn({ projectId: p.projectId, seq: p.seq, host: urlHost(url), reason: err.message }, 'webhook delivery refused: the target is not a public address');
        return new PermanentJobError(err.message);
      };
      const literal = urlRefusal(url, settings.allowPrivate);
      if (literal !== undefined) throw refused(new WebhookTargetRefusedError(literal));
      let status: number;
      try {
        status = await postJson(url, {
          headers: {
            'content-type': 'application/json',
            'user-agent': 'samokoder-webhook/1',
            'x-samokoder-event': p.type,
            'x-samokoder-delivery': `${p.projectId}:${p.seq}`,
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: signWebhook(target.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(settings.timeoutMs)]),
          lookup,
        });
      } catch (err) {
        if (err instanceof WebhookTargetRefusedError) throw refused(err);
        logger.warn({ projectId: p.projectId, seq: p.seq, attempt: job.attempts, err: String(err) }, 'webhook delivery failed; will retry');
        throw new Error(`E_WEBHOOK_DELIVERY: ${String(err)}`, { cause: err });
      }
      if (status >= 200 && status < 300) return;
      const retryable = status === 408 || status === 429 || status >= 500;
      logger.warn({ projectId: p.projectId, seq: p.seq, status, attempt: job.attempts, retryable }, 'webhook endpoint refused the delivery');
      if (!retryable) throw new PermanentJobError(`E_WEBHOOK_DELIVERY: the endpoint answered ${status}`);
      throw new Error(`E_WEBHOOK_DELIVERY: the endpoint answered ${status}`);
    },
  });
}
