import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../../core/logger.js';
import { startServer } from '../../server/server.js';
import { ApiClient, enc } from '../client.js';
import { CliError, EXIT, exitCodeForRun, type ExitCode } from '../exit-codes.js';
import { EventFollower } from '../follow.js';
import { Progress } from '../progress.js';

export const BUILD_HELP = `samokoder build "prompt" [options]

Runs the whole pipeline on this machine (an in-process service on the embedded database, the
Docker sandbox for the tests) and writes the generated project as a ZIP.

  --provider P     anthropic | openai | groq | openrouter | openai-compatible
                   (default: openai-compatible with --base-url, else the first of
                   ANTHROPIC_API_KEY, OPENAI_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY that is set)
  --model M        the model (default per provider; required for openai-compatible)
  --key-env VAR    the environment variable holding the API key (default: the provider's,
                   e.g. ANTHROPIC_API_KEY; optional for openai-compatible). The key is never printed.
  --base-url URL   an OpenAI-compatible server (Ollama: http://localhost:11434/v1)
  --max-tokens N   stop the run once it spent N tokens (input + output): reason budget_exceeded
  --max-cost USD   stop the run once it cost USD dollars (as the price table prices the calls)
  --out FILE       where to write the ZIP (default: app.zip)
  --data-dir DIR   keep the service's data here (default: a temporary directory, removed after)
  --verbose        the service's logs on stderr (otherwise they go to a file, named when the build
                   fails: samokoder-build.log in --data-dir, else beside the temporary directory)
`;

const KEY_ENV: Record<string, string> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  groq: 'GROQ_API_KEY',
  openrouter: 'OPENROUTER_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
};
const DEFAULT_MODEL: Record<string, string> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4.1',
  groq: 'llama-3.3-70b-versatile',
  openrouter: 'anthropic/claude-sonnet-4.5',
};

interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  usage?: { inputTokens: number; outputTokens: number; costMicroUsd: number };
}

function resolveChoice(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv) {
  const baseUrl = values['base-url'] as string | undefined;
  let provider = values.provider as string | undefined;
  if (!provider) provider = baseUrl ? 'openai-compatible' : Object.keys(KEY_ENV).find((p) => p !== 'openai-compatible' && env[KEY_ENV[p]!]);
  if (!provider) throw new CliError('no provider: pass --provider (and --key-env), or --base-url for an OpenAI-compatible server, or set ANTHROPIC_API_KEY / OPENAI_API_KEY / GROQ_API_KEY / OPENROUTER_API_KEY.', EXIT.BAD_INPUT);
  if (!(provider in KEY_ENV)) throw new CliError(`unknown provider "${provider}": use one of ${Object.keys(KEY_ENV).join(', ')}.`, EXIT.BAD_INPUT);
  if (provider === 'openai-compatible' && !baseUrl) throw new CliError('--base-url is required for openai-compatible (e.g. http://localhost:11434/v1 for Ollama).', EXIT.BAD_INPUT);
  const model = (values.model as string | undefined) ?? DEFAULT_MODEL[provider];
  if (!model) throw new CliError(`--model is required for ${provider} (the name your server knows, e.g. qwen2.5-coder:7b).`, EXIT.BAD_INPUT);
  const keyEnv = (values['key-env'] as string | undefined) ?? KEY_ENV[provider]!;
  let apiKey = env[keyEnv];
  if (!apiKey) {
    if (provider !== 'openai-compatible' || values['key-env']) throw new CliError(`the environment variable ${keyEnv} is not set: export your ${provider} key in it, or name another with --key-env.`, EXIT.BAD_INPUT);
    apiKey = 'none'; // local servers (Ollama, LM Studio) ignore the key
  }
  return { provider, model, apiKey, ...(baseUrl ? { baseUrl } : {}) };
}

/** --max-tokens / --max-cost as generate's budget (the server validates the numbers further). */
function budgetOf(maxTokens: string | undefined, maxCost: string | undefined): { maxTokens?: number; maxCostUsd?: number } | undefined {
  if (maxTokens === undefined && maxCost === undefined) return undefined;
  const tokens = maxTokens === undefined ? undefined : Number(maxTokens);
  const cost = maxCost === undefined ? undefined : Number(maxCost);
  if (tokens !== undefined && !(Number.isInteger(tokens) && tokens > 0)) throw new CliError(`--max-tokens must be a whole number above 0, e.g. --max-tokens 200000 (got "${maxTokens}").`, EXIT.BAD_INPUT);
  if (cost !== undefined && !(Number.isFinite(cost) && cost > 0)) throw new CliError(`--max-cost must be a dollar amount above 0, e.g. --max-cost 0.50 (got "${maxCost}").`, EXIT.BAD_INPUT);
  return { ...(tokens !== undefined ? { maxTokens: tokens } : {}), ...(cost !== undefined ? { maxCostUsd: cost } : {}) };
}

/** The local account of the CLI in a data dir: registered once, its password kept in the data dir. */
async function localSession(api: ApiClient, dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'cli-account.json');
  if (existsSync(file)) {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { email: string; password: string };
    return (await api.json<{ token: string }>('POST', '/api/auth/login', saved)).token;
  }
  const account = { email: 'cli@samokoder.localhost', password: randomBytes(24).toString('base64url') };
  const { token } = await api.json<{ token: string }>('POST', '/api/auth/register', account);
  await writeFile(file, JSON.stringify(account), { mode: 0o600 });
  return token;
}

