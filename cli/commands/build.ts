import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, enc } from '../client.js';
import { CliError, EXIT, exitCodeForRun, type ExitCode } from '../exit-codes.js';
import { EventFollower } from '../follow.js';
import { recommendedModel, resolveChoice } from '../model-choice.js';
import { Progress } from '../progress.js';

export const BUILD_HELP = `samokoder build "prompt" [options]

Runs the whole pipeline on this machine (an in-process service on the embedded database, the
Docker sandbox for the tests) and writes the generated project as a ZIP.

  --provider P     anthropic | openai | groq | openrouter | openai-compatible
                   (default: openai-compatible with --base-url, else the first of
                   ANTHROPIC_API_KEY, OPENAI_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY that is set)
  --model M        the model (default: the model catalogue's strong pick for the coder;
                   required for openai-compatible; \`samokoder models\` lists them)
  --key-env VAR    the environment variable holding the API key (default: the provider's,
                   e.g. ANTHROPIC_API_KEY; optional for openai-compatible). The key is never printed.
  --base-url URL   an OpenAI-compatible server (Ollama: http://localhost:11434/v1)
  --max-tokens N   stop the run once it spent N tokens (input + output): reason budget_exceeded
  --max-cost USD   stop the run once it cost USD dollars (as the model catalogue prices the calls)
  --out FILE       where to write the ZIP (default: app.zip)
  --data-dir DIR   keep the service's data here (default: a temporary directory, removed after)
  --verbose        the service's logs on stderr (otherwise they go to a file, named when the build
                   fails: samokoder-build.log in --data-dir, else beside the temporary directory)
`;

interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  usage?: { inputTokens: number; outputTokens: number; costMicroUsd: number };
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

  // The service (and every module it needs) loads only once the input is known to be good, so a
  // mistyped option is answered at once.
  const { startLocalService } = await import('../local-service.js');
  const local = await startLocalService({ dataDir: values['data-dir'], verbose: values.verbose, name: 'samokoder-build' });
  const { server, dataDir, logFile, logNote } = local;
  let keepLog = false;
  const progress = new Progress(process.stdout);
  let follower: EventFollower | undefined;
  let cancel: (() => void) | undefined;
  const onSigint = () => cancel?.();
  process.on('SIGINT', onSigint);
  try {
    const api = new ApiClient(server.url);
    api.token = await localSession(api, dataDir);
    const key = await api.json<{ id: string; masked: string }>('POST', '/api/user/api-keys', { provider: choice.provider, apiKey: choice.apiKey, label: 'samokoder build', ...(choice.baseUrl ? { baseUrl: choice.baseUrl } : {}) });
    const model = choice.model ?? (await recommendedModel(api, choice.provider));
    const { project } = await api.json<{ project: { id: string; name: string } }>('POST', '/api/projects', { prompt });
    progress.line(`samokoder: "${project.name}" with ${choice.provider} ${model} (key ${key.masked})`);

    let finishedMessage = '';
    follower = new EventFollower(server.url.replace(/^http/, 'ws') + '/ws', api.token, project.id, (e) => {
      if (e.type === 'run.finished' && typeof e.data.message === 'string') finishedMessage = e.data.message;
      progress.event(e);
    });
    const { run } = await api.json<{ run: RunJson }>('POST', `/api/projects/${enc(project.id)}/generate`, { provider: choice.provider, model, keyId: key.id, ...(budget ? { budget } : {}) });
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
    await local.stop({ keepLog });
  }
}
