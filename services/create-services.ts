import { systemClock, type Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MasterKey } from '../core/master-key.js';
import type { Database } from '../db/port.js';
import { startJobPurger } from '../db/queue/job-purger.js';
import { EventFeed } from '../events/event-feed.js';
import { createLlmServices, type LlmServices } from '../llm/llm-services.js';
import { startOrphanWorkspaceSweeper } from '../runs/orphan-workspaces.js';
import { RunLifecycle } from '../runs/run-lifecycle.js';
import { ProjectChat } from '../chat/project-chat.js';
import { ChatRepo } from '../chat/chat-repo.js';
import { RunWorker } from '../runs/run-worker.js';
import { browserCheckFromConfig, createDockerSandbox, sandboxSettingsFromConfig, sweepSandboxAtStartup, type SandboxPort } from '../sandbox/index.js';
import { SessionCache } from '../server/auth/session-cache.js';
import { ProjectListCache } from '../server/projects/list-cache.js';
import { createWebhookWorker } from '../webhooks/webhook-worker.js';
import { LocalWorkspaceStore, type WorkspaceStore } from '../workspaces/index.js';
import { createPreviewServices, type PreviewServices } from '../previews/index.js';
import { openStorage } from './open-storage.js';

export interface ServiceOverrides {
  /** Use this database instead of opening one from the configuration (tests; its owner closes it). */
  db?: Database;
  logger?: Logger;
  clock?: Clock;
  masterKey?: MasterKey;
  /** Instead of the configured Docker sandbox (its owner closes it); null for none (as SAMOKODER_SANDBOX=off). */
  sandbox?: SandboxPort | null;
  workspaces?: WorkspaceStore;
  /**
   * Start this node's background work (default true): the run worker and webhook sender (when
   * config.pipeline.workerEnabled), the job purger and the orphan-workspace sweep.
   */
  workers?: boolean;
}

export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  clock: Clock;
  masterKey: MasterKey;
  /** BYOK vault, platform key pool, usage ledger and the LLM gateway built on them. */
  llm: LlmServices;
  /** One directory (and git repository) per project, shared by the API and the run worker (one git lock). */
  workspaces: WorkspaceStore;
  /** One per node, shared by the run worker and project delete; undefined when SAMOKODER_SANDBOX=off. */
  sandbox: SandboxPort | undefined;
  /** One LISTEN per node on the events channel: WebSocket subscriptions and the project-list cache. */
  feed: EventFeed;
  sessions: SessionCache;
  projectLists: ProjectListCache;
  lifecycle: RunLifecycle;
  /** Read-only questions about a project's code (answers in flight are cancelled on stop). */
  chat: ProjectChat;
  /** Live previews (their containers on this node) and the projects' variables. */
  previews: PreviewServices;
  /** Whether this node executes runs. */
  runsWorker: boolean;
  /**
   * Stops everything in order: the workers first (running runs are handed back to the queue, for
   * another node or this one after a restart), then the sandbox's containers, the caches and
   * the feed, and last the database (a database or sandbox passed in is left to its owner). Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * The composition root: every long-lived part of the service, built once, in dependency order.
 * The HTTP server (server/server.ts), the worker-only node (`samokoder worker`), the CLI's
 * in-process build and the benchmarks all start here.
 */
