import { z } from 'zod';
import { EVENT_CATALOGUE, EVENT_TYPES } from './event-catalogue.js';

/**
 * docs/events.md, rendered from the event catalogue (`npm run docs:events` writes it; a test fails
 * when the file differs, so the document cannot drift from what the server sends).
 */

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  anyOf?: JsonSchema[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const types = (Array.isArray(s.type) ? s.type : [s.type ?? 'any']).map((t) => {
    if (t === 'string' && s.format) return `string (${s.format})`;
    if (t === 'string' && s.maxLength !== undefined) return `string (≤ ${s.maxLength} chars)`;
    if ((t === 'integer' || t === 'number') && s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER) return `${t} ≥ ${s.minimum}`;
    return t;
  });
  return types.join(' | ');
}

export function renderEventDocs(): string {
  const out: string[] = [
    '# Events',
    '',
    '<!-- Generated from protocol/event-catalogue.ts by `npm run docs:events`; do not edit by hand. -->',
    '',
    "A project's events, as the WebSocket on `/ws` sends them (subscribe with `{\"type\":\"subscribe\",\"projectId\":…,\"since\":<last seq>}`) and as webhooks receive `run.finished`.",
    'Every event frame has `projectId`, `runId` (null for none), `type`, `at` (ISO 8601) and `data` (below).',
    '',
    '- **durable** events are stored and carry `seq`, the project\'s gapless sequence number: resubscribe with the last seq you have and you get every later one, once, in order.',
    '- **ephemeral** events carry no `seq` and are never replayed: those sent while you were disconnected are gone. A frame with `truncated: true` had string fields of its `data` cut (or `data` emptied) to fit the notification limit.',
    '',
    '| Type | Delivery | What it means |',
    '| --- | --- | --- |',
  ];
  for (const type of EVENT_TYPES) {
    const e = EVENT_CATALOGUE[type];
    out.push(`| [\`${type}\`](#${type.replace(/\./g, '')}) | ${e.durable ? 'durable' : 'ephemeral'} | ${cell(e.summary)} |`);
  }
  for (const type of EVENT_TYPES) {
    const e = EVENT_CATALOGUE[type];
    const schema = z.toJSONSchema(e.data, { io: 'output' }) as JsonSchema;
    const required = new Set(schema.required ?? []);
    out.push('', `## ${type}`, '', `${e.durable ? 'Durable' : 'Ephemeral'}. ${e.summary}`, '', '| Field | Type | Always | Description |', '| --- | --- | --- | --- |');
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      out.push(`| \`${name}\` | ${cell(typeOf(field))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(field.description ?? '')} |`);
    }
  }
  return `${out.join('\n')}\n`;
}
