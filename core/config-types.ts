import type { z } from 'zod';
import type { ENV_SCHEMA } from './config-schema.js';

/**
 * The resolved configuration (core/config.ts loadConfig builds it from the environment; every
 * variable is described in core/config-descriptions.ts). One section per module that reads it.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: { readonly url: string | undefined; readonly poolSize: number };
  readonly dataDir: string;
  readonly masterKey: string | undefined;
  readonly supabase: SupabaseConfig;
  readonly logLevel: z.infer<typeof ENV_SCHEMA>['LOG_LEVEL'];
  readonly defaultPlan: string;
  /** Emails that are administrators when a Supabase token vouches for them (`email_verified: true`). */
  readonly adminEmails: readonly string[];
  readonly bodyLimit: string;
  readonly tokenTtlHours: number;
  readonly authRateLimit: { readonly max: number; readonly windowSeconds: number; readonly perAccount: number };
  /** Runs started (POST …/generate) per window, per user and per client IP. */
  readonly generateRateLimit: { readonly perUser: number; readonly perIp: number; readonly windowSeconds: number };
  readonly ws: WebSocketConfig;
  readonly shutdownTimeoutMs: number;
  readonly trustProxy: boolean;
  readonly workspaces: WorkspacesConfig;
  readonly llm: LlmConfig;
  /** Previous master keys, still accepted for decryption until `npm run rotate-master-key`. */
  readonly oldMasterKeys: readonly string[];
  /** Operator keys for managed credits, by provider id. Secrets: never log them. */
  readonly platformKeys: { readonly anthropic: readonly string[]; readonly openai: readonly string[]; readonly groq: readonly string[]; readonly openrouter: readonly string[] };
  /** The Docker sandbox commands run in (sandbox/settings.ts turns this into SandboxSettings). */
  readonly sandbox: SandboxConfig;
  /** Verify's browser check: the app's start command and headless Chromium, each in a hardened container. */
  readonly browser: BrowserConfig;
  /** Live previews (previews/): the app's start command in a sandbox container, proxied on its own origin. */
  readonly preview: PreviewConfig;
  /** The run pipeline: planner → architect → coder → verify → fixer (agents/pipeline). */
  readonly pipeline: PipelineConfig;
  /** Webhook delivery of run.finished (webhooks/). */
  readonly webhooks: WebhooksConfig;
  /** The `jobs` table's finished rows: deleted after the retention, checked every interval. */
  readonly jobs: JobsConfig;
  readonly security: SecurityConfig;
  /** Origins (scheme://host[:port]) whose browser pages may call the API and open the WebSocket; empty: same origin only. */
  readonly cors: { readonly origins: readonly string[] };
  /** Sentry error reporting; off when `dsn` is undefined. */
  readonly errorTracking: { readonly dsn: string | undefined; readonly environment: string; readonly release: string | undefined };
  /** The project lifecycle (runs/). */
  readonly lifecycle: LifecycleConfig;
  /** Import from a git URL or ZIP, push to a git remote (gitio/). */
  readonly gitio: GitioConfig;
}

export interface SupabaseConfig {
  readonly jwtSecret: string | undefined;
  readonly jwksUrl: string | undefined;
  readonly audience: string;
  readonly issuer: string | undefined;
}

export interface WebSocketConfig {
  /** Ping period; a client that has not answered the previous ping is dropped. */
  readonly heartbeatMs: number;
  /** A connection whose unsent bytes pass this is closed (4008) instead of growing memory. */
  readonly maxBufferedBytes: number;
}

export interface WorkspacesConfig {
  /** Absolute; one directory per project plus its git directory beside it. */
  readonly dir: string;
  /** Largest file a tool may write or the API serves as content. */
  readonly maxFileBytes: number;
  readonly quota: {
    /** enforce: loop-mounted volumes required; best-effort: volumes, else measured; reactive: measured; off. */
    readonly setting: 'enforce' | 'best-effort' | 'reactive' | 'off';
    /** A project's quota when its plan sets none (plans.max_workspace_mb NULL). */
    readonly defaultBytes: number;
    /** New projects and runs are refused while the workspaces' filesystem has less free (0: no check). */
    readonly reserveBytes: number;
  };
}

export interface LlmConfig {
  /** Per-provider base URL overrides; unset means the provider's public endpoint. */
  readonly baseUrls: { readonly anthropic?: string; readonly openai?: string; readonly groq?: string; readonly openrouter?: string };
  /** The longest a call waits for the provider's first byte or next chunk. */
  readonly timeoutMs: number;
  /** Retries of a retryable failure before any content was streamed. */
  readonly maxRetries: number;
  /**
   * Let a key's own base URL reach loopback and private-network addresses (Ollama or LM Studio on
   * localhost or the LAN). Link-local (cloud metadata) and other non-public addresses stay
   * refused either way; the operator's SAMOKODER_*_BASE_URL endpoints are not checked.
   */
  readonly allowPrivateBaseUrls: boolean;
}

