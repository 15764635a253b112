import { beforeEach, describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import type { Message } from '../../llm/providers/index.js';
import { collect, rejection, useFakeLlmAdapters } from '../helpers/fake-llm.js';

// Behaviours of real models and proxies, each scripted on the fake server and met by the real SDKs.
const { fake, script, model, request } = useFakeLlmAdapters({ maxRetries: 3, userText: 'Build it.' });

const body = (i = 0): Record<string, unknown> => fake().requests[i]!.body as Record<string, unknown>;
const WRITE_TOOL = { name: 'write_file', description: 'Write a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } };

describe.each(['anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible'] as const)('%s: answers without usage', (provider) => {
  beforeEach(() => script({}));

  it('streams to the end with no usage part (the gateway estimates it), not a broken stream', async () => {
    script({ turns: [{ text: 'no usage here', omitUsage: true }] });
    const parts = await collect(model(provider).stream(request()));
    expect(parts.filter((p) => p.type === 'usage')).toEqual([]);
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(fake().requests).toHaveLength(1);
  });
});

describe.each(['openai', 'groq', 'openrouter', 'openai-compatible'] as const)('%s: chat-completions quirks', (provider) => {
  beforeEach(() => script({}));

  it('an error inside a 200 stream ({"error":{"code":402}}, OpenRouter) is E_PROVIDER_QUOTA with the provider\'s message, sent once', async () => {
    script({ turns: [{ errorInOkBody: true, status: 402, errorMessage: 'Insufficient credits. Add more using https://example.test/credits' }, { text: 'must not be reached' }] });
    const error = await rejection(model(provider).complete(request()));
    expect(error).toMatchObject({ code: 'E_PROVIDER_QUOTA', isRetryable: false, providerStatus: 402, attempts: 1 });
    expect(error.message).toContain('Insufficient credits');
    expect(fake().requests).toHaveLength(1);
  });

  it('a 200 whose JSON body is an error, answering a streaming request, is classified by its code too', async () => {
    script({ turns: [{ errorInOkBody: true, ignoreStream: true, status: 402, errorMessage: 'Insufficient credits' }, { text: 'must not be reached' }] });
    const error = await rejection(model(provider).complete(request()));
    expect(error).toMatchObject({ code: 'E_PROVIDER_QUOTA', isRetryable: false, attempts: 1 });
    expect(error.message).toContain('Insufficient credits');
    expect(fake().requests).toHaveLength(1);
    // Other codes in a 200 keep their meaning: a 429 in the body is retried like a 429.
    script({ turns: [{ errorInOkBody: true, ignoreStream: true, status: 429, errorMessage: 'slow down' }, { text: 'after the retry' }] });
    expect((await model(provider).complete(request())).text).toBe('after the retry');
    expect(fake().requests).toHaveLength(2);
  });

  it('a plain HTTP 402 is E_PROVIDER_QUOTA, not retried', async () => {
    script({ turns: [{ status: 402, errorMessage: 'This request requires more credits' }, { text: 'must not be reached' }] });
    const error = await rejection(model(provider).complete(request()));
    expect(error).toMatchObject({ code: 'E_PROVIDER_QUOTA', providerStatus: 402, isRetryable: false });
    expect(error.message).toContain('requires more credits');
    expect(fake().requests).toHaveLength(1);
  });

  it("OpenAI's 429 with code insufficient_quota (an account out of credit) is E_PROVIDER_QUOTA, not retried as a rate limit", async () => {
    script({ turns: [{ status: 429, errorCode: 'insufficient_quota', errorMessage: 'You exceeded your current quota, please check your plan and billing details.' }, { text: 'must not be reached' }] });
    const error = await rejection(model(provider).complete(request()));
    expect(error).toMatchObject({ code: 'E_PROVIDER_QUOTA', providerStatus: 429, isRetryable: false });
    expect(error.message).toContain('exceeded your current quota');
    expect(fake().requests).toHaveLength(1);
  });

  it('a server that ignores stream: true and answers one JSON completion is read as that completion', async () => {
    script({ turns: [{ ignoreStream: true, text: 'whole', toolCalls: [{ id: 'c1', name: 'write_file', arguments: { path: 'a.txt' } }], usage: { input: 11, output: 7 } }] });
    const res = await model(provider).complete(request({ tools: [WRITE_TOOL] }));
    expect(res).toMatchObject({ text: 'whole', toolCalls: [{ id: 'c1', name: 'write_file', arguments: '{"path":"a.txt"}' }], finishReason: 'tool_calls', usage: { inputTokens: 11, outputTokens: 7 } });
  });

  it('parallel tool calls streamed all at index 0 with distinct ids stay separate calls', async () => {
    const calls = ['a.js', 'b.js', 'c.js'].map((path, i) => ({ id: `call_${i}`, name: 'write_file', arguments: { path, content: `// ${path}\n`.repeat(3) } }));
    script({ turns: [{ toolCalls: calls, sameToolCallIndex: true, chunkSize: 6 }] });
    const res = await model(provider).complete(request({ tools: [WRITE_TOOL] }));
    expect(res.toolCalls).toEqual(calls.map((c) => ({ id: c.id, name: 'write_file', arguments: JSON.stringify(c.arguments) })));
  });

  it("DeepSeek's thinking mode: reasoning_content is read and sent back with the tool-call turn (DeepSeek answers 400 without it)", async () => {
    script({
      requireReasoningContent: true,
      turns: [
        { reasoning: 'The user wants a file; write it first.', toolCalls: [{ id: 'call_r', name: 'write_file', arguments: { path: 'a.txt' } }] },
        { text: 'done' },
        { text: 'unreachable: refused before a turn is taken' },
      ],
    });
    const first = await model(provider).complete(request({ tools: [WRITE_TOOL] }));
    expect(first.reasoning).toBe('The user wants a file; write it first.');
    const history = (reasoning: string | undefined): Message[] => [
      { role: 'user', content: 'Build it.' },
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls, ...(reasoning !== undefined ? { reasoning } : {}) },
      { role: 'tool', toolCallId: 'call_r', name: 'write_file', content: 'ok' },
    ];
    const second = await model(provider).complete(request({ tools: [WRITE_TOOL], messages: history(first.reasoning) }));
    expect(second.text).toBe('done');
    expect((body(1).messages as { role: string; reasoning_content?: string }[])[2]).toMatchObject({ role: 'assistant', reasoning_content: first.reasoning });
    // The fake enforces it: the same turn without its reasoning is refused, as DeepSeek does.
    const error = await rejection(model(provider).complete(request({ tools: [WRITE_TOOL], messages: history(undefined) })));
    expect(error).toMatchObject({ code: 'E_PROVIDER_BAD_REQUEST', providerStatus: 400 });
    expect(error.message).toContain('reasoning_content');
  });

  it('an answer cut off at the output limit finishes with reason length', async () => {
    script({ turns: [{ toolCalls: [{ name: 'write_file', arguments: '{"path":"a.txt","content":"cut he' }], finishReason: 'length' }] });
    const res = await model(provider).complete(request({ tools: [WRITE_TOOL] }));
    expect(res.finishReason).toBe('length');
  });

  // The cap at the model's output limit is the gateway's (from the model catalogue).
  it('max_tokens is sent as asked in the provider\'s field; temperature is sent where the API takes it', async () => {
    script({ turns: [{ text: 'ok' }] });
    await model(provider).complete(request({ model: 'gpt-4o-mini', maxOutputTokens: 12_345, temperature: 0.2 }));
    const sent = body();
    expect(sent[provider === 'openai' ? 'max_completion_tokens' : 'max_tokens']).toBe(12_345);
    expect(sent.temperature).toBe(0.2);
  });
});

describe('anthropic quirks', () => {
  beforeEach(() => script({}));

  it('an empty answer is never sent back as an assistant message with empty content (the API refuses it with 400)', async () => {
    script({ turns: [{}, { text: 'now with content' }] });
    const first = await model('anthropic').complete(request());
    expect(first).toMatchObject({ text: '', toolCalls: [], finishReason: 'stop' });
    const messages: Message[] = [
      { role: 'user', content: 'Build it.' },
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls },
      { role: 'user', content: 'Answer with a tool call.' },
    ];
    const second = await model('anthropic').complete(request({ messages }));
    expect(second.text).toBe('now with content');
    expect(body(1).messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Build it.' }, { type: 'text', text: 'Answer with a tool call.' }] }]);
    // The fake refuses what the real API refuses: the SDK sending content [] directly gets the 400.
    const sdk = new Anthropic({ apiKey: 'sk-direct', baseURL: fake().baseUrls.anthropic, maxRetries: 0 });
    await expect(sdk.messages.create({ model: 'fake-model', max_tokens: 8, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: [] }, { role: 'user', content: 'y' }] }))
      .rejects.toMatchObject({ status: 400 });
  });

  // max_tokens is capped at the model's output limit by the gateway, from the model catalogue
  // (test/models/model-catalogue.test.ts); a model on its own sends what it is asked.
  it('never forwards temperature', async () => {
    script({ turns: [{ text: 'a' }] });
    await model('anthropic').complete(request({ maxOutputTokens: 64_000, temperature: 0.7 }));
    expect(body()).not.toHaveProperty('temperature');
    expect(body().max_tokens).toBe(64_000);
  });

  it('stop_reason max_tokens is finish reason length', async () => {
    script({ turns: [{ text: 'cut', finishReason: 'length' }] });
    expect((await model('anthropic').complete(request())).finishReason).toBe('length');
  });

  it("Anthropic's empty account (a 400 saying the credit balance is too low) is E_PROVIDER_QUOTA, sent once", async () => {
    script({ turns: [{ status: 400, errorMessage: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' }, { text: 'must not be reached' }] });
    const error = await rejection(model('anthropic').complete(request()));
    expect(error).toMatchObject({ code: 'E_PROVIDER_QUOTA', isRetryable: false });
    expect(error.message).toContain('credit balance is too low');
    expect(fake().requests).toHaveLength(1);
  });
});
