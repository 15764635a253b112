import type * as SentryNode from '@sentry/node';
import type { Breadcrumb, Event } from '@sentry/node';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/**
 * Unexpected errors (5xx requests, run and webhook worker failures, the job purger) reported to
 * Sentry when SENTRY_DSN is set; a no-op otherwise. Everything leaves through `scrubEvent`: what a
 * report carries is the error's type, code, message (with secrets masked) and stack frames
 * (file, function, line), plus the ids and route template the caller passes. Never headers,
 * cookies, bodies, query strings, local variables, source lines, prompts or file contents.
 */

/** What a caller may attach to a report: ids and labels only, never payloads. */
export interface ErrorContext {
  /** Where it happened: 'http', 'run-worker', 'webhook-worker', 'job-purger', ... */
  component: string;
  /** The route template (`/api/projects/:id`), not the URL. */
  route?: string;
  method?: string;
  status?: number;
  code?: string;
  requestId?: string;
  runId?: string;
  projectId?: string;
  jobId?: string;
}

type SentryModule = typeof SentryNode;

let sentry: SentryModule | undefined;

const FILTERED = '[Filtered]';
/** Longest message kept: a runaway message (a whole model reply in a parse error) is cut, not shipped. */
const MAX_TEXT = 500;

/** Keys whose values are secrets or user content wherever they appear in a report. */
const SENSITIVE_KEY =
  /authorization|cookie|token|secret|passw|api[-_]?key|private[-_]?key|master[-_]?key|credential|signature|dsn|prompt|messages?$|content|body|^data$|^env$|^headers$|^query|^text$|^input$|^output$|^vars$/i;

/**
 * Secret shapes masked in any text: provider keys (sk-…, sk-ant-…, sk-or-…, gsk_…), our session
 * tokens (sk_sess_…), bearer/basic credentials, JWTs, credentials in URLs, and a URL's query string
 * (a WebSocket token or a webhook secret often rides there).
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /\b(?:sk|rk|pk)[-_][A-Za-z0-9_-]{8,}/g,
  /\bgsk_[A-Za-z0-9]{8,}/g,
  /\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi,
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  /(?<=:\/\/)[^\s/@:]+:[^\s/@]+(?=@)/g,
  /(?<=[?&](?:token|key|api_key|apikey|access_token|secret|sig|signature)=)[^\s&#"']+/gi,
];

/** The operator's own secrets, masked by value wherever they appear. */
let knownSecrets: readonly string[] = [];

