/** The model providers a run or an API key can name (no runtime dependency: the web bundle imports it). */
export const PROVIDERS = ['anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible'] as const;
export type ProviderId = (typeof PROVIDERS)[number];
