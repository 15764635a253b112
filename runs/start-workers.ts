import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import type { SandboxPort } from '../sandbox/port.js';
import { browserCheckFromConfig } from '../sandbox/index.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import type { LlmGateway } from '../llm/llm-gateway.js';
import { createWebhookWorker } from '../webhooks/webhook-worker.js';
import { RunWorker } from './run-worker.js';

export interface PipelineWorkers {
  /** Hands running runs back to the queue (another node, or this one after a restart, resumes them). */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts this node's run worker and webhook sender (unless SAMOKODER_RUN_WORKER=false), on the
 * composition root's workspace store and sandbox, so files and git share one lock and containers
 * one owner (the sandbox is undefined when SAMOKODER_SANDBOX=off; its owner closes it).
 */
export async function startPipelineWorkers(deps: {
  config: Config;
  db: Database;
  logger: Logger;
  gateway: LlmGateway;
  workspaces: WorkspaceStore;
  sandbox: SandboxPort | undefined;
}): Promise<PipelineWorkers> {
  const { config, db } = deps;
  if (!config.pipeline.workerEnabled) return { stop: async () => undefined };
  const logger = deps.logger.child({ module: 'pipeline' });
  const { workspaces, sandbox } = deps;
  const browserPort = sandbox ? browserCheckFromConfig(config, logger) : undefined;
  const browser = browserPort ? { port: browserPort, appPort: config.browser.port, startTimeoutMs: config.browser.startTimeoutMs } : undefined;
  const runs = new RunWorker({ db, logger, settings: config.pipeline, gateway: deps.gateway, workspaces, sandbox, browser, webhookMaxAttempts: config.webhooks.maxAttempts });
  const webhooks = createWebhookWorker({ db, logger, settings: config.webhooks });
  await runs.start();
  await webhooks.start();
  return {
    async stop(timeoutMs = config.shutdownTimeoutMs) {
      await Promise.all([runs.stop(timeoutMs), webhooks.stop(timeoutMs)]);
      await browserPort?.close();
    },
  };
}
