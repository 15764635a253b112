import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { EVENT_CATALOGUE, EVENT_TYPES, isDurableEventType, parseEventData } from '../../protocol/event-catalogue.js';
import { renderEventDocs } from '../../protocol/event-docs.js';
import { parseServerFrame } from '../../protocol/ws-frame-schemas.js';

describe('the event catalogue', () => {
  test('docs/events.md is generated from it and up to date (regenerate with `npm run docs:events`)', async () => {
    const onDisk = await readFile(new URL('../../docs/events.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderEventDocs());
  });

  test('every data field has a description for the docs', () => {
    const missing = EVENT_TYPES.flatMap((type) => {
      const schema = z.toJSONSchema(EVENT_CATALOGUE[type].data) as { properties?: Record<string, { description?: string }> };
      return Object.entries(schema.properties ?? {}).filter(([, f]) => !f.description).map(([name]) => `${type}.${name}`);
    });
    expect(missing).toEqual([]);
  });

  test('parseEventData accepts what the server sends and names what is wrong otherwise', () => {
    const finished = { stepSeq: 3, command: 'npm test', exitCode: 1, timedOut: false, truncated: false, durationMs: 812, tail: 'not ok 1' };
    expect(parseEventData('command.finished', finished)).toEqual({ ok: true, data: finished });
    expect(parseEventData('command.finished', { ...finished, code: 1 })).toMatchObject({ ok: false, error: expect.stringContaining('code') });
    expect(parseEventData('command.finished', { ...finished, exitCode: '1' })).toMatchObject({ ok: false, error: expect.stringContaining('exitCode') });
    expect(parseEventData('tool.called', { stepSeq: 1, tool: 'write_file', ok: true })).toMatchObject({ ok: false, error: expect.stringContaining('name') });
    expect(parseEventData('step.done', {})).toEqual({ ok: false, error: expect.stringContaining('unknown event type "step.done"') });
  });

  test('WebSocket frames: durable ones need a seq, ephemeral ones have none, control frames have their own shapes', () => {
    const base = { projectId: '7d3c1c64-5a43-4a5e-9d0c-7d7a3c0f1e11', runId: null, at: new Date().toISOString() };
    const written = { ...base, type: 'file.written', data: { stepSeq: 1, path: 'a.js', size: 3 } };
    expect(parseServerFrame({ ...written, seq: 4 }).ok).toBe(true);
    expect(parseServerFrame(written)).toMatchObject({ ok: false, error: expect.stringContaining('durable') });
    const delta = { ...base, type: 'llm.delta', data: { stepSeq: 1, text: 'he' } };
    expect(parseServerFrame(delta).ok).toBe(true);
    expect(parseServerFrame({ ...delta, seq: 5 }).ok).toBe(false);
    // A delta cut to fit NOTIFY may have lost fields; only a truncated one may.
    expect(parseServerFrame({ ...delta, data: {}, truncated: true }).ok).toBe(true);
    expect(parseServerFrame({ ...delta, data: {} }).ok).toBe(false);
    expect(parseServerFrame({ type: 'subscribed', projectId: base.projectId, since: 0 }).ok).toBe(true);
    expect(parseServerFrame({ type: 'error', code: 'E_NOT_FOUND', message: 'no such project' }).ok).toBe(true);
    expect(parseServerFrame({ type: 'subscribed', projectId: base.projectId }).ok).toBe(false);
  });

  test('durable and ephemeral: only the streamed text, chat tool calls and preview output are ephemeral', () => {
    expect(EVENT_TYPES.filter((t) => !isDurableEventType(t))).toEqual(['llm.delta', 'command.output', 'chat.delta', 'chat.tool', 'preview.output']);
  });
});
