import type { Queryable } from '../db/port.js';
import type { PreviewStatus } from '../protocol/preview-types.js';

export interface PreviewRow {
  projectId: string;
  userId: string;
  status: PreviewStatus;
  containerId: string | null;
  dockerHost: string | null;
  upstream: string | null;
  commitSha: string | null;
  output: string;
  startedAt: Date;
  lastAccessAt: Date;
}

interface Row {
  project_id: string;
  user_id: string;
  status: PreviewStatus;
  container_id: string | null;
  docker_host: string | null;
  upstream: string | null;
  commit_sha: string | null;
  output: string;
  started_at: Date;
  last_access_at: Date;
}

const toPreview = (r: Row): PreviewRow => ({
  projectId: r.project_id,
  userId: r.user_id,
  status: r.status,
  containerId: r.container_id,
  dockerHost: r.docker_host,
  upstream: r.upstream,
  commitSha: r.commit_sha,
  output: r.output,
  startedAt: new Date(r.started_at),
  lastAccessAt: new Date(r.last_access_at),
});

/** previews: one row per project that has (had) a preview; every node reads it to proxy. */
export class PreviewsRepo {
  constructor(private readonly db: Queryable) {}

  async get(projectId: string): Promise<PreviewRow | undefined> {
    const r = await this.db.query<Row>('SELECT * FROM previews WHERE project_id = $1', [projectId]);
    return r.rows[0] && toPreview(r.rows[0]);
  }

  async starting(projectId: string, userId: string, commitSha: string): Promise<void> {
    await this.db.query(
      `INSERT INTO previews (project_id, user_id, status, commit_sha, output) VALUES ($1, $2, 'starting', $3, '')
       ON CONFLICT (project_id) DO UPDATE SET status = 'starting', container_id = NULL, docker_host = NULL, upstream = NULL,
         commit_sha = EXCLUDED.commit_sha, output = '', started_at = now(), last_access_at = now(), updated_at = now()`,
      [projectId, userId, commitSha],
    );
  }

  async running(projectId: string, at: { containerId: string; dockerHost: string; upstream: string }): Promise<void> {
    await this.db.query(
      `UPDATE previews SET status = 'running', container_id = $2, docker_host = $3, upstream = $4, last_access_at = now(), updated_at = now() WHERE project_id = $1`,
      [projectId, at.containerId, at.dockerHost, at.upstream],
    );
  }

  async failed(projectId: string, output: string): Promise<void> {
    await this.db.query(`UPDATE previews SET status = 'failed', container_id = NULL, upstream = NULL, output = $2, updated_at = now() WHERE project_id = $1`, [projectId, output]);
  }

  /** The preview's address is about to go (its container stops): no proxy routes to it any more. */
  async unroute(projectId: string, containerId: string | null): Promise<void> {
    await this.db.query('UPDATE previews SET upstream = NULL, updated_at = now() WHERE project_id = $1 AND container_id IS NOT DISTINCT FROM $2', [projectId, containerId]);
  }

  /** Marks it stopped when it still runs `containerId` (a newer start is left alone); true when it did. */
  async stopped(projectId: string, containerId: string | null, output: string): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE previews SET status = 'stopped', container_id = NULL, upstream = NULL, output = $3, updated_at = now()
        WHERE project_id = $1 AND container_id IS NOT DISTINCT FROM $2 AND status <> 'stopped'`,
      [projectId, containerId, output],
    );
    return r.rowCount > 0;
  }

  async touch(projectId: string, at: Date): Promise<void> {
    await this.db.query('UPDATE previews SET last_access_at = greatest(last_access_at, $2) WHERE project_id = $1', [projectId, at]);
  }

  /** Every running preview's address (`host:port`), by project: what the data plane routes to. */
  async routes(): Promise<Map<string, string>> {
    const r = await this.db.query<{ project_id: string; upstream: string }>(`SELECT project_id, upstream FROM previews WHERE status = 'running' AND upstream IS NOT NULL`);
    return new Map(r.rows.map((row) => [row.project_id, row.upstream]));
  }

  /** Running previews that served nothing since `before`. */
  async idle(before: Date): Promise<PreviewRow[]> {
    const r = await this.db.query<Row>(`SELECT * FROM previews WHERE status = 'running' AND last_access_at < $1`, [before]);
    return r.rows.map(toPreview);
  }
}

export interface ShareRow {
  id: string;
  projectId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
}

interface ShareDbRow {
  id: string;
  project_id: string;
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Date;
}

const toShare = (r: ShareDbRow): ShareRow => ({
  id: r.id,
  projectId: r.project_id,
  expiresAt: new Date(r.expires_at),
  revokedAt: r.revoked_at && new Date(r.revoked_at),
  createdAt: new Date(r.created_at),
});

/** preview_shares: links that open a project's preview without an account; only the token's hash is kept. */
export class SharesRepo {
  constructor(private readonly db: Queryable) {}

  async create(input: { id: string; projectId: string; tokenHash: Buffer; expiresAt: Date }): Promise<ShareRow> {
    const r = await this.db.query<ShareDbRow>(
      'INSERT INTO preview_shares (id, project_id, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING *',
      [input.id, input.projectId, input.tokenHash, input.expiresAt],
    );
    return toShare(r.rows[0]!);
  }

  async list(projectId: string): Promise<ShareRow[]> {
    const r = await this.db.query<ShareDbRow>('SELECT * FROM preview_shares WHERE project_id = $1 ORDER BY created_at DESC', [projectId]);
    return r.rows.map(toShare);
  }

  /** The link with this token hash, when neither expired nor revoked. */
  async findActiveByHash(tokenHash: Buffer): Promise<ShareRow | undefined> {
    const r = await this.db.query<ShareDbRow>('SELECT * FROM preview_shares WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()', [tokenHash]);
    return r.rows[0] && toShare(r.rows[0]);
  }

  async isActive(id: string, projectId: string): Promise<boolean> {
    const r = await this.db.query('SELECT 1 FROM preview_shares WHERE id = $1 AND project_id = $2 AND revoked_at IS NULL AND expires_at > now()', [id, projectId]);
    return r.rowCount > 0;
  }

  /** Every link neither revoked nor expired: share id → project id. */
  async active(): Promise<Map<string, string>> {
    const r = await this.db.query<{ id: string; project_id: string }>('SELECT id, project_id FROM preview_shares WHERE revoked_at IS NULL AND expires_at > now()');
    return new Map(r.rows.map((row) => [row.id, row.project_id]));
  }

  async revoke(projectId: string, id: string): Promise<boolean> {
    const r = await this.db.query('UPDATE preview_shares SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND project_id = $2', [id, projectId]);
    return r.rowCount > 0;
  }
}
