import { z } from 'zod';
import { PROVIDERS, type ProviderId } from '../../llm/providers/port.js';
import { AppError, notFound } from '../../core/errors.js';
import { ApiKeysRepo } from '../../db/repos/api-keys.js';
import { PlansRepo } from '../../db/repos/plans.js';
import type { Project } from '../../db/repos/projects.js';
import { RunsRepo, type KeySource } from '../../runs/runs-repo.js';
import { StepsRepo } from '../../db/repos/steps.js';
import { requireSandbox } from '../../sandbox/index.js';
import type { User } from '../../db/repos/users.js';
import type { AppContext } from '../context.js';
import { ipKey, WindowLimiter } from '../http/rate-limit.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedProject } from './ownership.js';
import { pageQuery, projectIdParams, runIdParams, runSchema, stepSchema, toRunJson, toStepJson } from './project-schemas.js';

const generateBody = z.object({
  prompt: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(20_000, 'must be at most 20000 characters')
    .optional()
    .meta({ description: "The first run defaults to the project's prompt; a later run (a change request) requires one" }),
  provider: z.enum(PROVIDERS),
  model: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  keyId: z.uuid({ message: 'must be the id of one of your API keys (a UUID)' }).optional(),
});

/**
 * Which key pays for the run: the given BYOK key (RunsRepo checks it is the caller's); else
 * platform keys when the plan allows them and the operator configured some for the provider;
 * else the caller's newest key for the provider; else a 400 saying what to add.
 */
async function chooseKey(ctx: AppContext, user: User, provider: ProviderId, keyId: string | undefined): Promise<{ keyId: string | null; keySource: KeySource }> {
  if (keyId) return { keyId, keySource: 'byok' };
  const plan = await new PlansRepo(ctx.db).get(user.planId);
  const platform = provider === 'openai-compatible' ? [] : ctx.config.platformKeys[provider];
  if (plan?.platformKeysAllowed && platform.length > 0) return { keyId: null, keySource: 'platform' };
  const newest = await new ApiKeysRepo(ctx.db).newestIdFor(user.id, provider);
  if (newest) return { keyId: newest, keySource: 'byok' };
  const why = plan?.platformKeysAllowed ? `no platform key for ${provider} is configured on this server` : `the ${plan?.name ?? user.planId} plan does not include platform keys`;
  throw new AppError('E_NO_KEY', `No API key for ${provider}: ${why}. Add your key with POST /api/user/api-keys (or pass keyId).`, { details: { provider } });
}

/** Kind and prompt: the first run generates (default: the project's prompt), later ones are change requests. */
async function runKind(runs: RunsRepo, project: Project, userId: string, prompt: string | undefined): Promise<{ kind: 'generate' | 'change'; prompt: string }> {
  const hasRuns = (await runs.listByProject(project.id, userId, { limit: 1 })).items.length > 0;
  if (!hasRuns) return { kind: 'generate', prompt: prompt ?? project.prompt };
  if (!prompt) throw new AppError('E_VALIDATION', 'Invalid body. prompt: is required for a change request (this project already has runs), e.g. "add dark mode".');
  return { kind: 'change', prompt };
}

