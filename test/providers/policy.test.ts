import { describe, expect, it } from '@jest/globals';
import {
  backoffDelayMs,
  classifyProviderError,
  createLanguageModel,
  DEFAULT_BASE_URLS,
  DEFAULT_RETRY_POLICY,
  resolveBaseUrl,
  retryAfterSeconds,
  type LlmRequest,
} from '../../llm/providers/index.js';
import { loadConfig } from '../../core/config.js';
import { rejection, useFakeLlm } from '../helpers/fake-llm.js';

const fake = useFakeLlm();

const request: LlmRequest = { model: 'fake-model', system: 's', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 64 };

describe('retry policy', () => {
  it('waits at least the retry-after it was given, with a little jitter', () => {
    expect(backoffDelayMs(0, DEFAULT_RETRY_POLICY, 2, () => 0)).toBe(2000);
    const withJitter = backoffDelayMs(0, DEFAULT_RETRY_POLICY, 2, () => 0.99)!;
    expect(withJitter).toBeGreaterThan(2000);
    expect(withJitter).toBeLessThanOrEqual(2250);
  });

  it('does not wait out a retry-after beyond its cap (a key pool should fail over instead)', () => {
    expect(backoffDelayMs(0, { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 5000 }, 30)).toBeUndefined();
  });

  it('backs off exponentially with jitter, up to the cap', () => {
    const policy = { maxRetries: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, policy, undefined, () => 0)).toBe(50);
    expect(backoffDelayMs(0, policy, undefined, () => 1)).toBe(100);
    expect(backoffDelayMs(2, policy, undefined, () => 1)).toBe(400);
    expect(backoffDelayMs(8, policy, undefined, () => 1)).toBe(1000);
    expect(backoffDelayMs(8, policy, undefined, () => 0)).toBe(500);
  });

  it('reads retry-after-ms, retry-after in seconds, and retry-after as an HTTP date', () => {
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }))).toBe(1.5);
    expect(retryAfterSeconds(new Headers({ 'retry-after': '7' }))).toBe(7);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now)).toBe(30);
    expect(retryAfterSeconds(new Headers({}))).toBeUndefined();
  });
});

describe('classifyProviderError', () => {
  const sdkError = (status: number | undefined, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error('boom'), { name: 'APIError', status, headers: new Headers(), ...extra });

  it.each([
    [401, 'E_PROVIDER_AUTH', false],
    [403, 'E_PROVIDER_AUTH', false],
    [429, 'E_PROVIDER_RATE_LIMITED', true],
    [400, 'E_PROVIDER_BAD_REQUEST', false],
    [404, 'E_PROVIDER_BAD_REQUEST', false],
    [408, 'E_PROVIDER_TIMEOUT', true],
    [500, 'E_PROVIDER_UNAVAILABLE', true],
    [529, 'E_PROVIDER_UNAVAILABLE', true],
  ] as const)('maps HTTP %i to %s (retryable: %s) and keeps the status', (status, code, retryable) => {
    const error = classifyProviderError(sdkError(status), { provider: 'openai' });
    expect(error).toMatchObject({ code, isRetryable: retryable, providerStatus: status, provider: 'openai' });
  });

  it('maps an error event inside an Anthropic stream by its type', () => {
    const overloaded = sdkError(undefined, { error: { type: 'error', error: { type: 'overloaded_error', message: 'x' } } });
    expect(classifyProviderError(overloaded, { provider: 'anthropic' }).code).toBe('E_PROVIDER_UNAVAILABLE');
    const limited = sdkError(undefined, { error: { type: 'error', error: { type: 'rate_limit_error', message: 'x' } } });
    expect(classifyProviderError(limited, { provider: 'anthropic' }).code).toBe('E_PROVIDER_RATE_LIMITED');
  });

  it('calls an abort a cancellation when the caller aborted, a timeout when our timer did', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'APIUserAbortError' });
    expect(classifyProviderError(abort, { provider: 'groq', signal: AbortSignal.abort() }).code).toBe('E_CANCELLED');
    expect(classifyProviderError(abort, { provider: 'groq', timedOut: true }).code).toBe('E_PROVIDER_TIMEOUT');
  });

  it("recognises the SDKs' own timeout error by its class", () => {
    const timeout = new (class APIConnectionTimeoutError extends Error {})('Request timed out.');
    expect(classifyProviderError(timeout, { provider: 'openai' }).code).toBe('E_PROVIDER_TIMEOUT');
  });

  it('treats a network failure as retryable unavailability and serialises without secrets', () => {
    const error = classifyProviderError(new TypeError('fetch failed'), { provider: 'openrouter' });
    expect(error).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', isRetryable: true, status: 503 });
    expect(error.toJSON()).toEqual({ error: { code: 'E_PROVIDER_UNAVAILABLE', message: expect.any(String), details: { provider: 'openrouter' } } });
  });
});

