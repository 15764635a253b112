import { z } from 'zod';

/**
 * The environment variables the service reads, with their types and defaults: loadConfig
 * (core/config.ts) validates the environment with it, and docs/configuration.md is generated from
 * it and core/config-descriptions.ts (`npm run docs:config`).
 */

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalString = z.string().trim().min(1).optional();

/**
 * Each key is the environment variable. docs/configuration.md lists them all, generated from this
 * schema and core/config-descriptions.ts (`npm run docs:config`).
 */
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
  // Per account (the email signed in with), on top of the per-IP limit above: a spread-out guess.
  SAMOKODER_AUTH_RATE_LIMIT_ACCOUNT: positiveInt.default(10),
  SAMOKODER_GENERATE_RATE_LIMIT_USER: positiveInt.default(20),
  SAMOKODER_GENERATE_RATE_LIMIT_IP: positiveInt.default(60),
  SAMOKODER_GENERATE_RATE_WINDOW_SECONDS: positiveInt.default(60),
  SAMOKODER_WS_HEARTBEAT_MS: positiveInt.default(30_000),
  SAMOKODER_WS_MAX_BUFFERED_BYTES: positiveInt.default(4 * 1024 * 1024),
  SAMOKODER_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  SAMOKODER_TRUST_PROXY: bool.default(false),
  SAMOKODER_WORKSPACES_DIR: optionalString,
  SAMOKODER_MAX_FILE_BYTES: positiveInt.default(1024 * 1024),
  // Disk quota of each workspace (workspaces/disk-quota.ts) and the host's free-space reserve.
  SAMOKODER_WORKSPACE_QUOTA: z.enum(['enforce', 'best-effort', 'reactive', 'off']).default('best-effort'),
  SAMOKODER_WORKSPACE_QUOTA_MB: z.coerce.number().int().min(8).max(1024 * 1024).default(512),
  SAMOKODER_DISK_RESERVE_MB: z.coerce.number().int().min(0).default(2048),
  // Our own names, not the SDKs' (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, ...): the adapters always pass
  // a base URL explicitly, so a stray SDK variable in the environment never redirects calls.
  SAMOKODER_ANTHROPIC_BASE_URL: z.url().optional(),
  SAMOKODER_OPENAI_BASE_URL: z.url().optional(),
  SAMOKODER_GROQ_BASE_URL: z.url().optional(),
  SAMOKODER_OPENROUTER_BASE_URL: z.url().optional(),
  SAMOKODER_LLM_TIMEOUT_MS: positiveInt.default(120_000),
  SAMOKODER_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  // SSRF protection of keys' own base URLs (llm/providers/base-url-guard.ts): true by default,
  // for self-hosters' local model servers; a hosted multi-tenant deployment sets false.
  SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: bool.default(true),
  SAMOKODER_OLD_MASTER_KEYS: z.string().default(''),
  // Operator keys for managed credits (comma-separated), for the hosted providers.
  SAMOKODER_PLATFORM_KEYS_ANTHROPIC: z.string().default(''),
  SAMOKODER_PLATFORM_KEYS_OPENAI: z.string().default(''),
  SAMOKODER_PLATFORM_KEYS_GROQ: z.string().default(''),
  SAMOKODER_PLATFORM_KEYS_OPENROUTER: z.string().default(''),
  // The Docker sandbox (sandbox/). Operator settings only: no API input ever changes them.
  SAMOKODER_SANDBOX: z.enum(['docker', 'off']).default('docker'),
  SAMOKODER_SANDBOX_IMAGE: z.string().min(1).default('samokoder-sandbox:latest'),
  SAMOKODER_SANDBOX_MEMORY_MB: positiveInt.default(1024),
  SAMOKODER_SANDBOX_CPUS: z.coerce.number().positive().max(64).default(1),
  SAMOKODER_SANDBOX_PIDS: positiveInt.default(256),
  SAMOKODER_SANDBOX_NOFILE: positiveInt.default(4096),
  SAMOKODER_SANDBOX_TMP_MB: positiveInt.default(256),
  SAMOKODER_SANDBOX_EXEC_TIMEOUT_MS: positiveInt.default(10 * 60_000),
  SAMOKODER_SANDBOX_OUTPUT_CAP_BYTES: positiveInt.default(4 * 1024 * 1024),
  SAMOKODER_SANDBOX_IDLE_SECONDS: positiveInt.default(300),
  SAMOKODER_SANDBOX_WARM_POOL: z.coerce.number().int().min(0).max(100).default(4),
  SAMOKODER_SANDBOX_CA_BUNDLE: optionalString,
  SAMOKODER_SANDBOX_NETWORK: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/).default('samokoder-egress'),
  // The pull-through package cache 'registry' commands install through (sandbox/package-cache.ts).
  SAMOKODER_PACKAGE_CACHE_DIR: optionalString,
  SAMOKODER_PACKAGE_CACHE_UPSTREAM: z.url({ protocol: /^https?$/ }).optional(),
  SAMOKODER_PACKAGE_CACHE_URL: z.url({ protocol: /^http$/ }).optional(),
  SAMOKODER_SANDBOX_NAMESPACE: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'letters, digits, _ . - (at most 63)').default('default'),
  // Verify's browser check (sandbox/docker-browser.ts): the app and Chromium in containers.
  SAMOKODER_BROWSER_CHECK: z.enum(['on', 'off']).default('on'),
  SAMOKODER_BROWSER_IMAGE: z.string().min(1).default('samokoder-browser:latest'),
  SAMOKODER_BROWSER_PORT: z.coerce.number().int().min(1024).max(65535).default(3000),
  SAMOKODER_BROWSER_START_TIMEOUT_MS: positiveInt.default(20_000),
  SAMOKODER_BROWSER_LOAD_TIMEOUT_MS: positiveInt.default(30_000),
  SAMOKODER_BROWSER_MEMORY_MB: positiveInt.default(1024),
  // Live previews (previews/): the app in a sandbox container, served on an origin of its own.
  SAMOKODER_PREVIEW_ORIGIN: z
    .string()
    .trim()
    .regex(/^https?:\/\/(\*\.)?[a-zA-Z0-9.-]+(:\d{1,5})?$/, 'must be scheme://host[:port] (no path), optionally with a leading *. for one host per project, e.g. https://*.preview.example.com')
    .optional(),
  // 0 with PORT=0 (tests): any free port. Unset: PORT + 1.
  SAMOKODER_PREVIEW_PORT: port.optional(),
  SAMOKODER_PREVIEW_IDLE_SECONDS: positiveInt.default(900),
  SAMOKODER_PREVIEW_DATA_PLANE: z.enum(['auto', 'haproxy', 'node']).default('auto'),
  SAMOKODER_PREVIEW_GRANT_TTL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  SAMOKODER_PREVIEW_SESSION_MINUTES: positiveInt.default(8 * 60),
  SAMOKODER_PREVIEW_MAX_SHARE_MINUTES: positiveInt.default(7 * 24 * 60),
  SAMOKODER_PREVIEW_SPARE_NETWORKS: z.coerce.number().int().min(0).max(8).default(1),
  // The run pipeline (agents/pipeline, runs/) and webhooks (webhooks/).
  SAMOKODER_RUN_WORKER: bool.default(true),
  // 0: this node executes no run (an API-only node), like SAMOKODER_RUN_WORKER=false.
  SAMOKODER_RUN_CONCURRENCY: z.coerce.number().int().min(0).max(1000).default(2),
  SAMOKODER_RUN_LEASE_MS: z.coerce.number().int().min(1000).default(30_000),
  SAMOKODER_RUN_MAX_ATTEMPTS: positiveInt.default(5),
  SAMOKODER_FIX_ROUNDS: z.coerce.number().int().min(0).max(20).default(3),
  SAMOKODER_RUN_TOKEN_BUDGET: positiveInt.default(2_000_000),
  SAMOKODER_MAX_STEPS_PER_TASK: positiveInt.default(30),
  SAMOKODER_MAX_INVALID_TOOL_CALLS: positiveInt.default(3),
  SAMOKODER_LOOP_REPEATS: positiveInt.default(4),
  SAMOKODER_LOOP_IDLE_TURNS: positiveInt.default(15),
  SAMOKODER_MAX_OUTPUT_TOKENS: positiveInt.default(8192),
  SAMOKODER_COMMAND_TIMEOUT_MS: positiveInt.default(120_000),
  SAMOKODER_VERIFY_TIMEOUT_MS: positiveInt.default(300_000),
  SAMOKODER_WEBHOOK_MAX_ATTEMPTS: positiveInt.default(8),
  SAMOKODER_WEBHOOK_RETRY_BASE_MS: positiveInt.default(2000),
  SAMOKODER_WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  // SSRF protection (webhooks/target-guard.ts): loopback/private targets only when set.
  SAMOKODER_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  // Finished jobs (db/queue/job-purger.ts): kept this long, checked this often.
  SAMOKODER_JOBS_RETENTION_HOURS: positiveInt.default(7 * 24),
  SAMOKODER_JOBS_PURGE_INTERVAL_MINUTES: positiveInt.default(60),
  // Security: who is an administrator, how long a Supabase token may live, who may read /metrics.
  SAMOKODER_ADMIN_USER_IDS: z.string().default(''),
  SUPABASE_JWT_MAX_LIFETIME_HOURS: positiveInt.default(24),
  SAMOKODER_METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters (e.g. openssl rand -hex 32)').optional(),
  // Browser front ends on other origins (server/http/cors.ts, server/ws/ws-server.ts): exact origins only.
  SAMOKODER_CORS_ORIGINS: z.string().default('').superRefine((value, ctx) => {
    for (const entry of splitList(value)) {
      const problem = corsOriginProblem(entry);
      if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} ${problem}` });
    }
  }),
  // Error tracking (core/error-tracking.ts): off unless a DSN is set.
  SENTRY_DSN: z
    .url()
    .refine((v) => /^https?:\/\/[^@/]+@[^/]+\/.+/.test(v), 'must look like https://<public key>@<host>/<project id>')
    .optional(),
  SENTRY_ENVIRONMENT: z.string().trim().min(1).default('production'),
  SENTRY_RELEASE: optionalString,
  // The project lifecycle (runs/): how often workspaces left by an interrupted project delete are swept.
  SAMOKODER_ORPHAN_WORKSPACE_SWEEP_MINUTES: positiveInt.default(60),
  // Projects in and out of git (gitio/): SSRF policy of remote URLs, and caps of what an import brings in.
  SAMOKODER_GIT_ALLOW_PRIVATE: bool.default(true),
  SAMOKODER_GIT_TIMEOUT_SECONDS: positiveInt.default(300),
  SAMOKODER_IMPORT_MAX_MB: positiveInt.default(256),
  SAMOKODER_IMPORT_MAX_FILES: positiveInt.default(20_000),
});

export type EnvInput = z.input<typeof ENV_SCHEMA>;

/**
 * Why an entry of SAMOKODER_CORS_ORIGINS is refused, or undefined when it is an exact origin. A
 * wildcard is never accepted: echoing any origin lets every site read a signed-in user's data.
 */
function corsOriginProblem(entry: string): string | undefined {
  if (entry.includes('*')) return 'is a wildcard; list each front end\'s exact origin (a wildcard would let any site call the API as the user)';
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return 'is not a URL; write scheme://host[:port], e.g. https://app.example.com';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must start with https:// or http://';
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/' || /^[a-z]+:\/\/[^/]+\/./i.test(entry)) {
    return 'must be scheme://host[:port] with no path, query, fragment or credentials, e.g. https://app.example.com';
  }
  return undefined;
}

/** A comma-separated list; blanks and duplicates dropped. */
export function splitList(value: string): string[] {
  return [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
}
