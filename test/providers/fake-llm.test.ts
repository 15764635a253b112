import { describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import Groq from 'groq-sdk';
import OpenAI from 'openai';
import { createLanguageModel, type LlmRequest } from '../../llm/providers/index.js';
import { toAnthropicMessages } from '../../llm/providers/anthropic.js';
import { DEFAULT_TURN } from '../../scripts/fake-llm/server.js';
import { useFakeLlm } from './fixtures.js';

// The fake server on its own, through the SDKs used directly: non-streamed answers, /models, key rules.
const fake = useFakeLlm();

const request: LlmRequest = { model: 'fake-model', system: 's', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 64 };
const openai = (apiKey: string) => new OpenAI({ apiKey, baseURL: fake().baseUrls.openai, maxRetries: 0 });
const anthropic = (apiKey: string) => new Anthropic({ apiKey, baseURL: fake().baseUrls.anthropic, maxRetries: 0 });

describe('fake LLM server', () => {
  it('answers non-streamed chat completions with tool calls and usage', async () => {
    fake().setScript({ turns: [{ text: 'calling', toolCalls: [{ id: 'c1', name: 'list_files', arguments: {} }], usage: { input: 9, output: 3 } }] });
    const res = await openai('sk-1').chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }] });
    expect(res.choices[0]?.message).toMatchObject({ content: 'calling', tool_calls: [{ id: 'c1', function: { name: 'list_files', arguments: '{}' } }] });
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(res.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
  });

  it('answers non-streamed Anthropic messages with tool_use blocks and cache usage', async () => {
    fake().setScript({ turns: [{ toolCalls: [{ id: 'toolu_1', name: 'finish', arguments: { summary: 'done' } }], usage: { input: 5, output: 2, cacheRead: 7 } }] });
    const res = await anthropic('sk-2').messages.create({ model: 'fake-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(res.content).toEqual([{ type: 'tool_use', id: 'toolu_1', name: 'finish', input: { summary: 'done' } }]);
    expect(res.stop_reason).toBe('tool_use');
    expect(res.usage).toMatchObject({ input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 7 });
  });

  it('lists models for each provider family (a cheap key check)', async () => {
    fake().setScript({});
    const ids = (await openai('sk-3').models.list()).data.map((m) => m.id);
    expect(ids).toContain('fake-model');
    const anthropicIds = (await anthropic('sk-3').models.list()).data.map((m) => m.id);
    expect(anthropicIds).toContain('fake-model');
    const groq = new Groq({ apiKey: 'sk-3', baseURL: fake().baseUrls.groq, maxRetries: 0 });
    expect((await groq.models.list()).data.map((m) => m.id)).toContain('fake-model');
    expect(fake().requests.slice(-3).map((r) => [r.provider, r.path])).toEqual([
      ['openai', '/v1/models'],
      ['anthropic', '/v1/models'],
      ['groq', '/openai/v1/models'],
    ]);
  });

  it('applies per-key faults to every request made with that key, models included', async () => {
    fake().setScript({ faultsByKey: { 'sk-bad': { status: 401 }, 'sk-busy': { status: 429, retryAfter: 7 } } });
    await expect(openai('sk-bad').models.list()).rejects.toMatchObject({ status: 401 });
    await expect(anthropic('sk-bad').models.list()).rejects.toMatchObject({ status: 401, type: 'authentication_error' });
    const busy = await openai('sk-busy').chat.completions.create({ model: 'm', messages: [] }).catch((e: unknown) => e);
    expect(busy).toMatchObject({ status: 429 });
    expect((busy as { headers: Headers }).headers.get('retry-after')).toBe('7');
    const ok = await openai('sk-good').chat.completions.create({ model: 'm', messages: [] });
    expect(ok.choices[0]?.message.content).toBe(DEFAULT_TURN.text);
  });

  it('gives keyed turns only to the requests they match, and the default text when the script is spent', async () => {
    fake().setScript({
      turns: [
        { match: { apiKey: 'sk-b' }, text: 'for b' },
        { match: { provider: 'anthropic' }, text: 'for anthropic' },
        { text: 'for anyone' },
      ],
    });
    const m = (provider: 'openai' | 'anthropic', apiKey: string) => createLanguageModel({ provider, apiKey }, { baseUrls: fake().baseUrls });
    expect((await m('openai', 'sk-a').complete(request)).text).toBe('for anyone');
    expect((await m('openai', 'sk-b').complete(request)).text).toBe('for b');
    expect((await m('anthropic', 'sk-a').complete(request)).text).toBe('for anthropic');
    const spent = await m('openai', 'sk-a').complete(request);
    expect(spent.text).toMatch(/scripted model that does not understand prompts/);
  });

  it('records the request the SDK sent, with the converted conversation', async () => {
    fake().setScript({});
    fake().requests.length = 0;
    const history: LlmRequest = {
      ...request,
      messages: [
        { role: 'user', content: 'build it' },
        { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'read_file', arguments: '{"path":"a"}' }, { id: 't2', name: 'list_files', arguments: '{' }] },
        { role: 'tool', toolCallId: 't1', name: 'read_file', content: 'A' },
        { role: 'tool', toolCallId: 't2', name: 'list_files', content: 'no such dir', isError: true },
      ],
    };
    await createLanguageModel({ provider: 'anthropic', apiKey: 'sk-h' }, { baseUrls: fake().baseUrls }).complete(history);
    await createLanguageModel({ provider: 'openai', apiKey: 'sk-h' }, { baseUrls: fake().baseUrls }).complete(history);
    const [anthropicBody, openaiBody] = fake().requests.map((r) => r.body as Record<string, unknown>);
    // Both tool results in one user turn; a malformed historical argument becomes {}.
    expect(anthropicBody?.messages).toEqual(toAnthropicMessages(history));
    expect(anthropicBody?.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'build it' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'read_file', input: { path: 'a' } }, { type: 'tool_use', id: 't2', name: 'list_files', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'A' }, { type: 'tool_result', tool_use_id: 't2', content: 'no such dir', is_error: true }] },
    ]);
    // The system prompt is the cached prefix (cache_control), sent as a block.
    expect(anthropicBody?.system).toEqual([{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }]);
    expect(openaiBody?.messages).toEqual([
      { role: 'system', content: 's' },
      { role: 'user', content: 'build it' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 't1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a"}' } },
          { id: 't2', type: 'function', function: { name: 'list_files', arguments: '{' } },
        ],
      },
      { role: 'tool', tool_call_id: 't1', content: 'A' },
      { role: 'tool', tool_call_id: 't2', content: 'Error: no such dir' },
    ]);
    expect(fake().requests[1]?.headers.authorization).toBe('Bearer sk-h');
  });

  it('answers an unknown route with 404', async () => {
    const res = await fetch(`${fake().url}/nope`);
    expect(res.status).toBe(404);
  });
});
