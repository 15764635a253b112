import { z } from 'zod';
import { STEP_KINDS } from './event-catalogue.js';
import { PROVIDERS } from './providers.js';

/**
 * The REST API's response bodies that the web UI and the CLI read, as the zod schemas the server's
 * routes declare (and the OpenAPI document is generated from), with their types. The server maps
 * its rows to these shapes (server/routes/*-schemas.ts: toProjectJson, …); clients import the
 * types only, so no validation library reaches the web bundle.
 */

const iso = z.string().meta({ format: 'date-time' });
const isoOrNull = iso.nullable();

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: z.enum(['user', 'admin']),
    planId: z.string(),
    createdAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'User' });

export const sessionSchema = z.object({ token: z.string(), expiresAt: z.string(), user: userSchema }).meta({ id: 'Session' });

/** Logout with a Supabase token: it cannot be revoked here; the client signs out at Supabase. */
export const logoutNotRevokedSchema = z.object({ revoked: z.literal(false), expiresAt: z.string().nullable(), message: z.string() }).meta({ id: 'LogoutNotRevoked' });

export const planSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    maxProjects: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    monthlyTokenLimit: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    maxConcurrentRuns: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    maxRunSeconds: z.number().int().nullable().meta({ description: "A run's wall-clock budget from its first start (resumes included); null: unlimited" }),
    monthlySandboxSeconds: z.number().int().nullable().meta({ description: 'Wall-clock seconds of sandbox commands per month; null: unlimited' }),
    maxWorkspaceMb: z.number().int().nullable().meta({ description: "Disk quota of each project's workspace (files and git history), MiB; null: the server's default" }),
    chatMaxMessageChars: z.number().int().nullable().meta({ description: "The longest project-chat question, characters; null: the server's cap" }),
    chatMaxModelTurns: z.number().int().nullable().meta({ description: "Model turns one chat answer may take (tool calls included); null: the server's cap" }),
    byokAllowed: z.boolean(),
    platformKeysAllowed: z.boolean(),
    priceUsdMonth: z.number(),
  })
  .meta({ id: 'Plan' });

export const meSchema = z
  .object({
    user: userSchema,
    plan: planSchema,
    usage: z.object({ month: z.string(), usedTokens: z.number(), reservedTokens: z.number(), sandboxSeconds: z.number(), projects: z.number() }),
  })
  .meta({ id: 'Me' });

export const keyValidationSchema = z
  .object({
    ok: z.boolean(),
    error: z.string().optional(),
    method: z.enum(['list', 'call']).optional().meta({ description: "list: the provider's model list (GET /models) answered; call: a server without one took a one-token call" }),
    models: z
      .array(z.object({ id: z.string(), contextWindow: z.number().int().optional(), maxOutputTokens: z.number().int().optional() }))
      .optional()
      .meta({ description: 'The models the key may use, as its provider listed them (they join your view of GET /api/models)' }),
  })
  .meta({ id: 'KeyValidation' });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    provider: z.enum(PROVIDERS),
    label: z.string().nullable(),
    masked: z.string().meta({ description: 'e.g. sk-…abcd; the key itself is never returned' }),
    baseUrl: z.string().nullable(),
    createdAt: z.string().meta({ format: 'date-time' }),
    lastUsedAt: z.string().nullable().meta({ format: 'date-time' }),
    validation: keyValidationSchema.optional(),
  })
  .meta({ id: 'ApiKey' });

export const projectSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string().meta({ description: 'File-name-safe; the export is <slug>.zip' }),
    prompt: z.string(),
    webhookUrl: z.string().nullable(),
    importedFrom: z.string().nullable().meta({ description: 'Where an imported project came from (a git URL, or zip:<file name>); null for one started from a prompt. Its first run is a change request.' }),
    lastEventSeq: z.number().int().meta({ description: 'Seq of the last durable event (0 before any): subscribe with since=this to get only new events' }),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'Project' });

/** The agent roles a run can give a model of their own (verify runs commands, no model). */
export const AGENT_ROLES = ['planner', 'architect', 'coder', 'fixer'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

const modelName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** generate's and estimate's `model` field, and each role's. */
export const modelNameSchema = modelName;

const roleModel = z
  .strictObject({
    provider: z.enum(PROVIDERS).optional().meta({ description: "Default: the request's provider" }),
    model: modelName,
  })
  .optional();

/** `models` of generate and estimate: a model per agent role; a role not named uses the request's provider and model. */
export const roleModelsRequestSchema = z
  .strictObject({ planner: roleModel, architect: roleModel, coder: roleModel, fixer: roleModel })
  .meta({ id: 'RoleModelsRequest', description: 'A model per agent role, e.g. a cheap planner and a strong coder' });

/** `budget` of generate: what the run may spend; the run stops with reason budget_exceeded once it crosses either. */
export const runBudgetRequestSchema = z
  .strictObject({
    maxTokens: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000_000, 'must be at most 1000000000').optional().meta({ description: "Input plus output tokens of the whole run; at most the plan's monthly token limit" }),
    maxCostUsd: z.number().positive('must be above 0').max(100_000, 'must be at most 100000').optional().meta({ description: "USD, as the ledger prices the calls (the model catalogue's prices)" }),
  })
  .meta({ id: 'RunBudgetRequest' });

