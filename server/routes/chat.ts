import { z } from 'zod';
import { PROVIDERS } from '../../llm/providers/port.js';
import { chatTurnSchema } from '../../protocol/api-types.js';
import { CHAT_CAPS, CHAT_EXPORT_MAX_TURNS } from '../../chat/chat-limits.js';
import { chatExportJson, chatExportMarkdown, toChatTurnJson } from '../../chat/chat-export.js';
import { ChatRepo } from '../../chat/chat-repo.js';
import type { AppContext } from '../context.js';
import { route, type AnyRoute } from '../http/route.js';
import { ownedProject } from './ownership.js';
import { pageQuery, projectIdParams } from './project-schemas.js';
import { idSchema } from './schemas.js';

const chatBody = z.object({
  message: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(CHAT_CAPS.messageChars, `must be at most ${CHAT_CAPS.messageChars} characters`)
    .meta({ description: "The question; the plan's chatMaxMessageChars bounds it" }),
  provider: z.enum(PROVIDERS),
  model: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  keyId: idSchema('must be the id of one of your API keys (a UUID)').optional(),
  turnId: idSchema('must be a new UUID').optional().meta({ description: "Your id for the new turn, to match its chat.* events before the answer returns" }),
});

const exportQuery = z.object({ format: z.enum(['md', 'json']).default('md').meta({ description: 'md (Markdown, the default) or json' }) });

/**
 * The project chat: questions about the code, answered read-only (chat/project-chat.ts). POST
 * answers in the response when the answer is complete; the answer streams meanwhile as chat.*
 * events on the project's WebSocket stream. A client that goes away cancels the answer.
 */
export function chatRoutes(ctx: AppContext): AnyRoute[] {
  const turns = new ChatRepo(ctx.db);
  return [
    route({
      method: 'post',
      path: '/api/projects/:id/chat',
      summary: 'Ask a question about the project; answered with read-only tools (the workspace never changes). Streams as chat.* events on /ws.',
      tag: 'chat',
      auth: 'user',
      params: projectIdParams,
      body: chatBody,
      responses: {
        200: { description: 'The answered turn', schema: z.object({ turn: chatTurnSchema }) },
        400: { description: 'Invalid input, a question longer than the plan allows (E_VALIDATION), a retired or unknown model (E_MODEL_RETIRED, E_MODEL_UNKNOWN), or no key for the provider (E_NO_KEY)' },
        402: { description: "The plan's monthly tokens, or its model turns for one answer, are used up (E_LIMIT); the turn is stored as failed" },
        404: { description: 'No such project, or keyId is not one of the caller’s keys' },
        409: { description: 'turnId names an existing turn (E_CONFLICT)' },
        502: { description: 'The model provider failed (E_PROVIDER_*); the turn is stored as failed' },
      },
      handler: async ({ params, body, auth, res }) => {
        // The answer stops when the client goes away (the response closes before it is sent).
        const abort = new AbortController();
        const onClose = () => {
          if (!res.writableFinished) abort.abort();
        };
        res.on('close', onClose);
        try {
          const turn = await ctx.chat.ask({ user: auth!.user, projectId: params.id, message: body.message, provider: body.provider, model: body.model, keyId: body.keyId, turnId: body.turnId, signal: abort.signal });
          return { body: { turn: toChatTurnJson(turn) } };
        } finally {
          res.off('close', onClose);
        }
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/chat',
      summary: "The project's chat history, newest first (cursor pagination)",
      tag: 'chat',
      auth: 'user',
      params: projectIdParams,
      query: pageQuery,
      responses: {
        200: { description: 'A page', schema: z.object({ turns: z.array(chatTurnSchema), nextCursor: z.string().nullable() }) },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, query, auth }) => {
        await ownedProject(ctx, params.id, auth!.user.id);
        const page = await turns.list(params.id, auth!.user.id, query);
        return { body: { turns: page.items.map(toChatTurnJson), nextCursor: page.nextCursor } };
      },
    }),
    route({
      method: 'get',
      path: '/api/projects/:id/chat/export',
      summary: `The whole chat history as a file: Markdown or JSON, oldest first (at most ${CHAT_EXPORT_MAX_TURNS} turns)`,
      tag: 'chat',
      auth: 'user',
      params: projectIdParams,
      query: exportQuery,
      responses: {
        200: { description: 'An attachment named <project-slug>-chat.md or .json', contentType: 'text/markdown' },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, query, auth, res }) => {
        const project = await ownedProject(ctx, params.id, auth!.user.id);
        const all = await turns.all(project.id, auth!.user.id, CHAT_EXPORT_MAX_TURNS);
        const now = ctx.clock.now();
        const json = query.format === 'json';
        res.status(200);
        res.setHeader('Content-Type', json ? 'application/json; charset=utf-8' : 'text/markdown; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${project.slug}-chat.${query.format}"`);
        res.setHeader('Cache-Control', 'no-store');
        res.end(json ? chatExportJson(project, all, now) : chatExportMarkdown(project, all, now));
      },
    }),
    route({
      method: 'delete',
      path: '/api/projects/:id/chat',
      summary: "Delete the project's chat history (an answer in flight goes with it)",
      tag: 'chat',
      auth: 'user',
      params: projectIdParams,
      responses: {
        200: { description: 'How many turns were deleted', schema: z.object({ deleted: z.number().int() }) },
        404: { description: 'No such project of the caller' },
      },
      handler: async ({ params, auth }) => ({ body: { deleted: await ctx.chat.clear(params.id, auth!.user.id) } }),
    }),
  ];
}
