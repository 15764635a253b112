import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../core/config.js';
import { isAppError } from '../../core/errors.js';
import { createServices } from '../../services/create-services.js';
import { onShutdownSignal } from '../../services/shutdown-signals.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';

export const WORKER_HELP = `samokoder worker

Starts a worker-only node: it executes queued runs and sends webhooks from the shared database
(DATABASE_URL) and workspaces directory, and serves no API. Run it beside API-only nodes
(SAMOKODER_RUN_CONCURRENCY=0). Its settings come from the environment like the service's
(SAMOKODER_RUN_CONCURRENCY runs at once, at least 1). Stops gracefully on SIGTERM or Ctrl-C:
its running runs go back to the queue and resume on another node.
`;

export async function workerCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(WORKER_HELP);
    return EXIT.OK;
  }
  const asCliError = (err: unknown) => (isAppError(err) ? new CliError(`${err.code}: ${err.message}`, err.code === 'E_CONFIG' ? EXIT.BAD_INPUT : EXIT.OTHER) : err);
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    throw asCliError(err);
  }
  if (!config.pipeline.workerEnabled) {
    throw new CliError('this node would execute no run: set SAMOKODER_RUN_CONCURRENCY to 1 or more and do not set SAMOKODER_RUN_WORKER=false.', EXIT.BAD_INPUT);
  }
  const services = await createServices(config).catch((err: unknown) => {
    throw asCliError(err);
  });
  const { logger } = services;
  logger.info({ database: services.db.kind, concurrency: config.pipeline.concurrency, workspaces: config.workspaces.dir }, 'samokoder worker started');
  const signal = await new Promise<NodeJS.Signals>((resolve) => onShutdownSignal(resolve));
  logger.info({ signal }, 'signal received');
  await services.stop();
  logger.info('stopped');
  return EXIT.OK;
}
