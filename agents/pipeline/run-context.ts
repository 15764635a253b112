import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { Database, Queryable } from '../../db/port.js';
import type { LeaseFence } from '../../db/queue/lease-fence.js';
import type { Run } from '../../runs/runs-repo.js';
import type { Step } from '../../db/repos/steps.js';
import type { SandboxHandle, SandboxPort } from '../../sandbox/port.js';
import type { BrowserCheckPort } from '../../sandbox/browser-port.js';
import type { Workspace } from '../../workspaces/index.js';
import type { LlmGateway } from '../../llm/llm-gateway.js';
import type { LlmSession } from '../../llm/llm-session.js';
import type { RunEvents } from '../../events/run-events.js';
import { RunStop } from './run-stop.js';
import { meteredSandbox } from './sandbox-meter.js';

export type PipelineSettings = Config['pipeline'];

/** Everything one run's steps need; built by the run worker for each attempt. */
export interface RunContext {
  readonly db: Database;
  readonly logger: Logger;
  readonly settings: PipelineSettings;
  readonly gateway: LlmGateway;
  /** The run attempt's reusable model-call state (opened key, SDK client); dropped with the attempt. */
  readonly llmSession: LlmSession;
  readonly workspace: Workspace;
  readonly run: Run;
  readonly events: RunEvents;
  /** Fires on cancel (reason CancelRequested), lease loss or worker stop. */
  readonly signal: AbortSignal;
  /** The run job's lease: fences the step boundaries' writes to the worker holding the job. */
  readonly lease: LeaseFence;
  /** The run's sandbox, acquired on first use and released when the attempt ends. */
  sandbox(): Promise<SandboxHandle>;
  /** Verify's browser check; undefined when it is off (SAMOKODER_BROWSER_CHECK=off, or no sandbox). */
  readonly browser?: BrowserCheck | undefined;
  /** The project's environment variables (decrypted), for verify's test command; absent: none. */
  readonly projectEnv?: (() => Promise<Record<string, string>>) | undefined;
  /** Tokens the run has spent, all attempts included (the stop-loss counts these). */
  tokensUsed: number;
  /** What the run's settled calls cost, all attempts included (its cost budget counts this). */
  costMicroUsdUsed: number;
}

/** The browser-check port with the settings verify reports in its messages. */
export interface BrowserCheck {
  readonly port: BrowserCheckPort;
  readonly appPort: number;
  readonly startTimeoutMs: number;
}

/** The step a model call or tool belongs to (for the ledger, events and commit trailers). */
export type StepRef = Pick<Step, 'id' | 'seq' | 'kind' | 'taskId' | 'round'>;

/**
 * Lazily acquires one sandbox handle per run attempt, metered (meteredSandbox: the plan's monthly
 * sandbox seconds, recorded per user-month and per run in `db`).
 */
export function sandboxAccess(port: SandboxPort | undefined, run: Run, workspaceDir: string, db: Queryable): { get(): Promise<SandboxHandle>; release(): Promise<void> } {
  let handle: Promise<SandboxHandle> | undefined;
  return {
    get() {
      if (!port) return Promise.reject(new RunStop('sandbox_unavailable', 'The sandbox is turned off on this node (SAMOKODER_SANDBOX=off), so commands cannot run.'));
      handle ??= port.acquire(run.projectId, workspaceDir, { ownerId: run.userId }).then((h) => meteredSandbox(h, { db, userId: run.userId, runId: run.id }));
      handle.catch(() => (handle = undefined));
      return handle;
    },
    async release() {
      const h = await handle?.catch(() => undefined);
      handle = undefined;
      await h?.release().catch(() => undefined);
    },
  };
}
