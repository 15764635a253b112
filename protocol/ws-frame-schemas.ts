import { z } from 'zod';
import { EVENT_CATALOGUE, isDurableEventType, isEventType } from './event-catalogue.js';
import { isEventFrameType, type ServerFrame } from './ws-frames.js';

/** The zod schemas of the WebSocket frames described in ws-frames.ts. */

/** Either case, lower-cased: the form ids have everywhere on the server (as in the REST routes). */
const projectId = z.uuid({ message: 'must be a project id (a UUID)' }).toLowerCase();

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('subscribe'),
    projectId,
    since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).meta({ description: 'The last seq you have; 0 for everything' }),
  }),
  z.object({ type: z.literal('unsubscribe'), projectId }),
  // Browsers cannot send protocol pings; this one answers `pong` with the same id.
  z.object({ type: z.literal('ping'), id: z.union([z.string().max(100), z.number()]).optional() }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const controlFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribed'), projectId: z.uuid(), since: z.number().int().min(0) }),
  z.strictObject({ type: z.literal('unsubscribed'), projectId: z.uuid() }),
  z.strictObject({ type: z.literal('pong'), id: z.union([z.string(), z.number()]).optional() }),
  z.strictObject({ type: z.literal('error'), code: z.string().regex(/^E_[A-Z_]+$/), message: z.string(), projectId: z.string().optional() }),
]);

export type ControlFrame = z.infer<typeof controlFrameSchema>;

const eventEnvelopeSchema = z.strictObject({
  seq: z.number().int().min(1).optional(),
  projectId: z.uuid(),
  runId: z.uuid().nullable(),
  type: z.string(),
  at: z.iso.datetime(),
  data: z.unknown(),
  truncated: z.literal(true).optional(),
});

/**
 * Checks a server frame (parsed JSON) against the protocol: a control frame against its schema,
 * an event frame's envelope (durable ones with a seq, ephemeral ones without) and its data
 * against the event catalogue (a truncated ephemeral frame's data may lack fields).
 */
export function parseServerFrame(v: unknown): { ok: true; frame: ServerFrame } | { ok: false; error: string } {
  const type = (v as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return { ok: false, error: 'a frame must be an object with a string type' };
  if (!isEventFrameType(type)) {
    const r = controlFrameSchema.safeParse(v);
    return r.success ? { ok: true, frame: r.data } : { ok: false, error: `control frame ${type}: ${r.error.message}` };
  }
  const env = eventEnvelopeSchema.safeParse(v);
  if (!env.success) return { ok: false, error: `event frame ${type}: ${env.error.message}` };
  if (!isEventType(type)) return { ok: false, error: `unknown event type "${type}"` };
  const durable = isDurableEventType(type);
  if (durable !== (env.data.seq !== undefined)) return { ok: false, error: `${type} is ${durable ? 'durable and needs' : 'ephemeral and has no'} seq` };
  if (durable && env.data.truncated) return { ok: false, error: `${type} is durable and is never truncated` };
  const schema = EVENT_CATALOGUE[type].data;
  const data = (env.data.truncated ? schema.partial() : schema).safeParse(env.data.data);
  if (!data.success) return { ok: false, error: `${type} data: ${data.error.message}` };
  return { ok: true, frame: v as ServerFrame };
}
