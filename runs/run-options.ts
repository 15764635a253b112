import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Queryable } from '../db/port.js';
import { PlansRepo } from '../db/repos/plans.js';
import type { User } from '../db/repos/users.js';
import type { ModelGate } from '../llm/model-catalogue.js';
import type { ProviderId } from '../llm/providers/port.js';
import { AGENT_ROLES, type RoleModelsRequest, type RunBudgetRequest } from '../protocol/api-types.js';
import { chooseKey, type KeyChoice } from './key-choice.js';
import { NO_BUDGET, type RoleModels, type RunBudget } from './role-models.js';

/**
 * The budget a run is started with, checked against the user's plan: a token budget above the
 * plan's monthly token limit could never be reached (the plan stops the run first), so it is
 * refused with the limit named rather than silently cut.
 * @throws E_VALIDATION naming the plan's limit.
 */
export async function resolveBudget(db: Queryable, user: User, budget: RunBudgetRequest | undefined): Promise<RunBudget> {
  if (!budget) return NO_BUDGET;
  const maxTokens = budget.maxTokens ?? null;
  if (maxTokens !== null) {
    const plan = await new PlansRepo(db).get(user.planId);
    const limit = plan?.monthlyTokenLimit ?? null;
    if (limit !== null && maxTokens > limit) {
      throw new AppError('E_VALIDATION', `Invalid body. budget.maxTokens: must be at most ${limit}, the ${plan!.name} plan's monthly token limit.`, {
        details: { field: 'budget.maxTokens', max: limit },
      });
    }
  }
  return { maxTokens, maxCostMicroUsd: budget.maxCostUsd === undefined ? null : Math.max(1, Math.round(budget.maxCostUsd * 1e6)) };
}

/**
 * Each role's model and the key that pays for it: a role on the run's provider shares the run's
 * key; a role on another provider gets that provider's key as a run would (chooseKey: platform
 * keys when the plan has them, else the user's newest key; E_NO_KEY otherwise).
 */
export async function resolveRoleModels(
  db: Queryable,
  platformKeys: Config['platformKeys'],
  user: User,
  run: { provider: ProviderId; key: KeyChoice },
  models: RoleModelsRequest | undefined,
): Promise<RoleModels> {
  const out: RoleModels = {};
  for (const role of AGENT_ROLES) {
    const m = models?.[role];
    if (!m) continue;
    const provider = m.provider ?? run.provider;
    const key = provider === run.provider ? run.key : await chooseKey(db, platformKeys, user, provider, undefined);
    out[role] = { provider, model: m.model, ...key };
  }
  return out;
}

/**
 * The run's model and every role's (on the role's provider, else the run's) must be usable: run
 * start and the estimate refuse a retired or unknown one before anything is called or reserved.
 * @throws E_MODEL_RETIRED, E_MODEL_UNKNOWN.
 */
export async function requireUsableModels(gate: ModelGate, userId: string, run: { provider: ProviderId; model: string; models?: RoleModelsRequest | undefined }): Promise<void> {
  await gate.requireUsable(userId, run.provider, run.model);
  for (const role of AGENT_ROLES) {
    const m = run.models?.[role];
    if (m) await gate.requireUsable(userId, m.provider ?? run.provider, m.model);
  }
}
