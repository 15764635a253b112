import { afterAll, beforeAll, expect } from '@jest/globals';
import { createLanguageModel, ProviderError, type LanguageModelOptions, type LlmRequest, type ProviderId, type StreamPart } from '../../llm/providers/index.js';
import { startFakeLlm, type FakeLlm, type FakeScript } from '../../scripts/fake-llm/server.js';

/**
 * Starts the fake LLM server before the calling file's (or describe block's) tests and closes it
 * after them. The returned function gives the running server; call it inside tests and hooks.
 */
export function useFakeLlm(): () => FakeLlm {
  let fake: FakeLlm | undefined;
  beforeAll(async () => {
    fake = await startFakeLlm();
  });
  afterAll(async () => {
    await fake?.close();
  });
  return () => {
    if (!fake) throw new Error('the fake LLM server is not running (use it inside tests and hooks)');
    return fake;
  };
}

export interface FakeLlmAdapters {
  fake: () => FakeLlm;
  /** Replaces the server's script and forgets the requests it has recorded. */
  script: (s: FakeScript) => void;
  /** A provider's real SDK adapter pointed at the fake server (short retry delays; `options` win). */
  model: (provider: ProviderId, options?: LanguageModelOptions) => ReturnType<typeof createLanguageModel>;
  /** A request of one user message, `userText`; `overrides` replace its fields. */
  request: (overrides?: Partial<LlmRequest>) => LlmRequest;
}

/** The fake LLM server for the calling file, with the adapters that call it through the official SDKs. */
export function useFakeLlmAdapters(defaults: { maxRetries: number; userText: string }): FakeLlmAdapters {
  const fake = useFakeLlm();
  return {
    fake,
    script: (s) => {
      fake().setScript(s);
      fake().requests.length = 0;
    },
    model: (provider, options = {}) =>
      createLanguageModel(
        { provider, apiKey: `sk-test-${provider}` },
        { baseUrls: fake().baseUrls, timeoutMs: 3000, maxRetries: defaults.maxRetries, retry: { baseDelayMs: 10 }, ...options },
      ),
    request: (overrides = {}) => ({
      model: 'fake-model',
      system: 'You are a test.',
      messages: [{ role: 'user', content: defaults.userText }],
      maxOutputTokens: 256,
      ...overrides,
    }),
  };
}

/** Every part of a stream, appended to `seen` as they come (so a test sees what arrived before a failure). */
export async function collect(parts: AsyncIterable<StreamPart>, seen: StreamPart[] = []): Promise<StreamPart[]> {
  for await (const part of parts) seen.push(part);
  return seen;
}

/** The ProviderError `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}
