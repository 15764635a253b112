import { z } from 'zod';
import path from 'node:path';
import { AppError } from './errors.js';

/**
 * Configuration is resolved once, at start: an explicit option wins, then the environment
 * variable, then the default. The result is validated and frozen; an invalid value fails start-up
 * with a message naming the variable to set.
 */

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalString = z.string().trim().min(1).optional();

/** Each key is the environment variable; the README's configuration table lists them all. */
export const ENV_SCHEMA = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL').optional(),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  SAMOKODER_DATA_DIR: z.string().min(1).default('./data'),
  SAMOKODER_MASTER_KEY: optionalString,
  SUPABASE_JWT_SECRET: optionalString,
  SUPABASE_JWKS_URL: z.url().optional(),
  SUPABASE_JWT_AUDIENCE: z.string().min(1).default('authenticated'),
  SUPABASE_JWT_ISSUER: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SAMOKODER_DEFAULT_PLAN: z.string().min(1).default('free'),
  SAMOKODER_ADMIN_EMAILS: z.string().default(''),
  SAMOKODER_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 512kb or 1mb').default('1mb'),
  SAMOKODER_TOKEN_TTL_HOURS: positiveInt.default(24 * 30),
  SAMOKODER_AUTH_RATE_LIMIT: positiveInt.default(20),
  SAMOKODER_AUTH_RATE_WINDOW_SECONDS: positiveInt.default(60),
  SAMOKODER_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  SAMOKODER_TRUST_PROXY: bool.default(false),
  SAMOKODER_WORKSPACES_DIR: optionalString,
  SAMOKODER_MAX_FILE_BYTES: positiveInt.default(1024 * 1024),
  // Our own names, not the SDKs' (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, ...): the adapters always pass
  // a base URL explicitly, so a stray SDK variable in the environment never redirects calls.
  SAMOKODER_ANTHROPIC_BASE_URL: z.url().optional(),
  SAMOKODER_OPENAI_BASE_URL: z.url().optional(),
  SAMOKODER_GROQ_BASE_URL: z.url().optional(),
  SAMOKODER_OPENROUTER_BASE_URL: z.url().optional(),
  SAMOKODER_LLM_TIMEOUT_MS: positiveInt.default(120_000),
  SAMOKODER_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  SAMOKODER_OLD_MASTER_KEYS: z.string().default(''),
  SAMOKODER_PRICES_FILE: optionalString,
  // Operator keys for managed credits (comma-separated), for the hosted providers.
  SAMOKODER_PLATFORM_KEYS_ANTHROPIC: z.string().default(''),
  SAMOKODER_PLATFORM_KEYS_OPENAI: z.string().default(''),
  SAMOKODER_PLATFORM_KEYS_GROQ: z.string().default(''),
  SAMOKODER_PLATFORM_KEYS_OPENROUTER: z.string().default(''),
});

export type EnvInput = z.input<typeof ENV_SCHEMA>;

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: { readonly url: string | undefined; readonly poolSize: number };
  readonly dataDir: string;
  readonly masterKey: string | undefined;
  readonly supabase: {
    readonly jwtSecret: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly audience: string;
    readonly issuer: string | undefined;
  };
  readonly logLevel: z.infer<typeof ENV_SCHEMA>['LOG_LEVEL'];
  readonly defaultPlan: string;
  readonly adminEmails: readonly string[];
  readonly bodyLimit: string;
  readonly tokenTtlHours: number;
  readonly authRateLimit: { readonly max: number; readonly windowSeconds: number };
  readonly shutdownTimeoutMs: number;
  readonly trustProxy: boolean;
  readonly workspaces: {
    /** Absolute; one directory per project plus its git directory beside it. */
    readonly dir: string;
    /** Largest file a tool may write or the API serves as content. */
    readonly maxFileBytes: number;
  };
  readonly llm: {
    /** Per-provider base URL overrides; unset means the provider's public endpoint. */
    readonly baseUrls: { readonly anthropic?: string; readonly openai?: string; readonly groq?: string; readonly openrouter?: string };
    /** The longest a call waits for the provider's first byte or next chunk. */
    readonly timeoutMs: number;
    /** Retries of a retryable failure before any content was streamed. */
    readonly maxRetries: number;
  };
  /** Previous master keys, still accepted for decryption until `npm run rotate-master-key`. */
  readonly oldMasterKeys: readonly string[];
  /** A JSON price table used instead of the built-in agents/usage/prices.json. */
  readonly pricesFile: string | undefined;
  /** Operator keys for managed credits, by provider id. Secrets: never log them. */
  readonly platformKeys: { readonly anthropic: readonly string[]; readonly openai: readonly string[]; readonly groq: readonly string[]; readonly openrouter: readonly string[] };
}

