import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { soakEnv } from '../../bench/soak/env.js';
import { formatReport } from '../../bench/soak/report.js';
import { startSoakService, type SoakService } from '../../bench/soak/service.js';
import { runSoak } from '../../bench/soak/traffic.js';
import { LABEL_PROJECT } from '../../sandbox/labels.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { tinyAppResponder } from '../../scripts/fake-llm/tiny-app.js';
import { createEmptyPgDatabase } from '../helpers/databases.js';
import { ensureBuilt } from '../helpers/processes.js';

/** The CI cut of `npm run bench:soak`: ~60 s of the same mixed traffic; no 5xx, nothing hangs. */
const SOAK_MS = Number(process.env.SAMOKODER_SOAK_SHORT_MS ?? 60_000);

describe('soak, short (one real service process on PostgreSQL)', () => {
  let fake: FakeLlm | undefined;
  let pg: { url: string; drop: () => Promise<void> } | undefined;
  let service: SoakService | undefined;
  let dataDir = '';

  beforeAll(async () => {
    ensureBuilt();
    fake = await startFakeLlm({ responder: tinyAppResponder({ firstByteDelayMs: 50, chunkDelayMs: 5 }) });
    pg = await createEmptyPgDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sk-soak-'));
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await service?.exited;
    // A graceful stop removes the service's containers; after a failure, remove what is left here.
    const docker = new Docker({ version: 'v1.41' });
    const ids = await projectIdsOf(pg?.url).catch(() => []);
    for (const id of ids) for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_PROJECT}=${id}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await pg?.drop();
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('mixed traffic for a minute: zero 5xx, no hung operation, every run succeeds, graceful stop', async () => {
    service = await startSoakService(soakEnv({ databaseUrl: pg!.url, dataDir }));
    const report = await runSoak({ baseUrl: service.url, pid: service.pid, durationMs: SOAK_MS, llmBaseUrl: fake!.baseUrls['openai-compatible'] });
    console.warn(formatReport(report));
    expect(report.serverErrors).toBe(0);
    expect(report.hung).toBe(0);
    expect(report.otherErrors).toBe(0);
    expect(report.runs.started).toBeGreaterThan(5);
    expect(report.runs.succeeded).toBe(report.runs.started);
    for (const kind of ['register', 'key-add', 'key-list', 'generate', 'subscribe', 'export'] as const) {
      expect(report.ops.find((o) => o.kind === kind)!.count).toBeGreaterThan(0);
    }
    expect(await service.stop()).toBe(0);
  }, SOAK_MS + 150_000);
});

async function projectIdsOf(url: string | undefined): Promise<string[]> {
  if (!url) return [];
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ id: string }>('SELECT id FROM projects')).rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}
