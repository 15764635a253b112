import type { z } from 'zod';
import path from 'node:path';
import { ENV_SCHEMA, splitList, type EnvInput } from './config-schema.js';
import type { Config, PackageCacheConfig } from './config-types.js';
import { AppError } from './errors.js';
import { isLoopbackHost } from './net/loopback.js';

/**
 * Configuration is resolved once, at start: an explicit option wins, then the environment
 * variable, then the default. The result is validated and frozen; an invalid value fails start-up
 * with a message naming the variable to set.
 */

// The types live in config-types.ts (one interface per section); importers keep importing them from here.
export type { Config, PackageCacheConfig } from './config-types.js';

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
    adminEmails: splitList(e.SAMOKODER_ADMIN_EMAILS.toLowerCase()),
    bodyLimit: e.SAMOKODER_BODY_LIMIT,
    tokenTtlHours: e.SAMOKODER_TOKEN_TTL_HOURS,
    authRateLimit: { max: e.SAMOKODER_AUTH_RATE_LIMIT, windowSeconds: e.SAMOKODER_AUTH_RATE_WINDOW_SECONDS, perAccount: e.SAMOKODER_AUTH_RATE_LIMIT_ACCOUNT },
    generateRateLimit: {
      perUser: e.SAMOKODER_GENERATE_RATE_LIMIT_USER,
      perIp: e.SAMOKODER_GENERATE_RATE_LIMIT_IP,
      windowSeconds: e.SAMOKODER_GENERATE_RATE_WINDOW_SECONDS,
    },
    ws: { heartbeatMs: e.SAMOKODER_WS_HEARTBEAT_MS, maxBufferedBytes: e.SAMOKODER_WS_MAX_BUFFERED_BYTES },
    shutdownTimeoutMs: e.SAMOKODER_SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.SAMOKODER_TRUST_PROXY,
    workspaces: {
      dir: path.resolve(e.SAMOKODER_WORKSPACES_DIR ?? path.join(e.SAMOKODER_DATA_DIR, 'workspaces')),
      maxFileBytes: e.SAMOKODER_MAX_FILE_BYTES,
      quota: {
        setting: e.SAMOKODER_WORKSPACE_QUOTA,
        defaultBytes: e.SAMOKODER_WORKSPACE_QUOTA_MB * 1024 * 1024,
        reserveBytes: e.SAMOKODER_DISK_RESERVE_MB * 1024 * 1024,
      },
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
      allowPrivateBaseUrls: e.SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS,
    },
    oldMasterKeys: splitList(e.SAMOKODER_OLD_MASTER_KEYS),
    platformKeys: {
      anthropic: splitList(e.SAMOKODER_PLATFORM_KEYS_ANTHROPIC),
      openai: splitList(e.SAMOKODER_PLATFORM_KEYS_OPENAI),
      groq: splitList(e.SAMOKODER_PLATFORM_KEYS_GROQ),
      openrouter: splitList(e.SAMOKODER_PLATFORM_KEYS_OPENROUTER),
    },
    sandbox: {
      enabled: e.SAMOKODER_SANDBOX === 'docker',
      image: e.SAMOKODER_SANDBOX_IMAGE,
      memoryMb: e.SAMOKODER_SANDBOX_MEMORY_MB,
      cpus: e.SAMOKODER_SANDBOX_CPUS,
      pidsLimit: e.SAMOKODER_SANDBOX_PIDS,
      nofile: e.SAMOKODER_SANDBOX_NOFILE,
      tmpMb: e.SAMOKODER_SANDBOX_TMP_MB,
      execTimeoutMs: e.SAMOKODER_SANDBOX_EXEC_TIMEOUT_MS,
      outputCapBytes: e.SAMOKODER_SANDBOX_OUTPUT_CAP_BYTES,
      idleSeconds: e.SAMOKODER_SANDBOX_IDLE_SECONDS,
      warmPoolSize: e.SAMOKODER_SANDBOX_WARM_POOL,
      caBundle: e.SAMOKODER_SANDBOX_CA_BUNDLE,
      egressNetwork: e.SAMOKODER_SANDBOX_NETWORK,
      namespace: e.SAMOKODER_SANDBOX_NAMESPACE,
      packageCache: {
        dir: path.resolve(e.SAMOKODER_PACKAGE_CACHE_DIR ?? path.join(e.SAMOKODER_DATA_DIR, 'package-cache')),
        upstream: npmUpstream(e.SAMOKODER_PACKAGE_CACHE_UPSTREAM, env),
        upstreamProxy: upstreamProxy(env),
        url: e.SAMOKODER_PACKAGE_CACHE_URL,
      },
    },
    browser: {
      enabled: e.SAMOKODER_BROWSER_CHECK === 'on',
      image: e.SAMOKODER_BROWSER_IMAGE,
      port: e.SAMOKODER_BROWSER_PORT,
      startTimeoutMs: e.SAMOKODER_BROWSER_START_TIMEOUT_MS,
      loadTimeoutMs: e.SAMOKODER_BROWSER_LOAD_TIMEOUT_MS,
      memoryMb: e.SAMOKODER_BROWSER_MEMORY_MB,
    },
    preview: previewSettings(e),
    pipeline: {
      workerEnabled: e.SAMOKODER_RUN_WORKER && e.SAMOKODER_RUN_CONCURRENCY > 0,
      concurrency: e.SAMOKODER_RUN_WORKER ? e.SAMOKODER_RUN_CONCURRENCY : 0,
      leaseMs: e.SAMOKODER_RUN_LEASE_MS,
      maxAttempts: e.SAMOKODER_RUN_MAX_ATTEMPTS,
      fixRounds: e.SAMOKODER_FIX_ROUNDS,
      tokenBudget: e.SAMOKODER_RUN_TOKEN_BUDGET,
      maxStepsPerTask: e.SAMOKODER_MAX_STEPS_PER_TASK,
      maxInvalidToolCalls: e.SAMOKODER_MAX_INVALID_TOOL_CALLS,
      loopRepeats: e.SAMOKODER_LOOP_REPEATS,
      loopIdleTurns: e.SAMOKODER_LOOP_IDLE_TURNS,
      maxOutputTokens: e.SAMOKODER_MAX_OUTPUT_TOKENS,
      commandTimeoutMs: e.SAMOKODER_COMMAND_TIMEOUT_MS,
      verifyTimeoutMs: e.SAMOKODER_VERIFY_TIMEOUT_MS,
    },
    webhooks: {
      maxAttempts: e.SAMOKODER_WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.SAMOKODER_WEBHOOK_RETRY_BASE_MS,
      timeoutMs: e.SAMOKODER_WEBHOOK_TIMEOUT_MS,
      allowPrivate: e.SAMOKODER_WEBHOOK_ALLOW_PRIVATE,
    },
    jobs: {
      retentionMs: e.SAMOKODER_JOBS_RETENTION_HOURS * 3_600_000,
      purgeIntervalMs: e.SAMOKODER_JOBS_PURGE_INTERVAL_MINUTES * 60_000,
    },
    security: {
      adminUserIds: splitList(e.SAMOKODER_ADMIN_USER_IDS.toLowerCase()),
      supabaseMaxLifetimeSeconds: e.SUPABASE_JWT_MAX_LIFETIME_HOURS * 3600,
      metricsToken: e.SAMOKODER_METRICS_TOKEN,
    },
    cors: { origins: [...new Set(splitList(e.SAMOKODER_CORS_ORIGINS).map((o) => new URL(o).origin))] },
    errorTracking: { dsn: e.SENTRY_DSN, environment: e.SENTRY_ENVIRONMENT, release: e.SENTRY_RELEASE },
    lifecycle: {
      orphanSweepIntervalMs: e.SAMOKODER_ORPHAN_WORKSPACE_SWEEP_MINUTES * 60_000,
    },
    gitio: {
      allowPrivate: e.SAMOKODER_GIT_ALLOW_PRIVATE,
      timeoutMs: e.SAMOKODER_GIT_TIMEOUT_SECONDS * 1000,
      importMaxBytes: e.SAMOKODER_IMPORT_MAX_MB * 1024 * 1024,
      importMaxFiles: e.SAMOKODER_IMPORT_MAX_FILES,
    },
  };
  refuseCorsForPreviews(config);
  return deepFreeze(config);
}

