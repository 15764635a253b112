import type { Queryable } from '../db/port.js';
import { JobQueue } from '../db/queue/job-queue.js';
import type { ProjectEvent } from '../events/event-log.js';
import { ProjectsRepo } from '../db/repos/projects.js';

/** Deliveries are jobs, so a retry survives a restart and any node may send it. */
export const WEBHOOKS_QUEUE = 'webhooks';

export interface WebhookJobPayload {
  projectId: string;
  runId: string | null;
  seq: number;
  type: string;
  at: string;
  data: unknown;
}

/**
 * Queues the delivery of `event` to the project's webhook, in the caller's transaction (the one
 * that appended the event): the event and its delivery commit together or not at all. Nothing is
 * queued when the project has no webhook. The URL and secret are read again at delivery time.
 */
export async function enqueueWebhook(tx: Queryable, event: ProjectEvent, maxAttempts: number): Promise<boolean> {
  if (!(await new ProjectsRepo(tx).getWebhookTarget(event.projectId))) return false;
  const job = await new JobQueue(tx).enqueue<WebhookJobPayload>({
    queue: WEBHOOKS_QUEUE,
    payload: { projectId: event.projectId, runId: event.runId, seq: event.seq, type: event.type, at: event.at.toISOString(), data: event.data },
    singletonKey: `webhook:${event.projectId}:${event.seq}`,
    maxAttempts,
  });
  return job !== undefined;
}