/**
 * @param env the environment (process.env at the composition root)
 * @param overrides explicit options, by environment variable name; they win over `env`
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<keyof EnvInput, string | number | boolean>> = {},
): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ENV_SCHEMA.shape)) {
    const explicit = overrides[key as keyof EnvInput];
    const value = explicit !== undefined ? String(explicit) : env[key];
    // An empty variable means "not set", as in most twelve-factor services.
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = ENV_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new AppError('E_CONFIG', `Invalid configuration. Set these environment variables correctly: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    dataDir: path.resolve(e.SAMOKODER_DATA_DIR),
    masterKey: e.SAMOKODER_MASTER_KEY,
    supabase: {
      jwtSecret: e.SUPABASE_JWT_SECRET,
      jwksUrl: e.SUPABASE_JWKS_URL,
      audience: e.SUPABASE_JWT_AUDIENCE,
      issuer: e.SUPABASE_JWT_ISSUER,
    },
    logLevel: e.LOG_LEVEL,
    defaultPlan: e.SAMOKODER_DEFAULT_PLAN,
    adminEmails: e.SAMOKODER_ADMIN_EMAILS.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    bodyLimit: e.SAMOKODER_BODY_LIMIT,
    tokenTtlHours: e.SAMOKODER_TOKEN_TTL_HOURS,
    authRateLimit: { max: e.SAMOKODER_AUTH_RATE_LIMIT, windowSeconds: e.SAMOKODER_AUTH_RATE_WINDOW_SECONDS },
    shutdownTimeoutMs: e.SAMOKODER_SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.SAMOKODER_TRUST_PROXY,
    workspaces: {
      dir: path.resolve(e.SAMOKODER_WORKSPACES_DIR ?? path.join(e.SAMOKODER_DATA_DIR, 'workspaces')),
      maxFileBytes: e.SAMOKODER_MAX_FILE_BYTES,
    },
    llm: {
      baseUrls: dropUndefined({
        anthropic: e.SAMOKODER_ANTHROPIC_BASE_URL,
        openai: e.SAMOKODER_OPENAI_BASE_URL,
        groq: e.SAMOKODER_GROQ_BASE_URL,
        openrouter: e.SAMOKODER_OPENROUTER_BASE_URL,
      }),
      timeoutMs: e.SAMOKODER_LLM_TIMEOUT_MS,
      maxRetries: e.SAMOKODER_LLM_MAX_RETRIES,
    },
    oldMasterKeys: splitList(e.SAMOKODER_OLD_MASTER_KEYS),
    pricesFile: e.SAMOKODER_PRICES_FILE,
    platformKeys: {
      anthropic: splitList(e.SAMOKODER_PLATFORM_KEYS_ANTHROPIC),
      openai: splitList(e.SAMOKODER_PLATFORM_KEYS_OPENAI),
      groq: splitList(e.SAMOKODER_PLATFORM_KEYS_GROQ),
      openrouter: splitList(e.SAMOKODER_PLATFORM_KEYS_OPENROUTER),
    },
  };
  return deepFreeze(config);
}

function dropUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** A comma-separated list; blanks and duplicates dropped. */
function splitList(value: string): string[] {
  return [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
