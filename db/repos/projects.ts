import { randomBytes } from 'node:crypto';
import type { Queryable } from '../port.js';
import { JobQueue } from '../queue/job-queue.js';
import { newestFirstPage, type Page, type PageRequest } from './pagination.js';
import { enforceLimit, lockUserPlan } from './plan-limits.js';
import { runJobKey } from '../../runs/runs-repo.js';
import { inTransaction } from './transaction.js';

export interface Project {
  id: string;
  userId: string;
  name: string;
  slug: string;
  prompt: string;
  webhookUrl: string | null;
  /** Where an imported project came from (a git URL without credentials, or `zip:<file name>`); null when it started from a prompt. */
  importedFrom: string | null;
  /** The last durable event's seq (0 before any). */
  lastEventSeq: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeletedProject {
  project: Project;
  /** Runs that were queued or running: the caller stops them (their jobs are already cancelled). */
  activeRunIds: string[];
}

interface ProjectRow {
  id: string;
  user_id: string;
  name: string;
  slug: string;
  prompt: string;
  webhook_url: string | null;
  imported_from: string | null;
  last_event_seq: number | string;
  created_at: Date;
  updated_at: Date;
  created_at_key: string;
}

// The webhook secret is left out on purpose: only getWebhookTarget reads it.
const COLUMNS = 'id, user_id, name, slug, prompt, webhook_url, imported_from, last_event_seq, created_at, updated_at, created_at::text AS created_at_key';

const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  slug: r.slug,
  prompt: r.prompt,
  webhookUrl: r.webhook_url,
  importedFrom: r.imported_from,
  lastEventSeq: Number(r.last_event_seq),
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

/** A file-name-safe slug (the export's `<slug>.zip`): lowercase ASCII, digits and dashes. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[\u0300-\u036f]/g, '') // accents split off by NFKD
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || 'project';
}

export class ProjectsRepo {
  /** @param db the Database, or a transaction (create/delete then run inside it). */
  constructor(private readonly db: Queryable) {}

  /**
   * Creates a project if the user's plan allows one more. The count and the insert run under
   * the user's row lock (lockUserPlan), so concurrent creates cannot exceed max_projects.
   * @throws E_LIMIT naming the limit and the plan.
   */
  async create(input: { userId: string; name: string; prompt: string; slug?: string; importedFrom?: string }): Promise<Project> {
    return inTransaction(this.db, async (tx) => {
      const plan = await lockUserPlan(tx, input.userId);
      const count = await tx.query<{ n: number | string }>('SELECT count(*) AS n FROM projects WHERE user_id = $1', [input.userId]);
      enforceLimit(plan, 'max_projects', Number(count.rows[0]!.n));
      const res = await tx.query<ProjectRow>(
        `INSERT INTO projects (user_id, name, slug, prompt, imported_from) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [input.userId, input.name, input.slug ?? slugify(input.name), input.prompt, input.importedFrom ?? null],
      );
      return toProject(res.rows[0]!);
    });
  }

  async get(projectId: string, userId: string): Promise<Project | undefined> {
    const res = await this.db.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 AND user_id = $2`, [projectId, userId]);
    return res.rows[0] && toProject(res.rows[0]);
  }

  /** For workers, which act on a run's project whoever owns it. */
  async getById(projectId: string): Promise<Project | undefined> {
    const res = await this.db.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1`, [projectId]);
    return res.rows[0] && toProject(res.rows[0]);
  }

  /** The user's projects, newest first. */
  async list(userId: string, page: PageRequest = {}): Promise<Page<Project>> {
    return newestFirstPage(this.db, { select: `SELECT ${COLUMNS} FROM projects`, where: 'user_id = $1', params: [userId] }, page, toProject);
  }

  async count(userId: string): Promise<number> {
    const res = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM projects WHERE user_id = $1', [userId]);
    return Number(res.rows[0]!.n);
  }

  /**
   * Deletes the project with its runs, steps and events (usage rows stay: they have no foreign
   * key). The jobs of its unfinished runs are cancelled in the same transaction, so no node
   * starts them and a node running one sees its lease gone at the next heartbeat. Returns what
   * was deleted so the caller can stop sandboxes and remove the workspace; undefined if the
   * project is missing or not the user's.
   */
  async delete(projectId: string, userId: string): Promise<DeletedProject | undefined> {
    return inTransaction(this.db, async (tx) => {
      // Lock the project first: a concurrent run create (which locks it too) either
      // committed before — and its run is seen below, its job cancelled — or waits and then
      // finds no project. Without the lock its job could outlive the deleted run.
      const locked = await tx.query('SELECT 1 FROM projects WHERE id = $1 AND user_id = $2 FOR UPDATE', [projectId, userId]);
      if (locked.rows.length === 0) return undefined;
      const runs = await tx.query<{ id: string }>(
        `SELECT id FROM runs WHERE project_id = $1 AND user_id = $2 AND status IN ('queued', 'running')`,
        [projectId, userId],
      );
      const res = await tx.query<ProjectRow>(`DELETE FROM projects WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`, [projectId, userId]);
      const row = res.rows[0];
      if (!row) return undefined;
      const activeRunIds = runs.rows.map((r) => r.id);
      await new JobQueue(tx).cancelBySingletonKeys(activeRunIds.map(runJobKey), 'project deleted');
      return { project: toProject(row), activeRunIds };
    });
  }

  /**
   * Sets (or with `url: null` clears) the webhook. A new URL without a secret keeps the existing
   * secret or generates one. Returns the secret so the API can show it to the owner.
   */
  async setWebhook(projectId: string, userId: string, input: { url: string | null; secret?: string }): Promise<{ project: Project; secret: string | null } | undefined> {
    const generated = randomBytes(32).toString('base64url');
    const res = await this.db.query<ProjectRow & { webhook_secret: string | null }>(
      `UPDATE projects SET
         webhook_url = $3,
         webhook_secret = CASE WHEN $3::text IS NULL THEN NULL ELSE coalesce($4, webhook_secret, $5) END,
         updated_at = now()
       WHERE id = $1 AND user_id = $2
       RETURNING ${COLUMNS}, webhook_secret`,
      [projectId, userId, input.url, input.secret ?? null, generated],
    );
    const row = res.rows[0];
    return row && { project: toProject(row), secret: row.webhook_secret };
  }

  /** For the webhook sender only (the secret signs the body); undefined when none is set. */
  async getWebhookTarget(projectId: string): Promise<{ url: string; secret: string } | undefined> {
    const res = await this.db.query<{ webhook_url: string | null; webhook_secret: string | null }>(
      'SELECT webhook_url, webhook_secret FROM projects WHERE id = $1',
      [projectId],
    );
    const row = res.rows[0];
    return row?.webhook_url && row.webhook_secret ? { url: row.webhook_url, secret: row.webhook_secret } : undefined;
  }
}
