import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createLlmServices } from '../llm/llm-services.js';
import { startPipelineWorkers } from '../runs/start-workers.js';
import { systemClock, type Clock } from '../core/clock.js';
import { loadConfig, type Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { resolveMasterKey, type MasterKey } from '../core/master-key.js';
import { migrate } from '../db/migrate.js';
import { openDatabase } from '../db/open.js';
import { startJobPurger } from '../db/queue/job-purger.js';
import { createDockerSandbox, sandboxSettingsFromConfig, sweepSandboxAtStartup } from '../sandbox/index.js';
import type { Database } from '../db/port.js';
import { createApp } from './app.js';
import { SessionCache } from './auth/session-cache.js';
import { ProjectListCache } from './projects/list-cache.js';
import { createSupabaseVerifier } from './auth/supabase.js';
import type { AppContext } from './context.js';
import { createMetrics } from './http/metrics.js';
import { EventFeed } from '../events/event-feed.js';
import { LocalWorkspaceStore } from '../workspaces/index.js';
import { attachProjectStreams } from './ws/ws-server.js';

/** How long an idle HTTP keep-alive connection stays open (see where it is set). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface StartOptions {
  /** Environment to read configuration from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Explicit settings, by variable name; they win over `env`. */
  overrides?: Parameters<typeof loadConfig>[1];
  /** Use this database instead of opening one from the configuration (tests). */
  db?: Database;
  logger?: Logger;
  clock?: Clock;
}

export interface RunningServer {
  url: string;
  port: number;
  config: Config;
  ctx: AppContext;
  masterKey: MasterKey;
  /** Graceful stop: refuse new connections, let in-flight requests finish, close the database. */
  stop(): Promise<void>;
}

/** The composition root: configuration, logger, database, migrations, HTTP server. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(options.env ?? process.env, options.overrides);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const ownsDb = !options.db;
  const db = options.db ?? (await openDatabase({ url: config.database.url, poolSize: config.database.poolSize, dataDir: config.dataDir, logger }));
  try {
    await migrate(db, logger);
    // Containers left by an earlier process (crashed or killed mid-exec) go before anything runs.
    await sweepSandboxAtStartup(config, logger);
    const workspaces = new LocalWorkspaceStore({ root: config.workspaces.dir, maxFileBytes: config.workspaces.maxFileBytes, quota: config.workspaces.quota, logger });
    // Which quota mechanism this node has is decided (and logged) once, before anything is served:
    // an operator who requires volumes learns at start that this host cannot make them.
    const quota = await workspaces.quotaStatus();
    if (quota.setting === 'enforce' && quota.active !== 'volume') {
      throw new AppError('E_CONFIG', `SAMOKODER_WORKSPACE_QUOTA=enforce, but workspace volumes cannot be made here: ${quota.reason ?? 'unknown reason'}. Run the service as root with loop devices, or set SAMOKODER_WORKSPACE_QUOTA=best-effort.`);
    }
    const masterKey = await resolveMasterKey(config.masterKey, config.dataDir, logger);
    const clock = options.clock ?? systemClock;
    // Verifies the master key against the database before anything is served.
    const llm = await createLlmServices({ config, db, clock, logger, masterKey });
    const sessions = await SessionCache.start(db);
    // One LISTEN per node on the events channel: it feeds every WebSocket subscription
    // and tells the project-list cache which lists moved.
    const feed = new EventFeed(db, logger);
    await feed.start();
    const projectLists = await ProjectListCache.start(db, feed);
    const ctx: AppContext = {
      config,
      db,
      logger,
      clock,
      llm,
      metrics: createMetrics(),
      supabase: createSupabaseVerifier({
        ...config.supabase,
        maxLifetimeSeconds: config.security.supabaseMaxLifetimeSeconds,
        now: () => clock.now().getTime() / 1000,
      }),
      sessions,
      projectLists,
      workspaces,
      // One sandbox per node: the run worker's containers are the ones a project delete removes.
      // Creating it starts nothing; containers come with the first acquire.
      sandbox: config.sandbox.enabled ? createDockerSandbox({ settings: sandboxSettingsFromConfig(config), logger }) : undefined,
    };
    const { app } = createApp(ctx);
    // The runs worker and the webhook sender; stopped before the database, which they write to.
    const pipeline = await startPipelineWorkers({ config, db, logger, gateway: llm.gateway, workspaces: ctx.workspaces, sandbox: ctx.sandbox });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    // Idle keep-alive connections stay open longer than a load balancer's (60 s on the common
    // ones): Node's default of 5 s closes a socket the proxy may be reusing at that moment, which
    // the client sees as a 502. headersTimeout must stay above it.
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    const sockets = new Set<Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    // WebSocket /ws: the node's event feed serves every socket's subscriptions.
    const streams = attachProjectStreams(server, ctx, feed);
    // Finished jobs past the retention are deleted on every node (cheap, and safe concurrently).
    const jobPurger = startJobPurger({ db, clock, logger, settings: { retentionMs: config.jobs.retentionMs, intervalMs: config.jobs.purgeIntervalMs } });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        logger.info('shutting down: no new connections; waiting for in-flight requests');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // WebSocket clients get 1001 and reconnect elsewhere with their last seq.
        await streams.close();
        await feed.stop();
        server.closeIdleConnections();
        const timer = setTimeout(() => {
          logger.warn({ open: sockets.size }, 'shutdown timeout: closing remaining connections');
          server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        await closed;
        clearTimeout(timer);
        await pipeline.stop(); // running runs are handed back to the queue, for another node to resume
        await jobPurger.stop();
        await ctx.sandbox?.close().catch((err: unknown) => logger.warn({ err }, 'could not remove the sandbox containers'));
        await sessions.stop();
        await projectLists.stop();
        if (ownsDb) await db.close();
        logger.info('stopped');
      })());

    return { url, port, config, ctx, masterKey, stop };
  } catch (err) {
    if (ownsDb) await db.close().catch(() => undefined);
    throw err;
  }
}
