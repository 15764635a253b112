import Docker from 'dockerode';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { bridgeNameFor, removeStaleEgressRules } from './network.js';
import { sweepOrphans } from './sweeper.js';

export type { AcquireOptions, ExecOptions, ExecResult, OutputStream, SandboxHandle, SandboxNetwork, SandboxPort } from './port.js';
export { createDockerSandbox, type DockerSandbox } from './docker-sandbox.js';
export { sandboxSettingsFromConfig, type SandboxSettings } from './settings.js';

const SWEEP_TIMEOUT_MS = 5_000;

/**
 * Start-up: removes the containers an earlier process of the service left behind (it crashed or
 * was killed mid-exec). Never fatal: without a Docker engine the service still starts (runs
 * that need the sandbox then fail with E_SANDBOX_UNAVAILABLE), with a warning.
 */
export async function sweepSandboxAtStartup(config: Config, logger: Logger): Promise<void> {
  if (!config.sandbox.enabled) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sweepOrphans(new Docker({ version: 'v1.41' }), logger, { namespace: config.sandbox.namespace }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${SWEEP_TIMEOUT_MS} ms`)), SWEEP_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    logger.warn({ err: String(err) }, 'sandbox: the start-up sweep could not reach the Docker engine; commands will fail until it is up');
  } finally {
    clearTimeout(timer);
  }
  // A process killed mid-shutdown leaves its proxy's firewall rule behind; it goes now, not at
  // the first registry command.
  await removeStaleEgressRules(bridgeNameFor(config.sandbox.egressNetwork), logger);
}
