import { z } from 'zod';
import { PROVIDERS } from '../../protocol/providers.js';
import { catalogueModelSchema, modelCatalogueSchema, modelEditSchema } from '../../protocol/model-catalogue.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';

const viewQuery = z.object({ provider: z.enum(PROVIDERS).optional() });

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
  ];
}
