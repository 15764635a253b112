import type { ModelCatalogue } from '../protocol/model-catalogue.js';
import { enc, type ApiClient } from './client.js';
import { CliError, EXIT } from './exit-codes.js';

/** Where each provider's key is read from by default. */
export const KEY_ENV: Record<string, string> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  groq: 'GROQ_API_KEY',
  openrouter: 'OPENROUTER_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
};
export interface ModelChoice {
  provider: string;
  model: string;
  apiKey: string;
  baseUrl?: string;
}

/**
 * The provider, model and key of `build` and `eval` from --provider, --model, --key-env and
 * --base-url. Without --model the model is left open (build takes the catalogue's recommendation,
 * see recommendedModel); an openai-compatible server's models are its own, so it needs --model.
 */
export function resolveChoice(values: Record<string, unknown>, env: NodeJS.ProcessEnv): Omit<ModelChoice, 'model'> & { model?: string } {
  const baseUrl = values['base-url'] as string | undefined;
  let provider = values.provider as string | undefined;
  if (!provider) provider = baseUrl ? 'openai-compatible' : Object.keys(KEY_ENV).find((p) => p !== 'openai-compatible' && env[KEY_ENV[p]!]);
  if (!provider) throw new CliError('no provider: pass --provider (and --key-env), or --base-url for an OpenAI-compatible server, or set ANTHROPIC_API_KEY / OPENAI_API_KEY / GROQ_API_KEY / OPENROUTER_API_KEY.', EXIT.BAD_INPUT);
  if (!(provider in KEY_ENV)) throw new CliError(`unknown provider "${provider}": use one of ${Object.keys(KEY_ENV).join(', ')}.`, EXIT.BAD_INPUT);
  if (provider === 'openai-compatible' && !baseUrl) throw new CliError('--base-url is required for openai-compatible (e.g. http://localhost:11434/v1 for Ollama).', EXIT.BAD_INPUT);
  const model = values.model as string | undefined;
  if (!model && provider === 'openai-compatible') throw new CliError(`--model is required for ${provider} (the name your server knows, e.g. qwen2.5-coder:7b).`, EXIT.BAD_INPUT);
  const keyEnv = (values['key-env'] as string | undefined) ?? KEY_ENV[provider]!;
  let apiKey = env[keyEnv];
  if (!apiKey) {
    if (provider !== 'openai-compatible' || values['key-env']) throw new CliError(`the environment variable ${keyEnv} is not set: export your ${provider} key in it, or name another with --key-env.`, EXIT.BAD_INPUT);
    apiKey = 'none'; // local servers (Ollama, LM Studio) ignore the key
  }
  return { provider, ...(model ? { model } : {}), apiKey, ...(baseUrl ? { baseUrl } : {}) };
}

/** The catalogue's strong coder for the provider (never a retired model); the run uses one model for every role. */
export async function recommendedModel(api: ApiClient, provider: string): Promise<string> {
  const catalogue = await api.json<ModelCatalogue>('GET', `/api/models?provider=${enc(provider)}`);
  const models = catalogue.providers[0]?.models ?? [];
  const pick = models.find((m) => m.recommended.coder === 'strong') ?? models.find((m) => m.recommended.coder === 'cheap');
  if (!pick) throw new CliError(`the model catalogue recommends no ${provider} model: pass --model (samokoder models --provider ${provider} lists them).`, EXIT.BAD_INPUT);
  return pick.id;
}
