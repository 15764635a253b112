import Docker from 'dockerode';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { createAvailabilityCheck, SANDBOX_OFF } from './availability.js';
import type { BrowserCheckPort } from './browser-port.js';
import { createDockerBrowserCheck } from './docker-browser.js';
import { bridgeNameFor, removeStaleEgressRules } from './network.js';
import { sandboxSettingsFromConfig } from './settings.js';
import { sweepOrphanNetworks, sweepOrphans } from './sweeper.js';

export { requireSandbox, sandboxAvailability, isSandboxDown, type SandboxAvailability } from './availability.js';
export type { AcquireOptions, ExecOptions, ExecResult, OutputStream, SandboxHandle, SandboxNetwork, SandboxPort } from './port.js';
export { createDockerSandbox, type DockerSandbox } from './docker-sandbox.js';
export { sandboxSettingsFromConfig, type SandboxSettings } from './settings.js';
export type { BrowserCheckPort, BrowserCheckRequest, BrowserCheckResult, BrowserProblem } from './browser-port.js';
export { createDockerBrowserCheck, type BrowserSettings } from './docker-browser.js';

/** Verify's browser check on the Docker engine, or undefined when it (or the sandbox) is off. */
export function browserCheckFromConfig(config: Config, logger: Logger): BrowserCheckPort | undefined {
  if (!config.sandbox.enabled || !config.browser.enabled) return undefined;
  const b = config.browser;
  return createDockerBrowserCheck({
    sandbox: sandboxSettingsFromConfig(config),
    browser: { image: b.image, port: b.port, startTimeoutMs: b.startTimeoutMs, loadTimeoutMs: b.loadTimeoutMs, memoryBytes: b.memoryMb * 1024 * 1024 },
    logger,
  });
}

const SWEEP_TIMEOUT_MS = 5_000;

/**
 * Start-up: removes the containers an earlier process of the service left behind (it crashed or
 * was killed mid-exec), and says in the log when the sandbox cannot be had, with the fix. Never
 * fatal: without a Docker engine or the image the service still starts (runs then fail at once
 * with E_SANDBOX_UNAVAILABLE, and /readyz says why).
 */
export async function sweepSandboxAtStartup(config: Config, logger: Logger): Promise<void> {
  if (!config.sandbox.enabled) {
    logger.warn({ fix: SANDBOX_OFF.fix }, `sandbox: ${SANDBOX_OFF.reason}`);
    return;
  }
  const docker = new Docker({ version: 'v1.41' });
  const status = await createAvailabilityCheck({ docker, image: config.sandbox.image, timeoutMs: SWEEP_TIMEOUT_MS }).check();
  if (!status.available) {
    logger.warn({ component: status.component, fix: status.fix }, `sandbox unavailable: ${status.reason}. Fix: ${status.fix}`);
    if (status.component === 'engine') return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await sweepOrphans(docker, logger, { namespace: config.sandbox.namespace });
        await sweepOrphanNetworks(docker, logger, { namespace: config.sandbox.namespace });
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${SWEEP_TIMEOUT_MS} ms`)), SWEEP_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    logger.warn({ err: String(err) }, 'sandbox: the start-up sweep could not reach the Docker engine; commands will fail until it is up');
  } finally {
    clearTimeout(timer);
  }
  // A process killed mid-shutdown leaves its cache's firewall rule behind; it goes now, not at
  // the first registry command.
  await removeStaleEgressRules(bridgeNameFor(config.sandbox.egressNetwork), logger);
}
