import type { Queryable } from '../db/port.js';

/**
 * Deleted projects whose workspace may still be on disk: written in the transaction that deletes
 * the project row, removed once its files are gone (see project-delete.ts, orphan-workspaces.ts).
 */
export class ProjectTombstones {
  constructor(private readonly db: Queryable) {}

  async add(projectId: string): Promise<void> {
    await this.db.query('INSERT INTO project_tombstones (project_id) VALUES ($1) ON CONFLICT DO NOTHING', [projectId]);
  }

  /** The oldest first, at most `limit`. */
  async list(limit: number): Promise<string[]> {
    const res = await this.db.query<{ id: string }>('SELECT project_id::text AS id FROM project_tombstones ORDER BY deleted_at, project_id LIMIT $1', [limit]);
    return res.rows.map((r) => r.id);
  }

  async remove(projectId: string): Promise<void> {
    await this.db.query('DELETE FROM project_tombstones WHERE project_id = $1', [projectId]);
  }
}