export type RoleModelsRequest = z.infer<typeof roleModelsRequestSchema>;
export type RunBudgetRequest = z.infer<typeof runBudgetRequestSchema>;

export const runSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    kind: z.enum(['generate', 'change']),
    prompt: z.string(),
    provider: z.string(),
    model: z.string(),
    keyId: z.uuid().nullable().meta({ description: 'The BYOK key paying for the run; null for platform keys' }),
    keySource: z.enum(['byok', 'platform']),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    reason: z.string().nullable().meta({ description: 'Why it ended (e.g. limit_exceeded, cancelled, the failing check)' }),
    message: z.string().nullable().meta({ description: 'When it did not succeed: what happened and what to do next, in a sentence or two (as in run.finished)' }),
    cancelRequestedAt: isoOrNull,
    usage: z.object({
      inputTokens: z.number().int(),
      outputTokens: z.number().int(),
      costMicroUsd: z.number().int(),
      estimatedCalls: z.number().int().meta({ description: 'Calls billed at an estimate (tokenizer count) because the provider reported no usage' }),
    }),
    budget: z
      .object({
        maxTokens: z.number().int().nullable().meta({ description: 'null: no token budget of its own' }),
        maxCostMicroUsd: z.number().int().nullable().meta({ description: 'null: no cost budget of its own' }),
      })
      .meta({ description: 'What the run may spend; crossing it ends the run failed/budget_exceeded' }),
    models: z
      .partialRecord(z.enum(AGENT_ROLES), z.object({ provider: z.string(), model: z.string() }))
      .meta({ description: 'The roles that use a model other than the run’s own' }),
    createdAt: iso,
    startedAt: isoOrNull,
    finishedAt: isoOrNull,
  })
  .meta({ id: 'Run' });

export const stepSchema = z
  .object({
    seq: z.number().int(),
    kind: z.enum(STEP_KINDS),
    taskId: z.string().nullable(),
    round: z.number().int(),
    status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
    output: z.unknown(),
    commitSha: z.string().nullable(),
    error: z.string().nullable(),
    startedAt: iso,
    finishedAt: isoOrNull,
  })
  .meta({ id: 'Step' });

export const treeSchema = z
  .object({
    entries: z.array(
      z.object({
        path: z.string(),
        type: z.enum(['file', 'dir', 'symlink']),
        size: z.number().int().optional().meta({ description: 'Bytes (files only)' }),
      }),
    ),
    truncated: z.boolean().meta({ description: 'The listing stopped at its entry cap' }),
  })
  .meta({ id: 'FileTree' });

export const fileSchema = z
  .object({
    path: z.string(),
    size: z.number().int(),
    binary: z.boolean().meta({ description: 'true: no content (NUL bytes or not UTF-8); download the export for it' }),
    content: z.string().optional(),
  })
  .meta({ id: 'FileContent' });

export const commitSchema = z
  .object({
    sha: z.string(),
    subject: z.string(),
    message: z.string(),
    date: z.string().meta({ format: 'date-time' }),
    trailers: z.record(z.string(), z.string()).meta({ description: 'Step metadata, e.g. Samokoder-Run, Samokoder-Step' }),
  })
  .meta({ id: 'Commit' });

export const diffSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    files: z.array(z.object({ path: z.string(), additions: z.number().int().nullable(), deletions: z.number().int().nullable(), binary: z.boolean() })),
    patch: z.string().meta({ description: 'Unified diff, cut at 1 MB (then truncated is true)' }),
    truncated: z.boolean(),
  })
  .meta({ id: 'Diff' });

const byModelSchema = z.object({
  provider: z.string(),
  model: z.string(),
  calls: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheReadTokens: z.number().int(),
  cacheWriteTokens: z.number().int(),
  costMicroUsd: z.number().int().nullable().meta({ description: 'null: no price known for this model' }),
  pending: z.number().int().meta({ description: 'Calls still in flight (reserved, not settled)' }),
  estimatedCalls: z.number().int().meta({ description: 'Calls billed at an estimate (tokenizer count) because the provider reported no usage' }),
});

