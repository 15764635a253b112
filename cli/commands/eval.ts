import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { AttemptResult, EvalTarget } from '../../evals/attempt.js';
import { buildReport, compareMarkdown, reportMarkdown, type EvalReport } from '../../evals/report.js';
import { loadSuite, selectSpecs, SuiteError, type Spec } from '../../evals/suite.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import type { LocalService } from '../local-service.js';
import { resolveChoice, type ModelChoice } from '../model-choice.js';

export const EVAL_HELP = `samokoder eval --provider P --model M [options]
samokoder eval --compare a.json b.json

Runs each spec of a suite through the service and judges the result with the spec's hidden
acceptance tests (in the sandbox; web specs also in the sandboxed browser), then prints a
report: pass/fail per spec, tokens, cost, time, fix rounds; pass@1, median cost and time per
passing app. (npm run eval -- … builds first, then runs this.)

  --provider P, --model M, --key-env VAR, --base-url URL
                   the model, as for samokoder build (the key is never printed)
  --suite NAME     a folder of evals/suites, or a path (default: default)
  --only ID…       only these specs (several ids, or a comma-separated list)
  --repeat N       attempts per spec (default 1); the report adds pass@N
  --concurrency C  attempts at once (default 1)
  --out FILE       write the JSON report there, and the Markdown beside it (FILE with .md)
  --url URL        a running service instead of the in-process one (token: --token or
                   $SAMOKODER_TOKEN); specs that start from a project are skipped there
  --data-dir DIR   keep the in-process service's data (default: a temporary directory)
  --verbose        the service's logs on stderr (otherwise in a file, named on failure)
  --compare A B    compare two JSON reports (Markdown on stdout); runs nothing
`;

const OPTIONS = {
  provider: { type: 'string' },
  model: { type: 'string' },
  'key-env': { type: 'string' },
  'base-url': { type: 'string' },
  suite: { type: 'string', default: 'default' },
  only: { type: 'string', multiple: true },
  repeat: { type: 'string', default: '1' },
  concurrency: { type: 'string', default: '1' },
  out: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  'data-dir': { type: 'string' },
  verbose: { type: 'boolean', default: false },
  compare: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveInt(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${flag} must be a whole number from 1 to ${max}, not "${value}".`, EXIT.BAD_INPUT);
  return n;
}

export async function evalCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(EVAL_HELP);
    return EXIT.OK;
  }
  if (values.compare) return compare(values.compare, positionals);
  // `--only a b c`: the ids after --only arrive as positionals.
  const only = [...(values.only ?? []), ...positionals].flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (positionals.length && !values.only) throw new CliError(`unexpected argument "${positionals[0]}": name specs with --only.`, EXIT.BAD_INPUT);
  const repeat = positiveInt(values.repeat, '--repeat', 100);
  const concurrency = positiveInt(values.concurrency, '--concurrency', 32);
  const resolved = resolveChoice(values, process.env);
  // A report measures one named model (a recommendation could change between two reports).
  if (!resolved.model) throw new CliError('--model is required: an eval measures one model (samokoder models lists them).', EXIT.BAD_INPUT);
  const choice: ModelChoice = { ...resolved, model: resolved.model };
  let specs: Spec[];
  let suite: Awaited<ReturnType<typeof loadSuite>>;
  try {
    suite = await loadSuite(values.suite);
    specs = selectSpecs(suite, only);
  } catch (err) {
    if (err instanceof SuiteError) throw new CliError(err.message, EXIT.BAD_INPUT);
    throw err;
  }

  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const line = (text: string): void => {
    const s = Math.floor((Date.now() - t0) / 1000);
    console.log(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${text}`);
  };

  line(`eval: ${specs.length} spec(s) of suite ${suite.name} × ${repeat} with ${choice.provider} ${choice.model}${values.url ? ` on ${values.url}` : ', starting the in-process service'}`);
  // The service, the sandbox and the browser are loaded only now: --help, --compare and bad input answer at once.
  const [{ loadConfig }, { createLogger }, { browserCheckFromConfig, createDockerSandbox, sandboxSettingsFromConfig }, { runAttempt }, { startLocalService }] = await Promise.all([
    import('../../core/config.js'),
    import('../../core/logger.js'),
    import('../../sandbox/index.js'),
    import('../../evals/attempt.js'),
    import('../local-service.js'),
  ]);
  let local: LocalService | undefined;
  let config: Config;
  let logger: Logger;
  let target: EvalTarget;
  if (values.url) {
    const token = values.token ?? process.env.SAMOKODER_TOKEN;
    if (!token) throw new CliError('--url needs a token: pass --token or set SAMOKODER_TOKEN (samokoder login prints one).', EXIT.BAD_INPUT);
    config = loadConfig(process.env);
    logger = createLogger({ level: 'silent' });
    target = { url: values.url, account: async () => ({ token, dedicated: false }) };
  } else {
    // Each attempt has an account of its own (its usage is the attempt's), so the per-account and
    // per-address rate limits of a public service would only get in the way here.
    local = await startLocalService({
      dataDir: values['data-dir'],
      verbose: values.verbose,
      name: 'samokoder-eval',
      overrides: { SAMOKODER_RUN_CONCURRENCY: concurrency, SAMOKODER_AUTH_RATE_LIMIT: 100_000, SAMOKODER_AUTH_RATE_LIMIT_ACCOUNT: 100_000, SAMOKODER_GENERATE_RATE_LIMIT_USER: 100_000, SAMOKODER_GENERATE_RATE_LIMIT_IP: 100_000 },
    });
    config = local.server.config;
    logger = local.server.services.logger;
    target = inProcessTarget(local);
  }
  const sandbox = createDockerSandbox({ settings: sandboxSettingsFromConfig(config), logger });
  const browser = browserCheckFromConfig(config, logger);
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.CANCELLED);
    line('cancelling the runs in flight… (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let keepLog = false;
  try {
    const queue = specs.flatMap((spec) => Array.from({ length: repeat }, (_, i) => ({ spec, attempt: i + 1 })));
    const results: AttemptResult[] = new Array(queue.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const i = next++;
        const { spec, attempt } = queue[i]!;
        if (controller.signal.aborted) {
          results[i] = { specId: spec.id, attempt, outcome: 'skipped', stopReason: 'cancelled', runStatus: null, projectId: null, tokens: { input: 0, output: 0, cacheRead: null, cacheWrite: null }, costUsd: null, wallSeconds: 0, fixRounds: 0 };
          continue;
        }
        line(`${spec.id}#${attempt} started (${spec.difficulty} ${spec.kind})`);
        results[i] = await runAttempt({ target, choice, judge: { sandbox, browser }, sharedFiles: suite.sharedFiles, onLine: line, signal: controller.signal }, spec, attempt);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));

    const report = buildReport(
      { suite: suite.name, provider: choice.provider, model: choice.model, baseUrl: choice.baseUrl ?? null, startedAt, finishedAt: new Date().toISOString(), repeat },
      specs,
      results,
    );
    const markdown = reportMarkdown(report);
    console.log(`\n${markdown}`);
    if (values.out) {
      const out = path.resolve(values.out);
      const md = out.replace(/\.json$/i, '') + '.md';
      await writeFile(out, JSON.stringify(report, null, 2) + '\n');
      await writeFile(md, markdown);
      console.log(`wrote ${path.relative(process.cwd(), out) || out} and ${path.relative(process.cwd(), md) || md}`);
    }
    const errors = results.filter((r) => r.outcome === 'error').length;
    if (errors) {
      keepLog = true;
      console.error(`${errors} attempt(s) could not be run or judged (see the report)${local?.logNote ?? ''}`);
      return EXIT.OTHER;
    }
    return controller.signal.aborted ? EXIT.CANCELLED : EXIT.OK;
  } catch (err) {
    keepLog = true;
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    await browser?.close();
    await sandbox.close();
    await local?.stop({ keepLog });
  }
}

