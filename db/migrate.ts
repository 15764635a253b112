import type { Logger } from '../core/logger.js';
import type { Database } from './port.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

// An arbitrary constant: the advisory lock key every node takes while migrating.
const MIGRATION_LOCK_KEY = 727_274_001;

export interface MigrationReport {
  applied: number[];
  current: number;
}

/**
 * Applies pending migrations. The whole thing runs in one transaction holding a transaction-level
 * advisory lock, so when several nodes start together one migrates and the others wait, then see
 * the migrations already recorded and apply nothing.
 */
export async function migrate(db: Database, logger?: Logger, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const have = new Set(done.rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
      logger?.info({ version: m.version, migration: m.name }, 'migration applied');
    }
    const current = Math.max(0, ...have, ...applied);
    return { applied, current };
  });
}

/** Whether every known migration is recorded: the readiness check. */
export async function migrationsApplied(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<boolean> {
  try {
    const res = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations WHERE version = ANY($1::int[])', [
      migrations.map((m) => m.version),
    ]);
    return res.rows[0]?.n === migrations.length;
  } catch {
    // No schema_migrations table yet: not ready.
    return false;
  }
}
