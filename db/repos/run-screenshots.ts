import type { Queryable } from '../port.js';

/** The browser check's picture of a run's app: the latest one per run. */
export class RunScreenshotsRepo {
  constructor(private readonly db: Queryable) {}

  async save(runId: string, png: Buffer): Promise<void> {
    await this.db.query(
      `INSERT INTO run_screenshots (run_id, png) VALUES ($1, $2)
       ON CONFLICT (run_id) DO UPDATE SET png = EXCLUDED.png, taken_at = now()`,
      [runId, png],
    );
  }

  /** The run's PNG when it belongs to the project and the user owns it; undefined otherwise (one answer for "not yours" and "none"). */
  async findOwned(userId: string, projectId: string, runId: string): Promise<Buffer | undefined> {
    const r = await this.db.query<{ png: Uint8Array }>(
      `SELECT s.png FROM run_screenshots s
         JOIN runs r ON r.id = s.run_id
         JOIN projects p ON p.id = r.project_id
        WHERE s.run_id = $1 AND r.project_id = $2 AND p.user_id = $3`,
      [runId, projectId, userId],
    );
    const png = r.rows[0]?.png;
    // PGlite returns bytea as Uint8Array, pg as Buffer.
    return png ? Buffer.from(png.buffer, png.byteOffset, png.byteLength) : undefined;
  }
}
