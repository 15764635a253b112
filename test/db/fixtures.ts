import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/port.js';
import { LeaseFence } from '../../db/queue/lease-fence.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { UsersRepo, type User } from '../../db/repos/users.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it is true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function newUser(db: Queryable, planId = 'unlimited'): Promise<User> {
  return new UsersRepo(db).create({ email: `${randomUUID()}@example.com`, passwordHash: null, planId });
}

export async function newProject(db: Queryable, planId = 'unlimited'): Promise<{ user: User; projectId: string }> {
  const user = await newUser(db, planId);
  const project = await new ProjectsRepo(db).create({ userId: user.id, name: 'Demo app', prompt: 'a todo app' });
  return { user, projectId: project.id };
}

/**
 * Leases job `jobId` to `workerId` as a claim would (a claim takes whichever job is due; tests
 * pick theirs) and returns the holder's fence; `onLost` is what the worker would do (abort).
 */
export async function leaseJob(db: Queryable, jobId: string, workerId = 'test-worker', onLost: () => void = () => undefined): Promise<LeaseFence> {
  const leaseMs = 60_000;
  await db.query(
    `UPDATE jobs SET status = 'active', attempts = attempts + 1, locked_by = $2, lease_until = now() + $3 * interval '1 millisecond' WHERE id = $1`,
    [jobId, workerId, leaseMs],
  );
  return new LeaseFence({ jobId, workerId, leaseMs }, onLost);
}
