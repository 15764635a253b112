import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/logger.js';
import { PgDatabase } from '../../db/pg-database.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';
import { apiClient } from './server.js';

/** A service node on `db` (no run worker, a generous auth rate limit), quiet. */
export function startNode(db: PgDatabase | TestDatabase['db'], dataDir: string): Promise<RunningServer> {
  return startServer({
    env: {},
    overrides: { PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_RUN_WORKER: false, SAMOKODER_AUTH_RATE_LIMIT: 1000, SAMOKODER_WORKSPACE_QUOTA: 'reactive' },
    db,
    logger: createLogger({ level: 'silent' }),
  });
}

export type Api = ReturnType<typeof apiClient>;

export interface Nodes {
  t: TestDatabase;
  /** One client per node, in order. */
  apis: Api[];
  stop(): Promise<void>;
}

/**
 * `count` nodes on one fresh database (PostgreSQL: each node with its own pool and LISTEN
 * connection, as separate processes would have; PGlite: one node, it is in-process).
 */
export async function startNodes(kind: DatabaseKind, count: number): Promise<Nodes> {
  const t = await createTestDatabase(kind, { migrate: false });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-test-'));
  const nodes: RunningServer[] = [];
  const ownDbs: PgDatabase[] = [];
  const stop = async () => {
    for (const n of nodes.reverse()) await n.stop();
    for (const db of ownDbs) await db.close();
    await t.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    nodes.push(await startNode(t.db, dataDir));
    for (let i = 1; i < count; i++) {
      const db = new PgDatabase({ connectionString: t.url! });
      ownDbs.push(db);
      nodes.push(await startNode(db, dataDir));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { t, apis: nodes.map((n) => apiClient(n.url)), stop };
}
