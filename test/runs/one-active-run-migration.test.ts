import { migrate } from '../../db/migrate.js';
import { MIGRATIONS } from '../../db/migrations/index.js';
import { JobQueue } from '../../db/queue/job-queue.js';
import { RUNS_QUEUE, runJobKey, RunsRepo, type NewRun } from '../../runs/runs-repo.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../helpers/databases.js';

describe.each(DATABASE_KINDS)('migration 7 (one active run per project) on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind, { migrate: false });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  test('applies over a project that already has several active runs: the newest stays, the older ones and their jobs are cancelled', async () => {
    const before = MIGRATIONS.filter((m) => m.version < 7);
    await migrate(t.db, undefined, before);
    // Rows written as the schema before migration 7 has them (today's repositories know later columns).
    const newProject = async () => {
      const user = (await t.db.query<{ id: string }>("INSERT INTO users (email, plan_id) VALUES (gen_random_uuid()::text || '@example.com', 'unlimited') RETURNING id")).rows[0]!;
      const project = (await t.db.query<{ id: string }>("INSERT INTO projects (user_id, name, slug, prompt) VALUES ($1, 'Demo app', gen_random_uuid()::text, 'a todo app') RETURNING id", [user.id])).rows[0]!;
      return { user, projectId: project.id };
    };
    const insertRun = async (p: string, u: string): Promise<string> =>
      (await t.db.query<{ id: string }>("INSERT INTO runs (project_id, user_id, kind, prompt, provider, model, key_source) VALUES ($1, $2, 'generate', 'p', 'anthropic', 'm', 'platform') RETURNING id", [p, u])).rows[0]!.id;
    const { user, projectId } = await newProject();
    const other = await newProject();
    const input = (p: string, u: string): NewRun => ({ projectId: p, userId: u, kind: 'generate', prompt: 'p', provider: 'anthropic', model: 'm', keyId: null, keySource: 'platform' });
    const runs = new RunsRepo(t.db);
    const queue = new JobQueue(t.db);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const runId = await insertRun(projectId, user.id);
      await queue.enqueue({ queue: RUNS_QUEUE, payload: { runId }, singletonKey: runJobKey(runId) });
      ids.push(runId);
      await new Promise((r) => setTimeout(r, 5));
    }
    await t.db.query("UPDATE runs SET status = 'running', started_at = now() WHERE id = $1", [ids[0]]);
    const alone = { id: await insertRun(other.projectId, other.user.id) };

    await migrate(t.db);

    const rows = await t.db.query<{ id: string; status: string; cancel_requested_at: Date | null }>('SELECT id, status, cancel_requested_at FROM runs WHERE project_id = $1', [projectId]);
    const status = Object.fromEntries(rows.rows.map((r) => [r.id, r.status]));
    expect(status).toEqual({ [ids[0]!]: 'cancelled', [ids[1]!]: 'cancelled', [ids[2]!]: 'queued' });
    expect(rows.rows.find((r) => r.id === ids[0])!.cancel_requested_at).not.toBeNull();
    const jobs = await t.db.query<{ singleton_key: string; status: string }>('SELECT singleton_key, status FROM jobs');
    expect(Object.fromEntries(jobs.rows.map((j) => [j.singleton_key, j.status]))).toEqual({
      [runJobKey(ids[0]!)]: 'failed',
      [runJobKey(ids[1]!)]: 'failed',
      [runJobKey(ids[2]!)]: 'queued',
    });
    expect((await runs.getById(alone.id))!.status).toBe('queued');
    await expect(runs.insert(input(projectId, user.id))).rejects.toMatchObject({ code: '23505' });
  });
});