/** The in-process service: a new local account per attempt, and start projects written straight into the workspace. */
function inProcessTarget(local: LocalService): EvalTarget {
  const { server } = local;
  return {
    url: server.url,
    async account(label) {
      const api = new ApiClient(server.url);
      const account = { email: `eval-${label}-${randomBytes(4).toString('hex')}@samokoder.localhost`, password: randomBytes(24).toString('base64url') };
      const { token } = await api.json<{ token: string }>('POST', '/api/auth/register', account);
      return { token, dedicated: true };
    },
    async seed(projectId, startDir) {
      const ws = await server.ctx.workspaces.open(projectId);
      for (const rel of await filesUnder(startDir)) await ws.files.writeFile(rel, await readFile(path.join(startDir, rel)));
      await ws.history.commitAll('The project this spec starts from', { 'Samokoder-Step': 'eval-start' });
    },
  };
}

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(dir, prefix))).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if ((await stat(path.join(dir, rel))).isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out;
}

async function compare(first: string, rest: string[]): Promise<ExitCode> {
  if (rest.length !== 1) throw new CliError('--compare takes two reports: samokoder eval --compare a.json b.json', EXIT.BAD_INPUT);
  const read = async (file: string): Promise<EvalReport> => {
    let r: EvalReport;
    try {
      r = JSON.parse(await readFile(file, 'utf8')) as EvalReport;
    } catch (err) {
      throw new CliError(`cannot read the report ${file}: ${(err as Error).message}`, EXIT.BAD_INPUT);
    }
    if (r?.version !== 1 || !Array.isArray(r.specs) || !r.totals) throw new CliError(`${file} is not a report of samokoder eval --out (version 1)`, EXIT.BAD_INPUT);
    return r;
  };
  const [a, b] = [await read(first), await read(rest[0]!)];
  process.stdout.write(compareMarkdown(a, b));
  return EXIT.OK;
}
