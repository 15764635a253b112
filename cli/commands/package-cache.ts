import { parseArgs } from 'node:util';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { onShutdownSignal } from '../../services/shutdown-signals.js';
import { sandboxSettingsFromConfig } from '../../sandbox/settings.js';
import { startVerdaccioCache } from '../../sandbox/verdaccio-cache.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';

export const PACKAGE_CACHE_HELP = `samokoder package-cache --listen ADDRESS:PORT

Runs the pull-through package cache sandboxed installs go through, on its own, for nodes that do
not own the sandbox network's gateway address (the compose layout, deploy/README.md). ADDRESS is
that gateway; point the nodes at it with SAMOKODER_PACKAGE_CACHE_URL=http://ADDRESS:PORT/.
Storage, upstream and CA bundle come from SAMOKODER_PACKAGE_CACHE_DIR,
SAMOKODER_PACKAGE_CACHE_UPSTREAM and SAMOKODER_SANDBOX_CA_BUNDLE. Stops on Ctrl-C or SIGTERM.
`;

export async function packageCacheCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, options: { listen: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(PACKAGE_CACHE_HELP);
    return EXIT.OK;
  }
  const match = /^(.+):(\d{1,5})$/.exec(values.listen ?? '');
  if (!match) throw new CliError('--listen ADDRESS:PORT is required (the sandbox network\'s gateway, e.g. 172.30.0.1:4873)', EXIT.BAD_INPUT);
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const settings = sandboxSettingsFromConfig(config);
  const cache = await startVerdaccioCache({ host: match[1]!, port: Number(match[2]), settings: settings.packageCache, caBundle: settings.caBundle, logger });
  console.log(`The package cache is listening on ${cache.url}`);
  // The cache's child process never keeps a service alive on its own; here it is the whole job.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  await new Promise<NodeJS.Signals>((resolve) => onShutdownSignal(resolve));
  clearInterval(keepAlive);
  await cache.stop();
  return EXIT.OK;
}