/**
 * The API must never answer the previews' pages with CORS headers: every generated app runs there.
 * A configured preview origin listed in SAMOKODER_CORS_ORIGINS (or, for a wildcard, a host under
 * it) fails start-up.
 */
function refuseCorsForPreviews(config: Config): void {
  if (!config.preview.originConfigured) return;
  const preview = config.preview.origin;
  const [scheme, rest] = preview.split('://') as [string, string];
  const served = (origin: string): boolean => {
    if (!preview.includes('://*.')) return origin === new URL(preview).origin;
    const suffix = new URL(`${scheme}://x${rest.slice(1)}`);
    const o = new URL(origin);
    return o.protocol === suffix.protocol && o.port === suffix.port && o.hostname.endsWith(suffix.hostname.slice(1));
  };
  const clash = config.cors.origins.filter(served);
  if (clash.length) {
    throw new AppError('E_CONFIG', `Invalid configuration. SAMOKODER_CORS_ORIGINS: ${clash.join(', ')} is where previews are served (SAMOKODER_PREVIEW_ORIGIN); remove it, generated apps must not call the API cross-origin.`);
  }
}

function previewSettings(e: z.infer<typeof ENV_SCHEMA>): Config['preview'] {
  const port = e.SAMOKODER_PREVIEW_PORT ?? (e.PORT === 0 || e.PORT === 65535 ? 0 : e.PORT + 1);
  return {
    origin: e.SAMOKODER_PREVIEW_ORIGIN ?? defaultPreviewOrigin(e.HOST, port),
    originConfigured: e.SAMOKODER_PREVIEW_ORIGIN !== undefined,
    port,
    idleMs: e.SAMOKODER_PREVIEW_IDLE_SECONDS * 1000,
    dataPlane: e.SAMOKODER_PREVIEW_DATA_PLANE,
    grantTtlSeconds: e.SAMOKODER_PREVIEW_GRANT_TTL_SECONDS,
    sessionSeconds: e.SAMOKODER_PREVIEW_SESSION_MINUTES * 60,
    maxShareMinutes: e.SAMOKODER_PREVIEW_MAX_SHARE_MINUTES,
    spareNetworks: e.SAMOKODER_PREVIEW_SPARE_NETWORKS,
  };
}

