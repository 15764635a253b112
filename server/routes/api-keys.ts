import { z } from 'zod';
import { storeUserKey } from '../../keys/user-keys.js';
import { baseUrlRefusal } from '../../llm/providers/base-url-guard.js';
import { PROVIDERS } from '../../llm/providers/port.js';
import { AppError, notFound } from '../../core/errors.js';
import { ApiKeysRepo, type ApiKeyInfo } from '../../db/repos/api-keys.js';
import { PlansRepo } from '../../db/repos/plans.js';
import { apiKeySchema, type KeyValidation } from '../../protocol/api-types.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { idSchema } from './schemas.js';

const createBody = z
  .object({
    provider: z.enum(PROVIDERS),
    apiKey: z
      .string()
      .min(1, 'must not be empty')
      .max(512, 'must be at most 512 characters')
      // Keys are printable ASCII; whitespace or control characters mean a copy-paste accident.
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces, line breaks or control characters'),
    label: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
    baseUrl: z
      .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL, like http://localhost:11434/v1' })
      .max(2048, 'must be at most 2048 characters')
      .optional(),
    validate: z
      .boolean()
      .optional()
      .meta({ description: "Check the key first with its provider's model list (GET /models; a server without one gets a one-token call); a rejected key is not stored (E_KEY_INVALID). The listed models are returned and offered in GET /api/models." }),
    validateModel: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: "Only for a server without a model list: the model the one-token check calls (default: the catalogue's cheapest for the provider)." }),
  })
  .superRefine((b, ctx) => {
    if (b.provider === 'openai-compatible' && !b.baseUrl) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'is required for openai-compatible keys (e.g. http://localhost:11434/v1 for Ollama)' });
    }
  });

const idParams = z.object({ id: idSchema('must be an API key id (a UUID)') });

const toJson = (k: ApiKeyInfo) => ({
  id: k.id,
  provider: k.provider,
  label: k.label,
  masked: k.masked,
  baseUrl: k.baseUrl,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

/** BYOK keys: stored envelope-encrypted, listed masked; the plaintext never leaves the server again. */
export function apiKeyRoutes(ctx: AppContext): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/user/api-keys',
      summary: "Store an API key (encrypted); optionally check it first with its provider's model list",
      tag: 'keys',
      auth: 'user',
      body: createBody,
      responses: {
        201: { description: 'Stored; only the masked form is returned', schema: apiKeySchema },
        400: {
          description:
            'Invalid input (E_VALIDATION, also a server without a model list and no model to call), a baseUrl on a refused address (E_BASE_URL_TARGET) or a key the provider rejected (E_KEY_INVALID); nothing stored',
        },
        402: { description: 'The plan does not allow own keys (E_LIMIT)' },
      },
      handler: async ({ body, auth }) => {
        const user = auth!.user;
        const plan = await new PlansRepo(ctx.db).get(user.planId);
        if (!plan?.byokAllowed) {
          throw new AppError('E_LIMIT', `limit_exceeded: the ${plan?.name ?? user.planId} plan does not allow your own API keys.`, { details: { limit: 'byok' } });
        }
        // Before any request: only what the URL itself says (a literal IP, localhost). A name is
        // checked on what it resolves to whenever a call connects (llm/providers/base-url-guard.ts).
        const refusal = body.baseUrl === undefined ? undefined : baseUrlRefusal(new URL(body.baseUrl), ctx.config.llm.allowPrivateBaseUrls);
        if (refusal !== undefined) {
          throw new AppError('E_BASE_URL_TARGET', `baseUrl: refused, ${refusal}. Use the address of a model server reachable on the public internet. Nothing was stored.`);
        }
        let validation: KeyValidation | undefined;
        if (body.validate) {
          validation = await ctx.llm.gateway.validateKey(
            { provider: body.provider, apiKey: body.apiKey, ...(body.baseUrl ? { baseUrl: body.baseUrl } : {}) },
            body.validateModel,
          );
          if (!validation.ok) {
            throw new AppError('E_KEY_INVALID', `The ${body.provider} key did not work: ${validation.error}. Nothing was stored.`, { details: { validation } });
          }
        }
        // The key and the models its provider listed, together or not at all.
        const stored = await ctx.db.transaction(async (tx) => {
          const key = await storeUserKey(tx, ctx.llm.vault, { userId: user.id, provider: body.provider, apiKey: body.apiKey, label: body.label, baseUrl: body.baseUrl });
          if (validation?.models) await ctx.llm.catalogue.recordKeyModels(key.id, validation.models, tx);
          return key;
        });
        ctx.logger.info({ userId: user.id, keyId: stored.id, provider: stored.provider, masked: stored.masked }, 'API key stored');
        return { status: 201, body: { ...toJson(stored), ...(validation ? { validation } : {}) } };
      },
    }),
    route({
      method: 'get',
      path: '/api/user/api-keys',
      summary: "The caller's API keys, masked",
      tag: 'keys',
      auth: 'user',
      responses: { 200: { description: 'Newest first', schema: z.object({ keys: z.array(apiKeySchema) }) } },
      handler: async ({ auth }) => ({ body: { keys: (await new ApiKeysRepo(ctx.db).list(auth!.user.id)).map(toJson) } }),
    }),
    route({
      method: 'delete',
      path: '/api/user/api-keys/:id',
      summary: 'Delete one of the caller’s API keys',
      tag: 'keys',
      auth: 'user',
      params: idParams,
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such key owned by the caller' } },
      handler: async ({ params, auth }) => {
        if (!(await new ApiKeysRepo(ctx.db).delete(auth!.user.id, params.id))) throw notFound('API key');
        return { status: 204 };
      },
    }),
  ];
}
