import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { guardedFetch } from '../../llm/providers/base-url-guard.js';
import { createLanguageModel, ProviderError, type LlmRequest, type ProviderId, type StreamPart } from '../../llm/providers/index.js';
import { useFakeLlm } from './fixtures.js';

// A key's own base URL goes through the address guard at connect time, in each SDK's adapter:
// real SDKs, real HTTP, the fake LLM server on 127.0.0.1.
const fake = useFakeLlm();

const request: LlmRequest = { model: 'fake-model', system: 'You are a test.', messages: [{ role: 'user', content: 'Say hello.' }], maxOutputTokens: 64 };

/** A model for a key whose own baseUrl is `baseUrl` (user input, so guarded), with two retries allowed. */
function keyModel(provider: ProviderId, baseUrl: string, allowPrivateBaseUrls?: boolean) {
  return createLanguageModel(
    { provider, apiKey: `sk-guard-${provider}-secret`, baseUrl },
    { timeoutMs: 3000, maxRetries: 2, retry: { baseDelayMs: 10 }, ...(allowPrivateBaseUrls === undefined ? {} : { allowPrivateBaseUrls }) },
  );
}

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** The fake's base URL for `provider` with its host replaced (same port: something does listen there). */
const withHost = (provider: ProviderId, host: string): string => {
  const url = new URL(fake().baseUrls[provider]);
  url.hostname = host;
  return url.toString().replace(/\/$/, '');
};

// anthropic, groq-sdk and openai (which openrouter and openai-compatible also use).
const SDK_PROVIDERS = ['anthropic', 'groq', 'openai-compatible'] as const;

describe.each(SDK_PROVIDERS)('%s adapter with a key of its own base URL', (provider) => {
  it('by default still streams from a loopback model server, in several deltas', async () => {
    fake().setScript({ turns: [{ text: 'Hello, streaming world!', chunkSize: 3 }] });
    fake().requests.length = 0;
    const parts: StreamPart[] = [];
    for await (const part of keyModel(provider, fake().baseUrls[provider]).stream(request)) parts.push(part);
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(8);
    expect(parts.map((p) => (p.type === 'text-delta' ? p.text : '')).join('')).toBe('Hello, streaming world!');
    expect(parts.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
    expect(fake().requests).toHaveLength(1);
  });

  it.each([
    ['a literal loopback IP', '127.0.0.1'],
    ['a name resolving to loopback (checked on the resolved address)', 'localhost'],
  ])('with private base URLs disallowed, %s is refused when connecting: final, no request, no key in the error', async (_what, host) => {
    fake().setScript({ turns: [{ text: 'must not be reached' }] });
    fake().requests.length = 0;
    const err = await refusal(keyModel(provider, withHost(provider, host), false).complete(request));
    expect(err).toMatchObject({ code: 'E_BASE_URL_TARGET', isRetryable: false, attempts: 1, status: 400 });
    expect(err.message).toMatch(new RegExp(`^${provider} base URL refused: ${host} (is|resolves to) a loopback or private-network address; .*SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=true`));
    expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain('secret');
    expect(fake().requests).toHaveLength(0);
  });

  it('refuses the cloud metadata address even with private base URLs allowed, without waiting for a connection', async () => {
    const started = Date.now();
    const err = await refusal(keyModel(provider, `http://169.254.169.254/v1`, true).complete(request));
    expect(err).toMatchObject({ code: 'E_BASE_URL_TARGET', isRetryable: false, attempts: 1 });
    expect(err.message).toMatch(/169\.254\.169\.254 is a link-local \(cloud metadata\).*refused even with SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=true/);
    expect(Date.now() - started).toBeLessThan(10_000); // not the connect timeout: refused before any socket
  });
});

describe('what the guard does not touch, and how it is shared', () => {
  it("leaves the operator's endpoints (SAMOKODER_*_BASE_URL) on the global fetch, even with private base URLs disallowed", async () => {
    fake().setScript({ turns: [{ text: 'operator endpoint' }] });
    const model = createLanguageModel({ provider: 'openai', apiKey: 'sk-platform' }, { baseUrls: fake().baseUrls, allowPrivateBaseUrls: false });
    expect((await model.complete(request)).text).toBe('operator endpoint');
  });

  it('refuses a redirect from an allowed server to the metadata address (checked on every connection)', async () => {
    const redirector: Server = createServer((_req, res) => {
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const { port } = redirector.address() as AddressInfo;
      const err = await refusal(keyModel('openai-compatible', `http://127.0.0.1:${port}/v1`, true).complete(request));
      expect(err).toMatchObject({ code: 'E_BASE_URL_TARGET', attempts: 1 });
      expect(err.message).toMatch(/169\.254\.169\.254 is a link-local/);
    } finally {
      redirector.close();
    }
  });

  it('uses one agent (one fetch) per setting, not one per call', () => {
    expect(guardedFetch(false)).toBe(guardedFetch(false));
    expect(guardedFetch(true)).toBe(guardedFetch(true));
    expect(guardedFetch(true)).not.toBe(guardedFetch(false));
  });
});