/**
 * The preview origin when SAMOKODER_PREVIEW_ORIGIN is not set. Cookies are scoped by host, not by
 * port, so a preview on the UI's host and another port would get every cookie of the UI's host (in
 * `document.cookie` and in its requests). On a loopback listener (a local install) previews get
 * hosts of their own, `http://<project id>.localhost:<port>`, which browsers resolve to loopback
 * and treat as a secure context; any other listen host keeps `http://<HOST>:<port>` (a remote
 * browser could not resolve `*.localhost`), and the operator should set a wildcard origin.
 */
export function defaultPreviewOrigin(host: string, port: number): string {
  const local = isLoopbackHost(host) || host === '0.0.0.0' || host === '::';
  return local ? `http://*.localhost:${port}` : `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/**
 * The registry the package cache pulls from: the configured one, else npm's registry as the
 * environment configures it (npm_config_registry), else registry.npmjs.org.
 */
function npmUpstream(configured: string | undefined, env: Record<string, string | undefined>): string {
  const registry = configured ?? env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  try {
    if (registry) return new URL(registry).href;
  } catch {
    // not a URL: fall back to npm's default
  }
  return 'https://registry.npmjs.org/';
}

/** The host's own proxy settings, as npm and curl read them; the cache reaches its upstream through them. */
function upstreamProxy(env: Record<string, string | undefined>): PackageCacheConfig['upstreamProxy'] {
  const first = (...names: string[]): string | undefined => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  return dropUndefined({
    https: first('npm_config_https_proxy', 'HTTPS_PROXY', 'https_proxy', 'npm_config_proxy', 'HTTP_PROXY', 'http_proxy'),
    http: first('npm_config_proxy', 'HTTP_PROXY', 'http_proxy'),
    noProxy: first('npm_config_noproxy', 'NO_PROXY', 'no_proxy'),
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