describe('the call policy against the fake server', () => {
  const model = (maxRetries = 2) =>
    createLanguageModel({ provider: 'openai', apiKey: 'sk-policy' }, { baseUrls: fake().baseUrls, maxRetries, retry: { baseDelayMs: 5, maxDelayMs: 2000 } });

  it('gives up after maxRetries and reports how many attempts were made', async () => {
    fake().setScript({ turns: [{ status: 503 }, { status: 503 }, { status: 503 }, { text: 'never' }] });
    fake().requests.length = 0;
    const error = await rejection(model(2).complete(request));
    expect(error).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', providerStatus: 503, attempts: 3 });
    expect(fake().requests).toHaveLength(3);
  });

  it('returns a 429 whose retry-after exceeds the cap at once, with retryAfterSeconds for the key pool', async () => {
    fake().setScript({ turns: [{ status: 429, retryAfter: 60 }, { text: 'never' }] });
    fake().requests.length = 0;
    const started = Date.now();
    const error = await rejection(model().complete(request));
    expect(error).toMatchObject({ code: 'E_PROVIDER_RATE_LIMITED', retryAfterSeconds: 60, attempts: 1 });
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s it asked for
    expect(fake().requests).toHaveLength(1);
  });

  it('does not retry a bad request', async () => {
    fake().setScript({ turns: [{ status: 400, errorMessage: 'max_tokens too large' }, { text: 'never' }] });
    fake().requests.length = 0;
    const error = await rejection(model().complete(request));
    expect(error).toMatchObject({ code: 'E_PROVIDER_BAD_REQUEST', providerStatus: 400 });
    expect(error.message).toContain('max_tokens too large');
    expect(fake().requests).toHaveLength(1);
  });

  it('sums the usage of every attempt the provider reported (each is billed)', async () => {
    fake().setScript({ turns: [{ text: 'cut', cutAfterChunks: 1, usage: { input: 100 } }, { text: 'ok', usage: { input: 100, output: 5 } }] });
    fake().requests.length = 0;
    const anthropic = createLanguageModel({ provider: 'anthropic', apiKey: 'sk-a' }, { baseUrls: fake().baseUrls, retry: { baseDelayMs: 5 } });
    const response = await anthropic.complete(request);
    expect(fake().requests).toHaveLength(2);
    // message_start of the cut attempt reported 100 input tokens; the second attempt 100 + 5.
    expect(response.usage).toEqual({ inputTokens: 200, outputTokens: 6, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('ends the HTTP request when the consumer stops reading early', async () => {
    fake().setScript({ turns: [{ text: 'many small pieces of text', chunkSize: 1, chunkDelayMs: 20 }] });
    fake().requests.length = 0;
    for await (const part of model().stream(request)) {
      if (part.type === 'text-delta') break;
    }
    const until = Date.now() + 2000;
    while (!fake().requests[0]?.clientClosed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(fake().requests[0]?.clientClosed).toBe(true);
  });

  it('sends max_completion_tokens to OpenAI and max_tokens to the other chat-completions providers', async () => {
    fake().setScript({});
    fake().requests.length = 0;
    for (const provider of ['openai', 'openrouter', 'openai-compatible', 'groq'] as const) {
      await createLanguageModel({ provider, apiKey: 'k' }, { baseUrls: fake().baseUrls }).complete(request);
    }
    const bodies = fake().requests.map((r) => r.body as Record<string, unknown>);
    expect(bodies[0]).toMatchObject({ max_completion_tokens: 64, stream_options: { include_usage: true } });
    expect(bodies[0]).not.toHaveProperty('max_tokens');
    for (const body of bodies.slice(1)) expect(body).toMatchObject({ max_tokens: 64 });
  });
});

describe('base URLs and configuration', () => {
  it("prefers the key's own baseUrl, then the configured one, then the provider's", () => {
    expect(resolveBaseUrl({ provider: 'openai', apiKey: 'k', baseUrl: 'http://key/v1' }, { openai: 'http://env/v1' })).toBe('http://key/v1');
    expect(resolveBaseUrl({ provider: 'openai', apiKey: 'k' }, { openai: 'http://env/v1' })).toBe('http://env/v1');
    expect(resolveBaseUrl({ provider: 'groq', apiKey: 'k' })).toBe(DEFAULT_BASE_URLS.groq);
  });

  it('refuses an openai-compatible key without a baseUrl', () => {
    expect(() => createLanguageModel({ provider: 'openai-compatible', apiKey: '' })).toThrow(/baseUrl/);
  });

  it('reaches a keyless local server (Ollama-style) through its per-key baseUrl', async () => {
    fake().setScript({ turns: [{ text: 'local' }] });
    fake().requests.length = 0;
    const local = createLanguageModel({ provider: 'openai-compatible', apiKey: '', baseUrl: fake().baseUrls['openai-compatible'] });
    expect((await local.complete(request)).text).toBe('local');
    expect(fake().requests[0]?.path).toBe('/compat/v1/chat/completions');
  });

  it('reads SAMOKODER_* base URLs, timeout and retries from the environment', () => {
    const config = loadConfig({
      SAMOKODER_ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      SAMOKODER_OPENROUTER_BASE_URL: 'http://127.0.0.1:9999/api/v1',
      SAMOKODER_LLM_TIMEOUT_MS: '5000',
      SAMOKODER_LLM_MAX_RETRIES: '0',
      OPENAI_BASE_URL: 'http://ignored/v1',
    });
    expect(config.llm).toEqual({
      baseUrls: { anthropic: 'http://127.0.0.1:9999', openrouter: 'http://127.0.0.1:9999/api/v1' },
      timeoutMs: 5000,
      maxRetries: 0,
      allowPrivateBaseUrls: true,
    });
    expect(() => loadConfig({ SAMOKODER_GROQ_BASE_URL: 'not a url' })).toThrow(/SAMOKODER_GROQ_BASE_URL/);
  });
});
