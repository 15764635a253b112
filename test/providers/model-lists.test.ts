import { describe, expect, it } from '@jest/globals';
import { listedModel } from '../../llm/providers/model-lists.js';
import { createLanguageModel, ProviderError, type ProviderId } from '../../llm/providers/index.js';
import { useFakeLlm } from './fixtures.js';

// listModels(): each provider's GET /models through its own SDK, against the fake server.
const fake = useFakeLlm();

const model = (provider: ProviderId, apiKey = `sk-list-test-${provider}-0123456789`) =>
  createLanguageModel({ provider, apiKey }, { baseUrls: fake().baseUrls, timeoutMs: 3000, maxRetries: 2 });

describe.each(['anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible'] as const)('%s listModels', (provider) => {
  it('returns what the provider lists, each once, with one request', async () => {
    fake().setScript({ models: ['m-one', 'm-two', 'm-one'] });
    const before = fake().requests.length;
    expect(await model(provider).listModels()).toEqual([{ id: 'm-one' }, { id: 'm-two' }]);
    expect(fake().requests.slice(before).map((r) => r.method)).toEqual(['GET']);
  });

  it('a server without a list is a ProviderError with status 404, not retried', async () => {
    fake().setScript({ modelsMissing: true });
    const before = fake().requests.length;
    const err = await model(provider).listModels().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ providerStatus: 404, code: 'E_PROVIDER_BAD_REQUEST' });
    expect(fake().requests.length - before).toBe(1);
  });

  it('a rejected key is E_PROVIDER_AUTH, with the key scrubbed from the message', async () => {
    const key = `sk-list-bad-${provider}-abcdef0123456789`;
    fake().setScript({ faultsByKey: { [key]: { status: 401, message: 'Incorrect API key provided: {apiKey}' } } });
    const err = (await model(provider, key).listModels().catch((e: unknown) => e)) as ProviderError;
    expect(err).toMatchObject({ code: 'E_PROVIDER_AUTH', providerStatus: 401 });
    expect(`${err.message} ${String(err.stack)}`).not.toContain(key);
  });
});

describe('listedModel: the limits each provider\'s list states', () => {
  it.each([
    ['OpenRouter', { id: 'anthropic/claude-sonnet-4.5', context_length: 1000000, top_provider: { max_completion_tokens: 64000 } }, { id: 'anthropic/claude-sonnet-4.5', contextWindow: 1000000, maxOutputTokens: 64000 }],
    ['Groq', { id: 'llama-3.1-8b-instant', context_window: 131072, max_completion_tokens: 131072 }, { id: 'llama-3.1-8b-instant', contextWindow: 131072, maxOutputTokens: 131072 }],
    ['vLLM', { id: 'Qwen/Qwen2.5-Coder-7B', max_model_len: 32768 }, { id: 'Qwen/Qwen2.5-Coder-7B', contextWindow: 32768 }],
    ['Anthropic', { id: 'claude-haiku-4-5', lifecycle: 'active', max_input_tokens: 200000, max_tokens: 64000 }, { id: 'claude-haiku-4-5', contextWindow: 200000, maxOutputTokens: 64000 }],
    ['OpenAI', { id: 'gpt-5', object: 'model', created: 1, owned_by: 'system' }, { id: 'gpt-5' }],
  ])('%s', (_name, entry, expected) => {
    expect(listedModel(entry)).toEqual(expected);
  });

  it('leaves out retired models (Anthropic lists them on request) and malformed entries', () => {
    expect(listedModel({ id: 'claude-2.1', lifecycle: 'retired' })).toBeUndefined();
    expect(listedModel({ id: 'claude-3-haiku', lifecycle: 'deprecated' })).toEqual({ id: 'claude-3-haiku' });
    expect(listedModel({ id: '' })).toBeUndefined();
    expect(listedModel(null)).toBeUndefined();
    expect(listedModel({ id: 'x', context_length: -5, max_tokens: 1.5 })).toEqual({ id: 'x' });
  });
});
