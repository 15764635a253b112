import { closeErrorTracking, initErrorTracking } from '../core/error-tracking.js';
import { isAppError } from '../core/errors.js';
import { onShutdownSignal } from '../services/shutdown-signals.js';
import { startServer } from './server.js';

/** `npm start` ends here: start, print where to go, stop gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const running = await startServer();
  const { config } = running;
  await initErrorTracking(config, running.ctx.logger);
  running.ctx.logger.info({ url: running.url, database: running.ctx.db.kind, dataDir: config.dataDir, runsWorker: running.services.runsWorker }, 'samokoder listening');
  if (process.stdout.isTTY) {
    process.stdout.write(
      `\nSamokoder is running at ${running.url}\n` +
        `  database: ${running.ctx.db.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}/pglite` : 'PostgreSQL (DATABASE_URL)'}\n` +
        `  next: register with  curl -X POST ${running.url}/api/auth/register -H 'content-type: application/json' -d '{"email":"you@example.com","password":"a-long-password"}'\n` +
        `  API:  ${running.url}/api/openapi.json\n\n`,
    );
  }
  onShutdownSignal((signal) => {
    running.ctx.logger.info({ signal }, 'signal received');
    running.stop().then(() => closeErrorTracking()).then(
      () => process.exit(0),
      (err: unknown) => {
        running.ctx.logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  });
}

main().catch((err: unknown) => {
  // Configuration and start-up errors are for a human: one clear line, no stack.
  if (isAppError(err)) console.error(`samokoder: ${err.code}: ${err.message}`);
  else console.error('samokoder: failed to start:', err);
  process.exit(1);
});
