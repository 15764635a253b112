import type { Config } from '../core/config.js';
import { AppError, notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Database } from '../db/port.js';
import { ProjectsRepo } from '../db/repos/projects.js';
import type { User } from '../db/repos/users.js';
import type { ModelGate } from '../llm/model-catalogue.js';
import type { ProviderId } from '../llm/providers/port.js';
import { requireSandbox } from '../sandbox/index.js';
import type { SandboxPort } from '../sandbox/port.js';
import type { WorkspaceStore } from '../workspaces/index.js';
import { enqueueRun } from './enqueue-run.js';
import { chooseKey } from './key-choice.js';
import { requireUsableModels, resolveBudget, resolveRoleModels } from './run-options.js';
import type { RoleModelsRequest, RunBudgetRequest } from '../protocol/api-types.js';
import { deleteProject, type UserScopedCache } from './project-delete.js';
import type { RunKind } from './run-status.js';
import { RunsRepo, type Run } from './runs-repo.js';

export interface RunLifecycleDeps {
  config: Pick<Config, 'platformKeys' | 'pipeline'>;
  db: Database;
  logger: Logger;
  workspaces: WorkspaceStore;
  sandbox: SandboxPort | undefined;
  /** Refuses retired and unknown models before anything is reserved (the model catalogue). */
  models: ModelGate;
  /** Forget a user's cached data when one of their projects is deleted. */
  caches: readonly UserScopedCache[];
}

export interface StartRunInput {
  user: User;
  projectId: string;
  /** Required for a change request; the first run defaults to the project's prompt. */
  prompt: string | undefined;
  provider: ProviderId;
  model: string;
  /** A BYOK key of the user; otherwise chosen (see chooseKey). */
  keyId: string | undefined;
  /** What the run may spend (see resolveBudget). */
  budget?: RunBudgetRequest | undefined;
  /** A model per agent role (see resolveRoleModels). */
  models?: RoleModelsRequest | undefined;
}

/**
 * The project and run lifecycle: starting a run (its kind, the key that pays, the plan's limits,
 * one active run per project, the queue), cancelling one, deleting a project with everything it
 * has. The HTTP routes, the CLI and tests call this; storage stays in the repositories.
 */
export class RunLifecycle {
  constructor(private readonly deps: RunLifecycleDeps) {}

  /**
   * Queues a run: the project's first is a `generate` (default prompt: the project's), later ones
   * are change requests and need a prompt.
   * @throws E_SANDBOX_UNAVAILABLE (this node runs runs and has no sandbox), E_NOT_FOUND,
   *   E_VALIDATION (a change request without prompt, a budget above the plan's limit),
   *   E_MODEL_RETIRED / E_MODEL_UNKNOWN (the run's model or a role's), E_NO_KEY (also for a role's provider), E_DISK_RESERVE, E_CONFLICT (the
   *   project has an active run, named in the message), E_LIMIT.
   */
  async start(input: StartRunInput): Promise<Run> {
    const { db, config, logger } = this.deps;
    // A run here could not install or test anything: refuse it now, with the fix, rather than
    // fail it later. Only where this node's worker runs it; an API-only node has no say.
    if (config.pipeline.workerEnabled) await requireSandbox(this.deps.sandbox);
    const project = await new ProjectsRepo(db).get(input.projectId, input.user.id);
    if (!project) throw notFound('Project');
    const { kind, prompt } = await this.kindOf(project, input.prompt);
    await requireUsableModels(this.deps.models, input.user.id, input);
    const key = await chooseKey(db, config.platformKeys, input.user, input.provider, input.keyId);
    const budget = await resolveBudget(db, input.user, input.budget);
    const models = await resolveRoleModels(db, config.platformKeys, input.user, { provider: input.provider, key }, input.models);
    await this.deps.workspaces.checkReserve?.();
    const { run } = await enqueueRun(db, {
      projectId: project.id,
      userId: input.user.id,
      kind,
      prompt,
      provider: input.provider,
      model: input.model,
      ...key,
      budget,
      models,
      maxAttempts: config.pipeline.maxAttempts,
    });
    logger.info({ runId: run.id, projectId: project.id, userId: input.user.id, kind, provider: run.provider, model: run.model, keySource: run.keySource }, 'run queued');
    return run;
  }

  /**
   * Asks a run of the user's project to stop: a queued one is cancelled at once, a running one
   * stops at its worker's next check (its status stays running until then); a finished one is
   * returned unchanged.
   * @throws E_NOT_FOUND when the run is not the user's or not in this project.
   */
  async cancel(projectId: string, runId: string, userId: string): Promise<Run> {
    const runs = new RunsRepo(this.deps.db);
    const run = await runs.get(runId, userId);
    if (!run || run.projectId !== projectId) throw notFound('Run');
    const after = await runs.requestCancel(run.id, userId);
    if (!after) throw notFound('Run');
    return after;
  }

  /** See deleteProject (project-delete.ts) for the order of the steps and what a failure leaves. */
  async deleteProject(projectId: string, userId: string): Promise<void> {
    await deleteProject(this.deps, projectId, userId);
  }

  /** An imported project's code came from elsewhere: every run on it, the first too, is a change request. */
  private async kindOf(project: { id: string; prompt: string; importedFrom: string | null }, prompt: string | undefined): Promise<{ kind: RunKind; prompt: string }> {
    const imported = project.importedFrom !== null;
    if (!imported && !(await new RunsRepo(this.deps.db).projectHasRuns(project.id))) return { kind: 'generate', prompt: prompt ?? project.prompt };
    const why = imported ? 'this project was imported' : 'this project already has runs';
    if (!prompt) throw new AppError('E_VALIDATION', `Invalid body. prompt: is required for a change request (${why}), e.g. "add dark mode".`);
    return { kind: 'change', prompt };
  }
}
