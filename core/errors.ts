/**
 * The error catalogue: every error the service reports has a stable code listed here, with the
 * HTTP status it maps to and whether retrying the same request can succeed. docs/errors.md is
 * generated from it (`npm run docs:errors`), and a test checks that every `E_*` code used anywhere
 * in the sources is listed here and that the document is current (like fastify's FST_ERR_* codes).
 */
export const ERROR_CATALOGUE = {
  E_VALIDATION: { status: 400, retryable: false, summary: 'The request body, query or path is invalid; the message names the field.' },
  E_BAD_JSON: { status: 400, retryable: false, summary: 'The request body is not valid JSON.' },
  E_PAYLOAD_TOO_LARGE: { status: 413, retryable: false, summary: 'The request body is larger than the configured limit.' },
  E_BAD_ENCODING: { status: 400, retryable: false, summary: 'The request body does not decode with its Content-Encoding (gzip, deflate or br); send it encoded as the header says, or without the header.' },
  E_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, summary: 'The request body must be application/json.' },
  E_AUTH: { status: 401, retryable: false, summary: 'Missing, malformed, expired or revoked credentials, or a wrong email/password.' },
  E_FORBIDDEN: { status: 403, retryable: false, summary: 'Authenticated, but this account may not do this (e.g. an admin-only route).' },
  E_NOT_FOUND: { status: 404, retryable: false, summary: 'No such route, or no such resource owned by the caller.' },
  E_CONFLICT: { status: 409, retryable: false, summary: 'The request conflicts with existing state (e.g. the email is already registered).' },
  E_LIMIT: { status: 402, retryable: false, summary: "limit_exceeded: the plan's limit (projects, monthly tokens, concurrent runs, platform keys) would be crossed." },
  E_RATE_LIMITED: { status: 429, retryable: true, summary: 'Too many requests; wait for the Retry-After header.' },
  E_UNAVAILABLE: { status: 503, retryable: true, summary: 'A dependency (the database) is not reachable or not ready yet.' },
  E_KEY_INVALID: { status: 400, retryable: false, summary: 'The provider rejected the API key when it was validated; nothing was stored.' },
  E_NO_PLATFORM_KEY: { status: 503, retryable: true, summary: 'No platform key for this provider is usable right now (none configured, all cooling down or disabled).' },
  E_VAULT_MASTER_KEY: { status: 500, retryable: false, summary: 'The master key cannot decrypt the stored secrets: set the right SAMOKODER_MASTER_KEY (and SAMOKODER_OLD_MASTER_KEYS).' },
  E_CONFIG: { status: 500, retryable: false, summary: 'Start-up configuration is invalid; the message names the variable to set.' },
  E_INTERNAL: { status: 500, retryable: true, summary: 'An unexpected server error; details are in the log under the request id.' },
  E_PROVIDER_AUTH: { status: 502, retryable: false, summary: 'The model provider rejected the API key (its 401/403); fix or replace the key.' },
  E_PROVIDER_RATE_LIMITED: { status: 429, retryable: true, summary: "The model provider is rate limiting this key (its 429); retry after Retry-After." },
  E_PROVIDER_QUOTA: { status: 402, retryable: false, summary: "The model provider refused the call for lack of credits or quota (its 402, an `insufficient_quota`, or such an error inside a 200); the provider's message says which. Top up the provider account or use another key." },
  E_PROVIDER_UNAVAILABLE: { status: 503, retryable: true, summary: 'The model provider failed (its 5xx) or could not be reached.' },
  E_MODEL_RETIRED: { status: 400, retryable: false, summary: 'The model is retired in the model catalogue (the operator retired it, or its provider no longer lists it): a run, role, chat turn or estimate naming it is refused before anything is called or reserved. The message names a replacement; GET /api/models lists what is offered.' },
  E_MODEL_UNKNOWN: { status: 400, retryable: false, summary: "The model is neither in the catalogue nor in what your keys' provider listed for this provider (Anthropic, OpenAI, Groq: closed model lists); pick one from GET /api/models, or list the key's models again (POST /api/user/api-keys/:id/models) if the provider added it since. Providers with open model lists (openai-compatible, OpenRouter) take any name." },
  E_PROVIDER_BAD_REQUEST: { status: 400, retryable: false, summary: 'The model provider refused the request (unknown model, too many tokens, invalid parameters).' },
  E_PROVIDER_STREAM_BROKEN: { status: 502, retryable: false, summary: "The provider's stream broke after it had sent content; the caller decides whether to start over." },
  E_PROVIDER_TIMEOUT: { status: 504, retryable: true, summary: 'The model provider sent nothing for longer than the call timeout.' },
  E_PATH_UNSAFE: { status: 400, retryable: false, summary: 'The workspace path is refused: absolute, a `..` segment, NUL, a backslash, an empty or overlong name, or it leads through a symlink or out of the workspace.' },
  E_FILE_TOO_LARGE: { status: 413, retryable: false, summary: 'The file is larger than SAMOKODER_MAX_FILE_BYTES (to write or to serve), or the export exceeds what a ZIP without ZIP64 can hold.' },
  E_GIT: { status: 500, retryable: false, summary: "The workspace's git repository failed an operation; details are in the log." },
  E_SANDBOX_UNAVAILABLE: { status: 503, retryable: true, summary: 'The Docker sandbox cannot run commands: the engine is not reachable, the sandbox image is missing, or the container failed; the message says which.' },
  E_NO_KEY: { status: 400, retryable: false, summary: 'No API key can pay for this run: pass keyId, store a key for the provider (POST /api/user/api-keys), or use a plan with platform keys.' },
  E_RUN_STOPPED: { status: 422, retryable: false, summary: 'A run stopped before it succeeded: verify still failed after the fix rounds, the token budget was spent, or the model kept making invalid tool calls; the run\'s `reason` says which (its work so far is kept).' },
  E_WEBHOOK_DELIVERY: { status: 502, retryable: true, summary: "The project's webhook endpoint did not accept a delivery (network error or non-2xx); it is retried with backoff." },
  E_WEBHOOK_TARGET: { status: 400, retryable: false, summary: 'The webhook URL points at a loopback, private, link-local (cloud metadata) or otherwise non-public address, and is refused (SSRF protection); the message says whether SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true would allow it.' },
  E_BASE_URL_TARGET: { status: 400, retryable: false, summary: "The API key's baseUrl points at a link-local (cloud metadata) or otherwise non-public address, or at a loopback or private one when SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=false, and is refused (SSRF protection): when the key is stored, or when a call connects to what its host resolves to." },
  E_WORKSPACE_QUOTA: { status: 413, retryable: false, summary: "The project's workspace (files and git history together) is at its disk quota (the plan's max_workspace_mb): the write or commit was refused; delete files to go on. A run that cannot get under it ends with reason `workspace_quota`." },
  E_WORKSPACE_QUOTA_UNAVAILABLE: { status: 503, retryable: false, summary: 'A workspace volume could not be made or mounted: SAMOKODER_WORKSPACE_QUOTA=enforce on a node that cannot mount (not root, no loop devices), a volume workspace opened on such a node, or mkfs/mount failed (e.g. no free loop device; the log has details).' },
  E_DISK_RESERVE: { status: 503, retryable: true, summary: "The server's free disk space is below SAMOKODER_DISK_RESERVE_MB: new projects and runs are refused until an operator frees space." },
  E_GIT_URL: { status: 400, retryable: false, summary: 'The git URL is refused: not https://, http://, ssh://, git:// or user@host:path; a file://, ext:: or other transport; a name or option starting with `-`; credentials inside the URL (store them with POST /api/user/git-credentials); or a host on a link-local (cloud metadata) or other non-public address, or on a loopback or private one when SAMOKODER_GIT_ALLOW_PRIVATE=false (SSRF protection).' },
  E_GIT_REMOTE: { status: 502, retryable: true, summary: "The git server did not do what was asked: it could not be reached, refused the credential, has no such repository or ref, or took longer than SAMOKODER_GIT_TIMEOUT_SECONDS; the message gives git's reason (credentials removed)." },
  E_GIT_AUTH: { status: 400, retryable: false, summary: 'The git server refused the credential: the SSH key or token is not registered with it, may not read (import) or write (push) this repository, or none was given for a repository that needs one. Fix or choose the credential (credentialId).' },
  E_GIT_HOST_KEY: { status: 400, retryable: false, summary: "The ssh server's host key is not trusted: it is not the one pinned in hostKey, or no hostKey was given for a host whose key is not published with the product (github.com). The message and details list the fingerprints the host shows; check them out of band and send one as hostKey. No credential was offered." },
  E_PUSH_REJECTED: { status: 409, retryable: false, summary: "The remote branch has commits the project's history does not: the push would overwrite them. Push to another branch, or send force: true to overwrite." },
  E_IMPORT_UNSAFE: { status: 400, retryable: false, summary: 'The ZIP (or repository) is refused: an entry with `..` or an absolute path, a symlink, a device or other special file, an encrypted or malformed entry, or a suspicious compression ratio (a zip bomb); the message names the entry. Nothing was kept.' },
  E_IMPORT_TOO_LARGE: { status: 413, retryable: false, summary: "The import is over a limit: the upload or unpacked size (SAMOKODER_IMPORT_MAX_MB, or the plan's workspace quota when smaller), or the file count (SAMOKODER_IMPORT_MAX_FILES). Nothing was kept." },
  E_PREVIEW_NO_START: { status: 409, retryable: false, summary: "The project cannot be previewed yet: no run has designed it with a `start` command (generate first), or its architecture's start command is empty (not a server)." },
  E_CANCELLED: { status: 409, retryable: false, summary: 'The operation was cancelled (its run was cancelled or the client went away).' },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  /** Machine-readable extra facts safe to show the client (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the catalogue's default. */
  retryable?: boolean;
  /** Seconds after which a retry may succeed (sent as Retry-After). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly isRetryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.isRetryable = options.retryable ?? ERROR_CATALOGUE[code].retryable;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

export const notFound = (what: string): AppError => new AppError('E_NOT_FOUND', `${what} not found`);