export async function buildCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      provider: { type: 'string' },
      model: { type: 'string' },
      'key-env': { type: 'string' },
      'base-url': { type: 'string' },
      'max-tokens': { type: 'string' },
      'max-cost': { type: 'string' },
      out: { type: 'string', default: 'app.zip' },
      'data-dir': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(BUILD_HELP);
    return EXIT.OK;
  }
  const prompt = positionals.join(' ').trim();
  if (!prompt) throw new CliError('what should it build? samokoder build "a todo app with tests" --out app.zip', EXIT.BAD_INPUT);
  const choice = resolveChoice(values, process.env);
  const out = path.resolve(values.out);
  const budget = budgetOf(values['max-tokens'], values['max-cost']);

  const tempDir = values['data-dir'] ? undefined : await mkdtemp(path.join(os.tmpdir(), 'samokoder-build-'));
  const dataDir = path.resolve(values['data-dir'] ?? tempDir!);
  await mkdir(dataDir, { recursive: true });
  // The terminal is for progress, results and one-line errors; the service's JSON log lines go to
  // a file. A temporary data dir is removed after the build, so its log sits beside it (kept when
  // the build fails, removed with the directory when it succeeds).
  const logFile = tempDir ? `${tempDir}.log` : path.join(dataDir, 'samokoder-build.log');
  const logger = values.verbose
    ? createLogger({ level: 'info', destination: process.stderr })
    : createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: true }) });
  const logNote = values.verbose ? '' : ` (service log: ${logFile})`;
  let keepLog = false;
  const { DATABASE_URL: _external, ...env } = process.env;
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    // The embedded defaults (PGlite in the data dir), an unlimited local plan, a free port. A
    // temporary data dir is removed after the build: its workspace is measured against the quota
    // rather than loop-mounted, since a mounted volume would outlive the directory (EBUSY).
    const quota = tempDir && !env.SAMOKODER_WORKSPACE_QUOTA ? { SAMOKODER_WORKSPACE_QUOTA: 'reactive' } : {};
    server = await startServer({
      env,
      overrides: { PORT: 0, HOST: '127.0.0.1', SAMOKODER_DATA_DIR: dataDir, SAMOKODER_DEFAULT_PLAN: 'unlimited', ...quota },
      logger,
    });
  } catch (err) {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw new CliError(`the service did not start: ${(err as Error).message}${logNote}`);
  }
  const progress = new Progress(process.stdout);
  let follower: EventFollower | undefined;
  let cancel: (() => void) | undefined;
  const onSigint = () => cancel?.();
  process.on('SIGINT', onSigint);
  try {
    const api = new ApiClient(server.url);
    api.token = await localSession(api, dataDir);
    const key = await api.json<{ id: string; masked: string }>('POST', '/api/user/api-keys', { provider: choice.provider, apiKey: choice.apiKey, label: 'samokoder build', ...(choice.baseUrl ? { baseUrl: choice.baseUrl } : {}) });
    const { project } = await api.json<{ project: { id: string; name: string } }>('POST', '/api/projects', { prompt });
    progress.line(`samokoder: "${project.name}" with ${choice.provider} ${choice.model} (key ${key.masked})`);

    let finishedMessage = '';
    follower = new EventFollower(server.url.replace(/^http/, 'ws') + '/ws', api.token, project.id, (e) => {
      if (e.type === 'run.finished' && typeof e.data.message === 'string') finishedMessage = e.data.message;
      progress.event(e);
    });
    const { run } = await api.json<{ run: RunJson }>('POST', `/api/projects/${enc(project.id)}/generate`, { provider: choice.provider, model: choice.model, keyId: key.id, ...(budget ? { budget } : {}) });
    let cancelled = false;
    cancel = () => {
      if (cancelled) process.exit(EXIT.CANCELLED);
      cancelled = true;
      progress.line('cancelling… (Ctrl-C again to quit at once)');
      void api.raw('POST', `/api/projects/${enc(project.id)}/runs/${enc(run.id)}/cancel`).catch(() => undefined);
    };

    // The socket drives the display; polling the run is the source of truth for its end and cost.
    let final: RunJson = run;
    for (;;) {
      const current = (await api.json<{ run: RunJson }>('GET', `/api/projects/${enc(project.id)}/runs/${enc(run.id)}`)).run;
      if (current.usage) progress.setCost(current.usage.costMicroUsd, current.usage.inputTokens, current.usage.outputTokens);
      if (current.status !== 'queued' && current.status !== 'running') {
        final = current;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 300)); // let the last events arrive
    follower.stop();

    const code = exitCodeForRun(final.status, final.reason);
    const zip = Buffer.from(await (await api.raw('GET', `/api/projects/${enc(project.id)}/export`)).arrayBuffer());
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, zip);
    progress.stop();
    if (code === EXIT.OK) console.log(`✓ done: ${progress.summary()}\n  wrote ${path.relative(process.cwd(), out) || out} (${zip.length} bytes)`);
    else {
      keepLog = true;
      console.error(
        `✗ run ${final.status}${final.reason ? `: ${final.reason}` : ''} — ${progress.summary()}` +
          (finishedMessage ? `\n  ${finishedMessage.split('\n')[0]}` : '') +
          `\n  the work so far is in ${path.relative(process.cwd(), out) || out}` +
          (logNote ? `\n  service log: ${logFile}` : ''),
      );
    }
    return code;
  } catch (err) {
    keepLog = true;
    if (err instanceof CliError) throw new CliError(`${err.message}${logNote}`, err.exitCode);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    follower?.stop();
    progress.stop();
    await server.stop();
    if (tempDir) {
      await rm(tempDir, { recursive: true, force: true });
      if (!keepLog) await rm(logFile, { force: true });
    }
  }
}