export interface SandboxConfig {
  readonly enabled: boolean;
  readonly image: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly pidsLimit: number;
  readonly nofile: number;
  readonly tmpMb: number;
  readonly execTimeoutMs: number;
  readonly outputCapBytes: number;
  readonly idleSeconds: number;
  /** How many released containers stay started, ready for their project's next acquire. */
  readonly warmPoolSize: number;
  /** A path, 'none', or undefined (the system bundle when it exists). */
  readonly caBundle: string | undefined;
  /** The internal Docker network 'registry' commands join. */
  readonly egressNetwork: string;
  /** The deployment's label on its containers: sweeps and evictions touch only their own namespace. */
  readonly namespace: string;
  /** The pull-through package cache: the only thing 'registry' commands reach. */
  readonly packageCache: PackageCacheConfig;
}

export interface BrowserConfig {
  /** Off: verify passes on the tests alone. On: runs when the image exists (else skipped with a warning). */
  readonly enabled: boolean;
  readonly image: string;
  /** $PORT the start command is given; the page loaded is http://app:<port>/. */
  readonly port: number;
  /** How long the start command gets to listen before verify fails with its output. */
  readonly startTimeoutMs: number;
  /** Page load and screenshot, each. */
  readonly loadTimeoutMs: number;
  readonly memoryMb: number;
}

export interface PreviewConfig {
  /** `scheme://host[:port]`; with a leading `*.` label, one host per project (the project id in its place). */
  readonly origin: string;
  /** The preview server's listen port (on `host`); 0: any free port. */
  readonly port: number;
  /** Whether `origin` was configured (else it follows the port the listener got). */
  readonly originConfigured: boolean;
  readonly idleMs: number;
  /** What serves preview traffic: HAProxy in front of the Node preview server, or Node alone (auto: HAProxy when installed). */
  readonly dataPlane: 'auto' | 'haproxy' | 'node';
  readonly grantTtlSeconds: number;
  readonly sessionSeconds: number;
  readonly maxShareMinutes: number;
  /** Isolated networks kept ready (with their namespace holders) for the next previews on this node. */
  readonly spareNetworks: number;
}

export interface PipelineConfig {
  /**
   * Run the runs worker (and the webhook sender) in this process; false on an API-only node
   * (SAMOKODER_RUN_WORKER=false or SAMOKODER_RUN_CONCURRENCY=0).
   */
  readonly workerEnabled: boolean;
  /** Runs this node executes at once (0 when workerEnabled is false). */
  readonly concurrency: number;
  /** A dead node's runs are resumed elsewhere after this. */
  readonly leaseMs: number;
  /** Attempts a run gets (a lease lost to a dead node counts one); then it fails with `worker_lost`. */
  readonly maxAttempts: number;
  /** Fixer rounds after a failed verify before the run ends `verify_failed`. */
  readonly fixRounds: number;
  /** Input + output tokens a run may spend before it ends `token_budget`. */
  readonly tokenBudget: number;
  /** Model turns the coder or fixer gets per step. */
  readonly maxStepsPerTask: number;
  /** Invalid tool calls in a row that fail the step. */
  readonly maxInvalidToolCalls: number;
  /** The same tool call with the same result this many times stops the run (`stuck`). */
  readonly loopRepeats: number;
  /** Model turns in a row without a workspace change that stop the run (`stuck`). */
  readonly loopIdleTurns: number;
  /** max_tokens of every model call. */
  readonly maxOutputTokens: number;
  /** Wall-clock limit of an agent's run_command. */
  readonly commandTimeoutMs: number;
  /** Wall-clock limit of verify's install and test commands (each). */
  readonly verifyTimeoutMs: number;
}

export interface WebhooksConfig {
  readonly maxAttempts: number;
  /** First retry delay; doubled per attempt, capped at 10 minutes. */
  readonly retryBaseMs: number;
  readonly timeoutMs: number;
  /**
   * Deliver to loopback and private-network addresses (RFC 1918, CGNAT, IPv6 ULA): for a
   * self-hosted deployment whose receivers are on its own network. Link-local (cloud metadata)
   * and other non-public addresses stay refused either way.
   */
  readonly allowPrivate: boolean;
}

export interface JobsConfig {
  readonly retentionMs: number;
  readonly purgeIntervalMs: number;
}

export interface SecurityConfig {
  /** Accounts (any sign-in) that are administrators. */
  readonly adminUserIds: readonly string[];
  /** The longest a Supabase access token may be valid, from its `iat` (or now) to its `exp`. */
  readonly supabaseMaxLifetimeSeconds: number;
  /** Bearer token /metrics asks for; without one it answers only when the server listens on loopback. */
  readonly metricsToken: string | undefined;
}

export interface LifecycleConfig {
  /** Period of the sweep that removes workspaces whose project row is gone (also run at start-up). */
  readonly orphanSweepIntervalMs: number;
}

export interface GitioConfig {
  /** Reach git servers on loopback and private networks (link-local and metadata never). */
  readonly allowPrivate: boolean;
  /** One clone or push, wall clock. */
  readonly timeoutMs: number;
  /** Upload, unpacked content and received clone data, each. */
  readonly importMaxBytes: number;
  readonly importMaxFiles: number;
}

export interface PackageCacheConfig {
  /** Where the service's own cache keeps packuments and tarballs (shared by all its projects). */
  readonly dir: string;
  /** The registry it pulls from. */
  readonly upstream: string;
  /** The host's proxy towards the upstream; may hold credentials (never logged). */
  readonly upstreamProxy: { readonly https?: string; readonly http?: string; readonly noProxy?: string };
  /** A cache run elsewhere on the sandbox network's gateway (compose); the service then runs none. */
  readonly url: string | undefined;
}