export const usageSchema = z
  .object({
    month: z.string().meta({ description: 'First day of the UTC month, YYYY-MM-DD' }),
    plan: z.object({
      id: z.string(),
      name: z.string(),
      monthlyTokenLimit: z.number().int().nullable().meta({ description: 'null: unlimited' }),
      monthlySandboxSeconds: z.number().int().nullable().meta({ description: 'Wall-clock seconds of sandbox commands per month; null: unlimited' }),
      maxRunSeconds: z.number().int().nullable().meta({ description: "A run's wall-clock budget from its first start; null: unlimited" }),
      byokAllowed: z.boolean(),
      platformKeysAllowed: z.boolean(),
    }),
    usedTokens: z.number().int(),
    reservedTokens: z.number().int(),
    remainingTokens: z.number().int().nullable().meta({ description: 'null: unlimited' }),
    costMicroUsd: z.number().int(),
    estimatedCalls: z.number().int().meta({ description: 'Calls billed at an estimate (tokenizer count) because the provider reported no usage' }),
    byModel: z.array(byModelSchema),
    sandboxSeconds: z.number().meta({ description: 'Wall-clock seconds of sandbox commands this month (millisecond precision)' }),
    remainingSandboxSeconds: z.number().nullable().meta({ description: 'null: unlimited' }),
  })
  .meta({ id: 'Usage' });

const stepAverageSchema = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  calls: z.number(),
  samples: z.number().int().meta({ description: 'Finished steps the average is measured over; 0: the built-in figures' }),
});

export const runEstimateSchema = z
  .object({
    tokens: z.object({ low: z.number().int(), high: z.number().int() }).meta({ description: 'Input plus output tokens of the whole run' }),
    costUsd: z.object({ low: z.number(), high: z.number() }).nullable().meta({ description: 'null: a model the run would use has no price (basis.unpricedModels)' }),
    basis: z.object({
      kind: z.enum(['generate', 'change']),
      promptTokens: z.number().int(),
      projectTokens: z.number().int().meta({ description: 'The part of the project the agents are sent (0 for a new project)' }),
      tasks: z.object({ low: z.number().int(), high: z.number().int() }),
      fixRounds: z.number().int(),
      perStep: z.object({ planner: stepAverageSchema, architect: stepAverageSchema, coder: stepAverageSchema, fixer: stepAverageSchema }),
      unpricedModels: z.array(z.string()),
    }),
  })
  .meta({ id: 'RunEstimate', description: 'The method is described in docs/pipeline.md (Estimates)' });

export const chatTurnSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    question: z.string(),
    answer: z.string().nullable().meta({ description: 'Markdown; null while answering or when the answer failed' }),
    status: z.enum(['answering', 'answered', 'failed']),
    error: z.string().nullable().meta({ description: 'Why the answer failed; null otherwise' }),
    provider: z.string(),
    model: z.string(),
    usage: z.object({ inputTokens: z.number().int(), outputTokens: z.number().int(), toolCalls: z.number().int() }),
    createdAt: iso,
    finishedAt: isoOrNull,
  })
  .meta({ id: 'ChatTurn' });

/** The error envelope every failure uses: `{error: {code, message, details?}}`. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'A stable code from the error catalogue, e.g. E_VALIDATION.' }),
      message: z.string().meta({ description: 'What went wrong and what to change.' }),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

export type User = z.infer<typeof userSchema>;
export type UserRole = User['role'];
export type Session = z.infer<typeof sessionSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Me = z.infer<typeof meSchema>;
export type ApiKey = z.infer<typeof apiKeySchema>;
export type KeyValidation = z.infer<typeof keyValidationSchema>;
export type Project = z.infer<typeof projectSchema>;
export type Run = z.infer<typeof runSchema>;
export type RunStatus = Run['status'];
export type Step = z.infer<typeof stepSchema>;
export type FileTree = z.infer<typeof treeSchema>;
export type TreeEntry = FileTree['entries'][number];
export type FileContent = z.infer<typeof fileSchema>;
export type Commit = z.infer<typeof commitSchema>;
export type Diff = z.infer<typeof diffSchema>;
export type Usage = z.infer<typeof usageSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type RunEstimate = z.infer<typeof runEstimateSchema>;
export type ChatTurn = z.infer<typeof chatTurnSchema>;
/** A list endpoint's page: the items under their plural name, and the cursor of the next page. */
export type Page<K extends string, T> = { [P in K]: T[] } & { nextCursor: string | null };