export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const storage = await openStorage(config, overrides);
  const { logger, db, masterKey } = storage;
  // Undone in reverse on stop, or on a failure half-way through the start.
  const stack: Array<() => Promise<void>> = [() => storage.close()];
  const unwind = async () => {
    for (const undo of stack.splice(0).reverse()) await undo();
  };
  try {
    const clock = overrides.clock ?? systemClock;
    // Verifies the master key against the database before anything is served.
    const llm = await createLlmServices({ config, db, clock, logger, masterKey });
    stack.push(() => llm.catalogue.close());
    const feed = new EventFeed(db, logger);
    await feed.start();
    stack.push(() => feed.stop());
    const projectLists = await ProjectListCache.start(db, feed);
    stack.push(() => projectLists.stop());
    const sessions = await SessionCache.start(db);
    stack.push(() => sessions.stop());
    const workspaces = overrides.workspaces ?? (await configuredWorkspaces(config, logger));
    const sandbox = overrides.sandbox === undefined ? await configuredSandbox(config, logger) : (overrides.sandbox ?? undefined);
    if (overrides.sandbox === undefined) {
      stack.push(async () => {
        await sandbox?.close().catch((err: unknown) => logger.warn({ err }, 'could not remove the sandbox containers'));
      });
    }
    const lifecycle = new RunLifecycle({ config, db, logger, workspaces, sandbox, models: llm.catalogue, caches: [projectLists] });
    const chat = new ProjectChat({ config, db, logger, gateway: llm.gateway, models: llm.catalogue, workspaces });
    stack.push(() => chat.stop());
    const previews = createPreviewServices({ config, db, logger, workspaces, vault: llm.vault, masterKey, sandboxEnabled: sandbox !== undefined });
    previews.manager.start(feed);
    stack.push(() => previews.manager.close());
    const workers = overrides.workers ?? true;
    const runsWorker = workers && config.pipeline.workerEnabled;
    if (workers) {
      const sweeper = startOrphanWorkspaceSweeper({ db, workspaces, logger, intervalMs: config.lifecycle.orphanSweepIntervalMs });
      stack.push(() => sweeper.stop());
      // Finished jobs past the retention are deleted on every node (cheap, and safe concurrently).
      // Chat answers a process left unfinished when it died (an hour is far past any live one).
      const abandoned = await new ChatRepo(db).failAbandoned(60 * 60_000);
      if (abandoned > 0) logger.warn({ abandoned }, 'failed chat turns left unanswered by a stopped process');
      const purger = startJobPurger({ db, clock, logger, settings: { retentionMs: config.jobs.retentionMs, intervalMs: config.jobs.purgeIntervalMs } });
      stack.push(async () => {
        await purger.stop();
      });
    }
    if (runsWorker) {
      const pipelineLogger = logger.child({ module: 'pipeline' });
      // Verify's browser check: its own containers, beside the sandbox's (none without a sandbox).
      const browserPort = sandbox ? browserCheckFromConfig(config, pipelineLogger) : undefined;
      if (browserPort) stack.push(() => browserPort.close());
      const browser = browserPort && { port: browserPort, appPort: config.browser.port, startTimeoutMs: config.browser.startTimeoutMs };
      const runs = new RunWorker({ db, logger: pipelineLogger, settings: config.pipeline, gateway: llm.gateway, workspaces, sandbox, browser, webhookMaxAttempts: config.webhooks.maxAttempts, projectEnv: (userId, projectId) => previews.env.open(userId, projectId) });
      const webhooks = createWebhookWorker({ db, logger: pipelineLogger, settings: config.webhooks });
      await webhooks.start();
      stack.push(async () => {
        await webhooks.stop(config.shutdownTimeoutMs);
      });
      await runs.start();
      stack.push(() => runs.stop(config.shutdownTimeoutMs));
    }
    let stopping: Promise<void> | undefined;
    return {
      config,
      logger,
      db,
      clock,
      masterKey,
      llm,
      workspaces,
      sandbox,
      feed,
      sessions,
      projectLists,
      lifecycle,
      chat,
      previews,
      runsWorker,
      stop: () => (stopping ??= unwind()),
    };
  } catch (err) {
    await unwind().catch(() => undefined);
    throw err;
  }
}

/**
 * The workspace store with this node's disk quota. Which quota mechanism the node has is decided
 * (and logged) once, before anything is served: an operator who requires volumes learns at start
 * that this host cannot make them.
 */
async function configuredWorkspaces(config: Config, logger: Logger): Promise<WorkspaceStore> {
  const workspaces = new LocalWorkspaceStore({ root: config.workspaces.dir, maxFileBytes: config.workspaces.maxFileBytes, quota: config.workspaces.quota, logger });
  const quota = await workspaces.quotaStatus();
  if (quota.setting === 'enforce' && quota.active !== 'volume') {
    throw new AppError(
      'E_CONFIG',
      `SAMOKODER_WORKSPACE_QUOTA=enforce, but workspace volumes cannot be made here: ${quota.reason ?? 'unknown reason'}. Run the service as root with loop devices, or set SAMOKODER_WORKSPACE_QUOTA=best-effort.`,
    );
  }
  return workspaces;
}

/** The Docker sandbox when SAMOKODER_SANDBOX=docker; containers an earlier process left go first. */
async function configuredSandbox(config: Config, logger: Logger): Promise<SandboxPort | undefined> {
  if (!config.sandbox.enabled) return undefined;
  await sweepSandboxAtStartup(config, logger);
  // Creating it starts nothing; containers come with the first acquire.
  return createDockerSandbox({ settings: sandboxSettingsFromConfig(config), logger });
}