export function runRoutes(ctx: AppContext): AnyRoute[] {
  const runs = new RunsRepo(ctx.db);
  const { perUser, perIp, windowSeconds } = ctx.config.generateRateLimit;
  const userLimit = new WindowLimiter({ max: perUser, windowSeconds, clock: ctx.clock, what: 'runs started by this account' });
  const ipLimit = new WindowLimiter({ max: perIp, windowSeconds, clock: ctx.clock, what: 'runs started from this address' });

  return [
    route({
      method: 'post',
      path: '/api/projects/:id/generate',
      summary: 'Start a run: the first generates the project, later ones are change requests. Progress streams on /ws.',
      tag: 'runs',
      auth: 'user',
      params: projectIdParams,
      body: generateBody,
      responses: {
        202: { description: 'Queued; follow it on the WebSocket or GET …/runs/:runId', schema: z.object({ run: runSchema }) },
        400: { description: 'Invalid input (E_VALIDATION) or no key for the provider (E_NO_KEY)' },
        402: { description: 'The plan’s concurrent-run limit is reached (E_LIMIT)' },
        404: { description: 'No such project, or keyId is not one of the caller’s keys' },
        429: { description: 'Too many runs started (E_RATE_LIMITED, Retry-After)' },
        503: { description: 'The server is low on disk space (E_DISK_RESERVE), or the sandbox cannot build apps on this node: no Docker engine, no sandbox image, or SAMOKODER_SANDBOX=off; the message has the fix (E_SANDBOX_UNAVAILABLE)' },
      },
      handler: async ({ params, body, auth, req }) => {
        // A run here could not install or test anything: refuse it now, with the fix, rather
        // than fail it later. Only where this node's worker runs it; an API-only node has no say.
        if (ctx.config.pipeline.workerEnabled) await requireSandbox(ctx.sandbox);
        const user = auth!.user;
        userLimit.hit(user.id);
        ipLimit.hit(ipKey(req.ip));
        const project = await ownedProject(ctx, params.id, user.id);
        const { kind, prompt } = await runKind(runs, project, user.id, body.prompt);
        const key = await chooseKey(ctx, user, body.provider, body.keyId);
        await ctx.workspaces.checkReserve?.();
        const { run } = await runs.create({ projectId: project.id, userId: user.id, kind, prompt, provider: body.provider, model: body.model, ...key, maxAttempts: ctx.config.pipeline.maxAttempts });
        ctx.logger.info({ runId: run.id, projectId: project.id, userId: user.id, kind, provider: run.provider, model: run.model, keySource: run.keySource }, 'run queued');
        return { status: 202, body: { run: toRunJson(run) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/runs',
      summary: "The project's runs, newest first (cursor pagination)",
      tag: 'runs',
      auth: 'user',
      params: projectIdParams,
      query: pageQuery,
      responses: {
        200: { description: 'A page', schema: z.object({ runs: z.array(runSchema), nextCursor: z.string().nullable() }) },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, query, auth }) => {
        await ownedProject(ctx, params.id, auth!.user.id);
        const page = await runs.listByProject(params.id, auth!.user.id, query);
        return { body: { runs: page.items.map(toRunJson), nextCursor: page.nextCursor } };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/runs/:runId',
      summary: 'One run with its steps, status, reason and usage',
      tag: 'runs',
      auth: 'user',
      params: runIdParams,
      responses: {
        200: { description: 'The run', schema: z.object({ run: runSchema, steps: z.array(stepSchema) }) },
        404: { description: 'No such run of the caller in this project' },
      },
      handler: async ({ params, auth }) => {
        const run = await runs.get(params.runId, auth!.user.id);
        if (!run || run.projectId !== params.id) throw notFound('Run');
        const steps = await new StepsRepo(ctx.db).list(run.id);
        return { body: { run: toRunJson(run), steps: steps.map(toStepJson) } };
      },
    }),
    route({
      method: 'post',
      path: '/api/projects/:id/runs/:runId/cancel',
      summary: 'Cancel a run: a queued one at once; a running one stops at its next check (status stays running until then)',
      tag: 'runs',
      auth: 'user',
      params: runIdParams,
      responses: {
        200: { description: 'The run after the request (unchanged when it had already finished)', schema: z.object({ run: runSchema }) },
        404: { description: 'No such run of the caller in this project' },
      },
      handler: async ({ params, auth }) => {
        const run = await runs.get(params.runId, auth!.user.id);
        if (!run || run.projectId !== params.id) throw notFound('Run');
        const after = await runs.requestCancel(run.id, auth!.user.id);
        if (!after) throw notFound('Run');
        return { body: { run: toRunJson(after) } };
      },
    }),
  ];
}
