import i18next from 'i18next';
import { PROVIDERS, type ProviderId } from '../../protocol/providers.js';

export { PROVIDERS };
export type Provider = ProviderId;

/** The provider's display name in the reader's language (catalogue: common, providers.*). */
export const providerName = (p: string): string => i18next.t(`providers.${p}`, { ns: 'common', defaultValue: p });

/** Suggestions only: any model name the provider accepts may be typed. */
export const MODEL_SUGGESTIONS: Record<Provider, string[]> = {
  anthropic: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'],
  openai: ['gpt-4.1', 'gpt-4.1-mini', 'gpt-4o-mini', 'gpt-5', 'gpt-5-mini'],
  groq: ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant'],
  openrouter: ['anthropic/claude-sonnet-4.5', 'openai/gpt-4o-mini'],
  'openai-compatible': ['qwen2.5-coder:7b', 'llama3.1:8b'],
};

export const isProvider = (p: string): p is Provider => (PROVIDERS as readonly string[]).includes(p);
