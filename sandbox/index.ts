import Docker from 'dockerode';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { createDockerBrowserCheck } from './docker-browser.js';
import type { BrowserCheckPort } from './browser-port.js';
import { sandboxSettingsFromConfig } from './settings.js';
import { sweepOrphanNetworks, sweepOrphans } from './sweeper.js';

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
 * was killed mid-exec). Never fatal: without a Docker engine the service still starts (runs
 * that need the sandbox then fail with E_SANDBOX_UNAVAILABLE), with a warning.
 */
export async function sweepSandboxAtStartup(config: Config, logger: Logger): Promise<void> {
  if (!config.sandbox.enabled) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        const docker = new Docker({ version: 'v1.41' });
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
}
