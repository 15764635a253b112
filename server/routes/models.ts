import { z } from 'zod';
import { PROVIDERS } from '../../protocol/providers.js';
import { catalogueModelSchema, modelCatalogueSchema, modelEditSchema } from '../../protocol/model-catalogue.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { idSchema } from './schemas.js';

const viewQuery = z.object({ provider: z.enum(PROVIDERS).optional() });
const HOSTED = PROVIDERS.filter((p) => p !== 'openai-compatible');
const refreshBody = z.object({ provider: z.enum(HOSTED).meta({ description: 'A hosted provider (each openai-compatible server has its own list: its users\' keys list it)' }) });
const listedSchema = z.array(z.object({ id: z.string(), contextWindow: z.number().int().optional(), maxOutputTokens: z.number().int().optional() }));
const keyParams = z.object({ id: idSchema('must be an API key id (a UUID)') });

/** The model catalogue: what a user is offered, and the operators' edits. */
export function modelRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/models',
      summary: "The models you are offered, by provider: limits, prices, tool calling and role recommendations (the catalogue and what your keys' providers list; never retired ones)",
      tag: 'models',
      auth: 'user',
      query: viewQuery,
      responses: { 200: { description: 'Providers with their models', schema: modelCatalogueSchema } },
      handler: async ({ auth, query }) => ({ body: await ctx.llm.catalogue.view(auth!.user.id, query.provider) }),
    }),
    route({
      method: 'post',
      path: '/api/user/api-keys/:id/models',
      summary: "Ask the key's provider again which models it may use (GET /models); they replace what the key listed before",
      tag: 'models',
      auth: 'user',
      params: keyParams,
      responses: {
        200: { description: 'What the provider listed', schema: z.object({ models: listedSchema }) },
        404: { description: 'No such key owned by the caller (E_NOT_FOUND)' },
        502: { description: 'The provider rejected the key (E_PROVIDER_AUTH); a server without a list answers E_PROVIDER_BAD_REQUEST (400)' },
      },
      handler: async ({ auth, params }) => {
        const { models } = await ctx.llm.gateway.listKeyModels(auth!.user.id, params.id);
        await ctx.llm.catalogue.recordKeyModels(params.id, models);
        return { body: { models } };
      },
    }),
    route({
      method: 'get',
      path: '/api/admin/models',
      summary: 'The whole catalogue, retired models included',
      tag: 'admin',
      auth: 'admin',
      responses: { 200: { description: 'Providers with every catalogue model', schema: modelCatalogueSchema } },
      handler: async () => ({ body: ctx.llm.catalogue.adminView() }),
    }),
    route({
      method: 'put',
      path: '/api/admin/models',
      summary: 'Add a model to the catalogue or change the fields given (prices, limits, recommendations, retired); later seed files leave it alone',
      tag: 'admin',
      auth: 'admin',
      body: modelEditSchema,
      responses: {
        200: { description: 'The model as stored; every node uses it from now on', schema: z.object({ model: catalogueModelSchema }) },
        400: { description: 'Invalid input (E_VALIDATION)' },
      },
      handler: async ({ body }) => ({ body: { model: await ctx.llm.catalogue.edit(body) } }),
    }),
    route({
      method: 'post',
      path: '/api/admin/models/refresh',
      summary: "Retire the provider's catalogue models its own list (GET /models, with a platform key) no longer names; offer again those it names again",
      tag: 'admin',
      auth: 'admin',
      body: refreshBody,
      responses: {
        200: {
          description: 'What changed',
          schema: z.object({ listed: z.number().int(), retired: z.array(z.string()), restored: z.array(z.string()) }),
        },
        503: { description: 'No platform key for the provider is configured or usable (E_NO_PLATFORM_KEY)' },
      },
      handler: async ({ body }) => {
        const listed = await ctx.llm.gateway.listPlatformModels(body.provider);
        const changes = await ctx.llm.catalogue.retireUnlisted(body.provider, listed);
        return { body: { listed: listed.length, ...changes } };
      },
    }),
  ];
}
