import type { LlmServices } from '../llm/llm-services.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import type { SandboxPort } from '../sandbox/port.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import type { RunLifecycle } from '../runs/run-lifecycle.js';
import type { ProjectChat } from '../chat/project-chat.js';
import type { SessionCache } from './auth/session-cache.js';
import type { ProjectListCache } from './projects/list-cache.js';
import type { SupabaseVerifier } from './auth/supabase.js';
import type { Metrics } from './http/metrics.js';
import type { PreviewServices } from '../previews/index.js';

/** What route handlers and middleware get from the composition root. */
export interface AppContext {
  config: Config;
  db: Database;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  supabase: SupabaseVerifier | undefined;
  /** Session tokens already looked up, dropped on the database's notice when they change. */
  sessions: SessionCache;
  /** Pages of the project list already answered, dropped on the database's notice when they change. */
  projectLists: ProjectListCache;
  /** BYOK vault, platform key pool, usage ledger and the LLM gateway built on them. */
  llm: LlmServices;
  /** One directory (and git repository) per project: files, history, export. */
  workspaces: WorkspaceStore;
  /** The Docker sandbox (shared with this node's run worker); undefined when SAMOKODER_SANDBOX=off. */
  sandbox: SandboxPort | undefined;
  /** Starting and cancelling runs, deleting projects. */
  lifecycle: RunLifecycle;
  /** Read-only questions about a project's code. */
  chat: ProjectChat;
  /** Live previews, share links and the projects' variables. */
  previews: PreviewServices;
}
