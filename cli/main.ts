#!/usr/bin/env node
// samokoder: the command line. `samokoder help` lists the commands; exit codes in exit-codes.ts.
import { CliError, EXIT, type ExitCode } from './exit-codes.js';

const HELP = `samokoder — a prompt in, a working tested project out

  samokoder serve                         start the service (web UI, API, WebSocket)
  samokoder worker                        a worker-only node: executes runs, serves no API
  samokoder build "prompt" --out app.zip  generate a project locally and write it as a ZIP
  samokoder eval --provider P --model M   measure a model on the eval suite (pass rate, tokens, cost, time)
  samokoder login --email E               get a token for a running service
  samokoder keys add|list|rm              manage your API keys on a running service
  samokoder usage                         tokens, cost and plan limits this month
  samokoder models [--provider P]         the models you are offered, with limits and prices
  samokoder chat PROJECT_ID "question"    ask about a project's code (read-only), answer streamed
  samokoder import <git-url|file.zip>     import a repository or ZIP as a new project
  samokoder push <project> <remote-url>   push a project's history to a git remote
  samokoder git-credentials add|list|rm   manage tokens and SSH keys for import and push
  samokoder preview PROJECT_ID [--stop]   start a project's live preview and print its URL
  samokoder rotate-master-key             re-wrap stored keys under SAMOKODER_MASTER_KEY
  samokoder package-cache --listen A:P    the sandboxes' package cache on its own (compose)

  samokoder COMMAND --help for the options.

Exit codes: 0 ok · 1 other error · 2 bad input · 3 limit reached · 4 verify failed · 5 cancelled
`;

// Loaded on demand: `serve`, `worker`, `build`, `eval` and `rotate-master-key` pull in the service; the others need only fetch.
const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<ExitCode>; help: string }>> = {
  serve: async () => import('./commands/serve.js').then((m) => ({ run: m.serveCommand, help: m.SERVE_HELP })),
  worker: async () => import('./commands/worker.js').then((m) => ({ run: m.workerCommand, help: m.WORKER_HELP })),
  'rotate-master-key': async () => import('./commands/rotate-master-key.js').then((m) => ({ run: m.rotateMasterKeyCommand, help: m.ROTATE_MASTER_KEY_HELP })),
  build: async () => import('./commands/build.js').then((m) => ({ run: m.buildCommand, help: m.BUILD_HELP })),
  eval: async () => import('./commands/eval.js').then((m) => ({ run: m.evalCommand, help: m.EVAL_HELP })),
  login: async () => import('./commands/login.js').then((m) => ({ run: m.loginCommand, help: m.LOGIN_HELP })),
  keys: async () => import('./commands/keys.js').then((m) => ({ run: m.keysCommand, help: m.KEYS_HELP })),
  'package-cache': async () => import('./commands/package-cache.js').then((m) => ({ run: m.packageCacheCommand, help: m.PACKAGE_CACHE_HELP })),
  usage: async () => import('./commands/usage.js').then((m) => ({ run: m.usageCommand, help: m.USAGE_HELP })),
  models: async () => import('./commands/models.js').then((m) => ({ run: m.modelsCommand, help: m.MODELS_HELP })),
  chat: async () => import('./commands/chat.js').then((m) => ({ run: m.chatCommand, help: m.CHAT_HELP })),
  import: async () => import('./commands/git-io.js').then((m) => ({ run: m.importCommand, help: m.IMPORT_HELP })),
  push: async () => import('./commands/git-io.js').then((m) => ({ run: m.pushCommand, help: m.PUSH_HELP })),
  'git-credentials': async () => import('./commands/git-io.js').then((m) => ({ run: m.gitCredentialsCommand, help: m.GIT_CREDENTIALS_HELP })),
  preview: async () => import('./commands/preview.js').then((m) => ({ run: m.previewCommand, help: m.PREVIEW_HELP })),
};

async function main(argv: string[]): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? await COMMANDS[rest[0]]?.() : undefined;
    process.stdout.write(topic?.help ?? HELP);
    return name ? EXIT.OK : EXIT.BAD_INPUT;
  }
  if (name === '--version' || name === '-v') {
    console.log('samokoder 0.1.0');
    return EXIT.OK;
  }
  const load = COMMANDS[name];
  if (!load) throw new CliError(`unknown command "${name}". Run samokoder help.`, EXIT.BAD_INPUT);
  return (await load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`samokoder: ${err.message}`);
      process.exit(err.exitCode);
    }
    // parseArgs' errors (unknown option, missing value) are bad input.
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`samokoder: ${(err as Error).message}`);
      process.exit(EXIT.BAD_INPUT);
    }
    console.error(`samokoder: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(EXIT.OTHER);
  },
);
