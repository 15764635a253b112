import { z } from 'zod';
import { PROVIDERS } from '../../llm/providers/port.js';
import { notFound } from '../../core/errors.js';
import { RunsRepo } from '../../runs/runs-repo.js';
import { StepsRepo } from '../../db/repos/steps.js';
import type { AppContext } from '../context.js';
import { ipKey, WindowLimiter } from '../http/rate-limit.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedProject } from './ownership.js';
import { pageQuery, projectIdParams, runIdParams, runSchema, stepSchema, toRunJson, toStepJson } from './project-schemas.js';
import { idSchema } from './schemas.js';
import { modelNameSchema, roleModelsRequestSchema, runBudgetRequestSchema } from '../../protocol/api-types.js';

const generateBody = z.object({
  prompt: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(20_000, 'must be at most 20000 characters')
    .optional()
    .meta({ description: "The first run defaults to the project's prompt; a later run (a change request) requires one" }),
  provider: z.enum(PROVIDERS),
  model: modelNameSchema,
  keyId: idSchema('must be the id of one of your API keys (a UUID)').optional(),
  budget: runBudgetRequestSchema.optional(),
  models: roleModelsRequestSchema.optional(),
  fromChatTurn: idSchema('must be a chat turn id (a UUID)')
    .optional()
    .meta({ description: 'An answered chat turn of the project: its question and answer become the prompt (prompt, if given, is put in front)' }),
});

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
        400: { description: "Invalid input (E_VALIDATION; also a budget.maxTokens above the plan's monthly token limit) a retired or unknown model, the run's or a role's (E_MODEL_RETIRED, E_MODEL_UNKNOWN), or no key for the provider or a role's provider (E_NO_KEY)" },
        402: { description: 'The plan’s concurrent-run limit is reached (E_LIMIT)' },
        404: { description: 'No such project, keyId is not one of the caller’s keys, or fromChatTurn is not a turn of this project' },
        409: { description: 'The project already has a queued or running run (E_CONFLICT; details.activeRunId names it), or fromChatTurn is not answered' },
        429: { description: 'Too many runs started (E_RATE_LIMITED, Retry-After)' },
        503: { description: 'The server is low on disk space (E_DISK_RESERVE), or the sandbox cannot build apps on this node: no Docker engine, no sandbox image, or SAMOKODER_SANDBOX=off; the message has the fix (E_SANDBOX_UNAVAILABLE)' },
      },
      handler: async ({ params, body, auth, req }) => {
        userLimit.hit(auth!.user.id);
        ipLimit.hit(ipKey(req.ip));
        const prompt = body.fromChatTurn ? await ctx.chat.changeRequestPrompt(params.id, auth!.user.id, body.fromChatTurn, body.prompt) : body.prompt;
        const run = await ctx.lifecycle.start({ user: auth!.user, projectId: params.id, prompt, provider: body.provider, model: body.model, keyId: body.keyId, budget: body.budget, models: body.models });
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
      handler: async ({ params, auth }) => ({ body: { run: toRunJson(await ctx.lifecycle.cancel(params.id, params.runId, auth!.user.id)) } }),
    }),
  ];
}
