import { PROVIDERS, type ProviderId } from '../../protocol/providers.js';

export { PROVIDERS };
export type Provider = ProviderId;

export const PROVIDER_NAMES: Record<Provider, string> = {
  anthropic: 'Anthropic',
  openai: 'OpenAI',
  groq: 'Groq',
  openrouter: 'OpenRouter',
  'openai-compatible': 'OpenAI-compatible (Ollama, LM Studio, vLLM, …)',
};

export const isProvider = (p: string): p is Provider => (PROVIDERS as readonly string[]).includes(p);
