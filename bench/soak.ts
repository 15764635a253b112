/**
 * Soak: steady mixed traffic (register, keys, projects, generate, subscribe, export)
 * against one real service process on PostgreSQL, with its run worker, the real Docker sandbox and
 * the fake LLM (a tiny dependency-free app per run). Reports throughput, p50/p99 latency per
 * operation, the service's RSS over time (VmRSS from /proc/<pid>/status, once a second) and the
 * count of 5xx answers, which must be 0. Exits 1 on any 5xx, hung operation or failed run.
 *
 *   npm run bench:soak -- --minutes 30     # SAMOKODER_SANDBOX_IMAGE, DATABASE_URL honoured
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeLlm } from '../scripts/fake-llm/server.js';
import { tinyAppResponder } from '../scripts/fake-llm/tiny-app.js';
import { benchPostgres } from './postgres.js';
import { soakEnv } from './soak/env.js';
import { formatReport } from './soak/report.js';
import { startSoakService } from './soak/service.js';
import { runSoak, type SoakReport } from './soak/traffic.js';

function minutesArg(): number {
  const i = process.argv.indexOf('--minutes');
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env.MINUTES ?? 30);
  if (!Number.isFinite(v) || v <= 0) throw new Error('--minutes must be a positive number');
  return v;
}

async function main(): Promise<void> {
  const minutes = minutesArg();
  const pg = await benchPostgres();
  const fake = await startFakeLlm({ responder: tinyAppResponder({ firstByteDelayMs: 50, chunkDelayMs: 5 }) });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'samokoder-soak-'));
  let report: SoakReport | undefined;
  try {
    const service = await startSoakService(soakEnv({ databaseUrl: pg.url, dataDir }));
    console.error(`soak: ${minutes} min against pid ${service.pid} at ${service.url}`);
    try {
      report = await runSoak({ baseUrl: service.url, pid: service.pid, durationMs: minutes * 60_000, llmBaseUrl: fake.baseUrls['openai-compatible'], onProgress: (l) => console.error(l) });
    } finally {
      const code = await service.stop();
      console.error(`service stopped (exit ${code})`);
    }
    console.log(formatReport(report));
  } finally {
    await fake.close();
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const failedRuns = report ? report.runs.started - report.runs.succeeded : 0;
  if (!report || report.serverErrors > 0 || report.hung > 0 || failedRuns > 0) process.exitCode = 1;
}

await main();
