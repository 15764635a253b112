import type { Queryable } from '../db/port.js';
import { StepUsageRepo, type StepUsageSample } from '../db/repos/step-usage.js';
import { AGENT_ROLES, type AgentRole } from '../protocol/api-types.js';
import type { Workspace } from '../workspaces/index.js';
import { costMicroUsd, type PriceSource } from './cost.js';

/**
 * A run's cost before it starts, as a range. The method (docs/pipeline.md, "Estimates"):
 *
 * 1. Per step of each role, the average input and output tokens and model calls of the server's
 *    latest MEASURED_STEPS finished steps of that role (StepUsageRepo.recent); with fewer than
 *    MIN_SAMPLES of them, DEFAULT_STEP (built-in figures) stands in.
 * 2. The request's own tokens (its characters / 4) and, for a change, the project's (its text
 *    files' characters / 4, at most what the context builder sends: a tree and PROJECT_CONTEXT_CAP
 *    characters of files) are added to each step's input — once per step for the low end, once
 *    per call for the high end.
 * 3. Steps: low = planner + architect + the fewest coder tasks, no fix round; high = the most
 *    tasks and every fix round (SAMOKODER_FIX_ROUNDS), times HIGH_MARGIN.
 * 4. Cost: each role's tokens at its model's prices in the model catalogue; null when a model has none.
 */

export const MEASURED_STEPS = 200;
export const MIN_SAMPLES = 5;
const HIGH_MARGIN = 1.25;
/** Characters of files the context builder sends a coder or fixer step at most (tree listing aside). */
const PROJECT_CONTEXT_CAP = 24_000;
const CHARS_PER_TOKEN = 4;

/** Tokens and calls of one step of a role. */
export interface StepAverage {
  inputTokens: number;
  outputTokens: number;
  calls: number;
  /** How many finished steps the average is over; 0: the built-in figures. */
  samples: number;
}

/** Used until MIN_SAMPLES steps of a role have finished on this server. */
export const DEFAULT_STEP: Readonly<Record<AgentRole, Omit<StepAverage, 'samples'>>> = {
  planner: { inputTokens: 2_000, outputTokens: 600, calls: 1 },
  architect: { inputTokens: 3_000, outputTokens: 800, calls: 1 },
  coder: { inputTokens: 30_000, outputTokens: 5_000, calls: 6 },
  fixer: { inputTokens: 30_000, outputTokens: 4_000, calls: 6 },
};

/** Coder tasks a plan has: a new project's, and a change's. */
const TASKS = { generate: { low: 2, high: 6 }, change: { low: 1, high: 3 } } as const;

export interface RunEstimate {
  tokens: { low: number; high: number };
  /** null when a model the run would use has no price. */
  costUsd: { low: number; high: number } | null;
  basis: {
    kind: 'generate' | 'change';
    promptTokens: number;
    projectTokens: number;
    tasks: { low: number; high: number };
    fixRounds: number;
    /** Per role: the step average used, and how many measured steps it is over (0: built-in). */
    perStep: Record<AgentRole, StepAverage>;
    unpricedModels: string[];
  };
}

/** The average step of each role: measured when there are enough samples, else the built-in figure. */
export function stepAverages(measured: Map<string, StepUsageSample>): Record<AgentRole, StepAverage> {
  const out = {} as Record<AgentRole, StepAverage>;
  for (const role of AGENT_ROLES) {
    const m = measured.get(role);
    out[role] =
      m && m.steps >= MIN_SAMPLES
        ? { inputTokens: Math.round(m.inputTokens / m.steps), outputTokens: Math.round(m.outputTokens / m.steps), calls: Math.max(1, m.calls / m.steps), samples: m.steps }
        : { ...DEFAULT_STEP[role], samples: 0 };
  }
  return out;
}

export interface EstimateInput {
  kind: 'generate' | 'change';
  prompt: string;
  /** Characters of the project's text files (0 for a new project). */
  projectChars: number;
  fixRounds: number;
  perStep: Record<AgentRole, StepAverage>;
  /** Each role's provider and model. */
  models: Record<AgentRole, { provider: string; model: string }>;
  /** The model catalogue's prices (what the ledger bills with). */
  prices: PriceSource;
}

/** The pure part of the estimate (see the method above). */
export function estimateRun(input: EstimateInput): RunEstimate {
  const promptTokens = Math.ceil(input.prompt.length / CHARS_PER_TOKEN);
  const projectTokens = Math.ceil(Math.min(input.projectChars, PROJECT_CONTEXT_CAP) / CHARS_PER_TOKEN);
  const tasks = TASKS[input.kind];
  const counts = (end: 'low' | 'high'): Record<AgentRole, number> => ({
    planner: 1,
    architect: 1,
    coder: tasks[end],
    fixer: end === 'low' ? 0 : input.fixRounds,
  });
  const unpriced = new Set<string>();
  const range = (end: 'low' | 'high'): { tokens: number; micro: number } => {
    let tokens = 0;
    let micro = 0;
    const n = counts(end);
    for (const role of AGENT_ROLES) {
      const avg = input.perStep[role];
      const extraPerCall = promptTokens + projectTokens;
      const inputTokens = n[role] * (avg.inputTokens + extraPerCall * (end === 'low' ? 1 : avg.calls));
      const outputTokens = n[role] * avg.outputTokens;
      tokens += inputTokens + outputTokens;
      const { provider, model } = input.models[role];
      const cost = n[role] > 0 ? costMicroUsd(input.prices.price(provider, model), { inputTokens, outputTokens }) : 0;
      if (cost === null) unpriced.add(`${provider}/${model}`);
      else micro += cost;
    }
    const margin = end === 'high' ? HIGH_MARGIN : 1;
    return { tokens: Math.round(tokens * margin), micro: micro * margin };
  };
  const low = range('low');
  const high = range('high');
  const usd = (micro: number): number => Math.round(micro) / 1e6;
  return {
    tokens: { low: low.tokens, high: high.tokens },
    costUsd: unpriced.size ? null : { low: usd(low.micro), high: usd(high.micro) },
    basis: { kind: input.kind, promptTokens, projectTokens, tasks: { ...tasks }, fixRounds: input.fixRounds, perStep: input.perStep, unpricedModels: [...unpriced].sort() },
  };
}

/** The measured step averages of the server (see StepUsageRepo.recent). */
export async function measuredStepAverages(db: Queryable): Promise<Record<AgentRole, StepAverage>> {
  return stepAverages(await new StepUsageRepo(db).recent(AGENT_ROLES, MEASURED_STEPS));
}

/** Characters of a workspace's files (sizes from the tree listing; binary files count too, which errs high). */
export async function projectChars(ws: Workspace | undefined): Promise<number> {
  if (!ws) return 0;
  const tree = await ws.files.tree({ maxEntries: 2_000 });
  return tree.entries.reduce((n, e) => n + (e.type === 'file' ? e.size + e.path.length + 1 : 0), 0);
}
