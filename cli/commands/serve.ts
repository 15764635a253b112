import { parseArgs } from 'node:util';
import { closeErrorTracking, initErrorTracking } from '../../core/error-tracking.js';
import { startServer } from '../../server/server.js';
import { onShutdownSignal } from '../../services/shutdown-signals.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export const SERVE_HELP = `samokoder serve [--port N] [--host H]

Starts the service (API, WebSocket, web UI) with the configuration from the environment, like
npm start without the build step. Stops gracefully on Ctrl-C or SIGTERM.
`;

export async function serveCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return EXIT.OK;
  }
  const server = await startServer({
    env: process.env,
    overrides: { ...(values.port ? { PORT: Number(values.port) } : {}), ...(values.host ? { HOST: values.host } : {}) },
  });
  await initErrorTracking(server.config, server.ctx.logger);
  console.log(`Samokoder is listening on ${server.url} (web UI at /, API at /api, docs at /api/openapi.json)`);
  await new Promise<NodeJS.Signals>((resolve) => onShutdownSignal(resolve));
  await server.stop();
  await closeErrorTracking();
  return EXIT.OK;
}
