import { afterAll, beforeAll } from '@jest/globals';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';

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
