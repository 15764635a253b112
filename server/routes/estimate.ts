import { z } from 'zod';
import { PROVIDERS } from '../../llm/providers/port.js';
import { AGENT_ROLES, modelNameSchema, roleModelsRequestSchema, runEstimateSchema, type AgentRole } from '../../protocol/api-types.js';
import { requireUsableModels } from '../../runs/run-options.js';
import { RunsRepo } from '../../runs/runs-repo.js';
import { estimateRun, measuredStepAverages, projectChars } from '../../usage/run-estimate.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedProject } from './ownership.js';
import { projectIdParams } from './project-schemas.js';

const estimateBody = z.object({
  prompt: z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters'),
  provider: z.enum(PROVIDERS),
  model: modelNameSchema,
  models: roleModelsRequestSchema.optional(),
});

export function estimateRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/projects/:id/estimate',
      summary: "What a run with this prompt and these models would spend, as a range of tokens and USD (before starting it). Nothing is called or reserved.",
      tag: 'runs',
      auth: 'user',
      params: projectIdParams,
      body: estimateBody,
      responses: {
        200: { description: 'The estimate and what it is based on', schema: runEstimateSchema },
        400: { description: 'Invalid input (E_VALIDATION); a retired or unknown model (E_MODEL_RETIRED, E_MODEL_UNKNOWN)' },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, body, auth }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        await requireUsableModels(ctx.llm.catalogue, auth!.user.id, body);
        const change = await new RunsRepo(ctx.db).projectHasRuns(project.id);
        const workspace = change ? await ctx.workspaces.open(project.id).catch(() => undefined) : undefined;
        const models = Object.fromEntries(
          AGENT_ROLES.map((role) => [role, { provider: body.models?.[role]?.provider ?? body.provider, model: body.models?.[role]?.model ?? body.model }]),
        ) as Record<AgentRole, { provider: string; model: string }>;
        const estimate = estimateRun({
          kind: change ? 'change' : 'generate',
          prompt: body.prompt,
          projectChars: await projectChars(workspace),
          fixRounds: ctx.config.pipeline.fixRounds,
          perStep: await measuredStepAverages(ctx.db),
          models,
          prices: ctx.llm.catalogue,
        });
        return { body: estimate };
      },
    }),
  ];
}
