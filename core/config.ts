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
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