export function redactText(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join(FILTERED);
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, FILTERED);
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…` : out;
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return FILTERED;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SENSITIVE_KEY.test(key) ? FILTERED : scrubValue(v, depth + 1);
  return out;
}

function scrubBreadcrumb(b: Breadcrumb): Breadcrumb {
  return {
    ...(b.type ? { type: b.type } : {}),
    ...(b.category ? { category: b.category } : {}),
    ...(b.level ? { level: b.level } : {}),
    ...(b.timestamp ? { timestamp: b.timestamp } : {}),
    ...(b.message ? { message: redactText(b.message) } : {}),
    ...(b.data ? { data: scrubValue(b.data, 0) as Record<string, unknown> } : {}),
  };
}

/** The last word on what leaves the process: applied to every error and transaction event. */
export function scrubEvent<T extends Event>(event: T): T {
  // The request as the SDK saw it (URL with query, headers, cookies, body) goes entirely: the
  // route template and status travel as tags instead.
  delete event.request;
  if (event.user) event.user = event.user.id === undefined ? {} : { id: event.user.id };
  if (event.message) event.message = redactText(event.message);
  if (event.logentry?.message) event.logentry = { message: redactText(event.logentry.message) };
  if (event.transaction) event.transaction = redactText(event.transaction);
  for (const exception of event.exception?.values ?? []) {
    if (exception.value) exception.value = redactText(exception.value);
    for (const frame of exception.stacktrace?.frames ?? []) {
      // Local variables and source lines can hold anything the code was handling.
      delete frame.vars;
      delete frame.pre_context;
      delete frame.context_line;
      delete frame.post_context;
    }
  }
  if (event.breadcrumbs) event.breadcrumbs = event.breadcrumbs.map(scrubBreadcrumb);
  if (event.extra) event.extra = scrubValue(event.extra, 0) as Record<string, unknown>;
  if (event.contexts) event.contexts = scrubValue(event.contexts, 0) as typeof event.contexts;
  if (event.tags) event.tags = scrubValue(event.tags, 0) as typeof event.tags;
  return event;
}

function secretsOf(config: Config): string[] {
  const values = [
    config.masterKey,
    ...config.oldMasterKeys,
    config.supabase.jwtSecret,
    ...Object.values(config.platformKeys).flat(),
    config.database.url ? safeUrlPassword(config.database.url) : undefined,
  ];
  // Short values would mask unrelated text; real secrets are long.
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 8);
}

function safeUrlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts reporting when SENTRY_DSN is set; call once at start-up, after the configuration is
 * loaded. The SDK is loaded only then, so a deployment without a DSN never loads it.
 */
export async function initErrorTracking(config: Config, logger: Logger): Promise<void> {
  const { dsn, environment, release } = config.errorTracking;
  if (!dsn || sentry) return;
  knownSecrets = secretsOf(config);
  const Sentry = await import('@sentry/node');
  Sentry.init({
    dsn,
    environment,
    ...(release ? { release } : {}),
    // Only what is listed below: the defaults include HTTP, request-data, console and the LLM
    // SDKs' integrations, which record URLs, headers, bodies and prompts.
    defaultIntegrations: false,
    integrations: [
      Sentry.eventFiltersIntegration(),
      Sentry.functionToStringIntegration(),
      Sentry.linkedErrorsIntegration(),
      Sentry.dedupeIntegration(),
      Sentry.nodeContextIntegration(),
      Sentry.onUncaughtExceptionIntegration(),
      // 'strict' keeps Node's own behaviour (the process exits) after the report.
      Sentry.onUnhandledRejectionIntegration({ mode: 'strict' }),
    ],
    // Nothing about users, requests, queries, LLM calls or variables is collected in the first place.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpHeaders: false,
      httpBodies: [],
      urlQueryParams: false,
      graphQL: { document: false, variables: false },
      genAI: { inputs: false, outputs: false },
      mcp: { inputs: false, outputs: false },
      databaseQueryData: false,
      queues: false,
      stackFrameVariables: false,
      frameContextLines: 0,
    },
    // No tracing (no tracesSampleRate) and no load-time hooks into Express, pg or the LLM SDKs:
    // the reports come from reportError and the process-level handlers only.
    enableRuntimeChannelInjection: false,
    includeLocalVariables: false,
    sendClientReports: false,
    beforeSend: (event) => scrubEvent(event),
    beforeSendTransaction: (event) => scrubEvent(event),
    beforeBreadcrumb: (breadcrumb) => scrubBreadcrumb(breadcrumb),
  });
  sentry = Sentry;
  logger.info({ host: new URL(dsn).host, environment }, 'error tracking on: unexpected errors are reported to Sentry (scrubbed)');
}

/** Reports an unexpected error with its ids; a no-op unless error tracking is on. */
export function reportError(err: unknown, context: ErrorContext): void {
  if (!sentry) return;
  const { component, ...rest } = context;
  const tags: Record<string, string> = { component };
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) tags[key] = String(value);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && tags.code === undefined) tags.code = code;
  sentry.captureException(err, { tags });
}

/** Sends what is queued (at most `timeoutMs`) and stops reporting: call on shutdown. */
export async function closeErrorTracking(timeoutMs = 2000): Promise<void> {
  if (!sentry) return;
  const s = sentry;
  sentry = undefined;
  await s.close(timeoutMs);
}
