import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ProviderId, StreamPart } from '../../llm/providers/index.js';
import { collect, rejection, useFakeLlmAdapters } from '../helpers/fake-llm.js';

// The real SDKs, over HTTP, against the fake server: each provider family goes through its own SDK.
const { fake, script, model, request } = useFakeLlmAdapters({ maxRetries: 2, userText: 'Say hello.' });

const textOf = (parts: StreamPart[]): string => parts.map((p) => (p.type === 'text-delta' ? p.text : '')).join('');

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const PATHS: Record<ProviderId, string> = {
  anthropic: '/v1/messages',
  openai: '/v1/chat/completions',
  groq: '/openai/v1/chat/completions',
  openrouter: '/api/v1/chat/completions',
  'openai-compatible': '/compat/v1/chat/completions',
};

describe.each(['anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible'] as const)('%s adapter', (provider) => {
  beforeEach(() => script({}));

  it('streams text in several deltas through the real SDK, with the key and path of the provider', async () => {
    script({ turns: [{ text: 'Hello, streaming world!', chunkSize: 3 }] });
    const parts = await collect(model(provider).stream(request()));
    const deltas = parts.filter((p) => p.type === 'text-delta');
    expect(deltas.length).toBe(8);
    expect(textOf(parts)).toBe('Hello, streaming world!');
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(fake().requests).toHaveLength(1);
    expect(fake().requests[0]).toMatchObject({ path: PATHS[provider], apiKey: `sk-test-${provider}` });
    expect(fake().requests[0]!.body).toMatchObject({ model: 'fake-model', stream: true });
  });

  it('assembles a tool call whose arguments arrive split over many deltas, and sends the tools', async () => {
    const args = { path: 'src/index.ts', content: 'export const answer = 42;\n'.repeat(3) };
    script({ turns: [{ text: 'Writing.', toolCalls: [{ id: 'call_1', name: 'write_file', arguments: args }], chunkSize: 5 }] });
    const parts = await collect(
      model(provider).stream(
        request({
          tools: [{ name: 'write_file', description: 'Write a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
          toolChoice: 'required',
        }),
      ),
    );
    const calls = parts.filter((p) => p.type === 'tool-call');
    expect(calls).toEqual([{ type: 'tool-call', call: { id: 'call_1', name: 'write_file', arguments: JSON.stringify(args) } }]);
    expect(textOf(parts)).toBe('Writing.');
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
    const body = fake().requests[0]!.body as Record<string, unknown>;
    if (provider === 'anthropic') {
      expect(body).toMatchObject({ tools: [{ name: 'write_file', input_schema: { type: 'object' } }], tool_choice: { type: 'any' } });
    } else {
      expect(body).toMatchObject({ tools: [{ type: 'function', function: { name: 'write_file' } }], tool_choice: 'required' });
    }
  });

  it('reports usage once, at the end, including cache tokens where the protocol has them', async () => {
    script({ turns: [{ text: 'ok', usage: { input: 120, output: 34, cacheRead: 20, cacheWrite: 10 } }] });
    const parts = await collect(model(provider).stream(request()));
    const usages = parts.filter((p) => p.type === 'usage');
    expect(usages).toHaveLength(1);
    if (provider === 'anthropic') {
      // Anthropic's input_tokens exclude cache reads and writes; the port's inputTokens count them all.
      expect(usages[0]).toEqual({ type: 'usage', usage: { inputTokens: 150, outputTokens: 34, cacheReadTokens: 20, cacheWriteTokens: 10 } });
    } else {
      expect(usages[0]).toEqual({ type: 'usage', usage: { inputTokens: 120, outputTokens: 34, cacheReadTokens: 20 } });
    }
    expect(parts.at(-2)?.type).toBe('usage');
  });

  it('retries a 429 after the retry-after it was given, then succeeds', async () => {
    script({ turns: [{ status: 429, retryAfter: 1 }, { text: 'after the wait' }] });
    const started = Date.now();
    const response = await model(provider).complete(request());
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(response.text).toBe('after the wait');
    expect(fake().requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('turns a 401 into E_PROVIDER_AUTH without retrying', async () => {
    script({ turns: [{ status: 401, errorMessage: 'invalid x-api-key' }, { text: 'must not be reached' }] });
    const error = await rejection(model(provider).complete(request()));
    expect(error).toMatchObject({ code: 'E_PROVIDER_AUTH', providerStatus: 401, isRetryable: false, attempts: 1 });
    expect(fake().requests).toHaveLength(1);
  });

  it('retries a 500 before any content', async () => {
    script({ turns: [{ status: 500 }, { text: 'recovered' }] });
    const response = await model(provider).complete(request());
    expect(response.text).toBe('recovered');
    expect(fake().requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('fails with E_PROVIDER_STREAM_BROKEN when the stream is cut after content, and does not replay', async () => {
    script({ turns: [{ text: 'a long answer that will be cut', chunkSize: 2, cutAfterChunks: 5, usage: { input: 40 } }, { text: 'replayed' }] });
    const seen: StreamPart[] = [];
    const error = await rejection(collect(model(provider).stream(request()), seen));
    expect(error.code).toBe('E_PROVIDER_STREAM_BROKEN');
    expect(error.isRetryable).toBe(false);
    expect(textOf(seen).length).toBeGreaterThan(0);
    expect(textOf(seen)).not.toContain('replayed');
    expect(fake().requests).toHaveLength(1);
    expect(fake().requests[0]!.cut).toBe(true);
    if (provider === 'anthropic') expect(error.usage?.inputTokens).toBe(40); // reported in message_start, before the cut
  });

  it('retries a stream cut before any content reached the caller', async () => {
    script({ turns: [{ text: 'lost', cutAfterChunks: 1 }, { text: 'second try' }] });
    const response = await model(provider).complete(request());
    expect(response.text).toBe('second try');
    expect(fake().requests).toHaveLength(2);
  });

  it('aborting ends the HTTP request and rejects with E_CANCELLED at once', async () => {
    script({ turns: [{ text: 'slow', firstByteDelayMs: 10_000 }] });
    const controller = new AbortController();
    const started = Date.now();
    const call = model(provider).complete(request({ signal: controller.signal }));
    await waitFor(() => fake().requests.length === 1);
    controller.abort();
    const error = await rejection(call);
    expect(error.code).toBe('E_CANCELLED');
    expect(Date.now() - started).toBeLessThan(5000); // not the 10 s the provider takes
    await waitFor(() => fake().requests[0]!.clientClosed);
    expect(fake().requests).toHaveLength(1);
  });

  it('aborting mid-stream is a cancellation, not a broken stream', async () => {
    script({ turns: [{ text: 'one two three four five six', chunkSize: 4, chunkDelayMs: 100 }] });
    const controller = new AbortController();
    const seen: StreamPart[] = [];
    const call = (async () => {
      for await (const part of model(provider).stream(request({ signal: controller.signal }))) {
        seen.push(part);
        if (part.type === 'text-delta') controller.abort();
      }
    })();
    const error = await rejection(call);
    expect(error.code).toBe('E_CANCELLED');
    expect(seen.filter((p) => p.type === 'text-delta')).toHaveLength(1);
    await waitFor(() => fake().requests[0]!.clientClosed);
  });

  it('times out a provider that sends nothing, as E_PROVIDER_TIMEOUT', async () => {
    script({ turns: [{ text: 'too late', firstByteDelayMs: 10_000 }] });
    const started = Date.now();
    const error = await rejection(model(provider, { timeoutMs: 300, maxRetries: 0 }).complete(request()));
    // With the message, should the code differ, the failure says what happened instead.
    expect(`${error.code}: ${error.message}`).toMatch(/^E_PROVIDER_TIMEOUT: /);
    expect(error.isRetryable).toBe(true);
    // Well under the provider's 10 s: the 300 ms timeout ended it (the margin is for slow CI).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('passes malformed tool-call JSON through as raw text', async () => {
    const broken = '{"path": "a.txt", "content": "unterminated';
    script({ turns: [{ toolCalls: [{ name: 'write_file', arguments: broken }], chunkSize: 7 }] });
    const response = await model(provider).complete(request());
    expect(response.toolCalls).toEqual([{ id: expect.any(String), name: 'write_file', arguments: broken }]);
    expect(response.finishReason).toBe('tool_calls');
  });
});
