import type { KeySource } from '../keys/key-source.js';
import type { ProviderId } from '../llm/providers/port.js';
import { AGENT_ROLES, type AgentRole } from '../protocol/api-types.js';

/** The model one agent role of a run uses, and the key that pays for it (chosen when the run starts). */
export interface RoleModel {
  provider: ProviderId;
  model: string;
  keyId: string | null;
  keySource: KeySource;
}

/** The roles that use a model other than the run's own; the others use the run's. */
export type RoleModels = Partial<Record<AgentRole, RoleModel>>;

/** What a run may spend (null: no budget of the user's). Cost in micro-USD, as the ledger prices calls. */
export interface RunBudget {
  maxTokens: number | null;
  maxCostMicroUsd: number | null;
}

export const NO_BUDGET: RunBudget = { maxTokens: null, maxCostMicroUsd: null };

const isRole = (kind: string): kind is AgentRole => (AGENT_ROLES as readonly string[]).includes(kind);

/** The model a step of `kind` calls: its role's when the run names one, else the run's own. */
export function modelForStep(run: { provider: string; model: string; keyId: string | null; keySource: KeySource; models: RoleModels }, kind: string): RoleModel {
  const own = isRole(kind) ? run.models[kind] : undefined;
  return own ?? { provider: run.provider as ProviderId, model: run.model, keyId: run.keyId, keySource: run.keySource };
}

/** The stored jsonb, read back: only well-formed role entries survive (the column is ours, but it is data). */
export function parseRoleModels(value: unknown): RoleModels {
  const out: RoleModels = {};
  if (!value || typeof value !== 'object') return out;
  for (const role of AGENT_ROLES) {
    const m = (value as Record<string, unknown>)[role] as Partial<RoleModel> | undefined;
    if (m && typeof m.provider === 'string' && typeof m.model === 'string' && (m.keySource === 'byok' || m.keySource === 'platform')) {
      out[role] = { provider: m.provider, model: m.model, keyId: typeof m.keyId === 'string' ? m.keyId : null, keySource: m.keySource };
    }
  }
  return out;
}
