import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { createDockerSandbox, type DockerSandbox } from '../../sandbox/docker-sandbox.js';
import type { SandboxHandle } from '../../sandbox/port.js';
import { sandboxSettingsFromConfig, type SandboxSettings } from '../../sandbox/settings.js';

/** Every container a test run creates carries this label; afterAll removes them all, even after a failure. */
export const TEST_RUN_LABEL = 'samokoder.test-run';

export interface SandboxFixture {
  sandbox: DockerSandbox;
  settings: SandboxSettings;
  runId: string;
  docker: Docker;
  /** A fresh workspace directory on the host (removed in cleanup). */
  workspace(): Promise<string>;
  /** Another sandbox with different settings, cleaned up with this one. */
  another(overrides?: Partial<SandboxSettings>): DockerSandbox;
  /** Containers of this run still present. */
  containers(): Promise<Docker.ContainerInfo[]>;
  cleanup(): Promise<void>;
}

export function sandboxFixture(overrides: Partial<SandboxSettings> = {}): SandboxFixture {
  const runId = randomUUID().slice(0, 8);
  const base = sandboxSettingsFromConfig(loadConfig({ SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest' }));
  const settings: SandboxSettings = {
    ...base,
    // Small limits keep the attacks quick on a 2-core CI machine.
    memoryBytes: 256 * 1024 * 1024,
    pidsLimit: 128,
    tmpBytes: 16 * 1024 * 1024,
    outputCapBytes: 1024 * 1024,
    execTimeoutMs: 20_000,
    ...overrides,
    extraLabels: { [TEST_RUN_LABEL]: runId },
  };
  const logger = createLogger({ level: process.env.SANDBOX_TEST_LOG ?? 'silent' });
  const docker = new Docker({ version: 'v1.41' });
  const sandboxes: DockerSandbox[] = [];
  const dirs: string[] = [];
  const make = (s: SandboxSettings): DockerSandbox => {
    const sb = createDockerSandbox({ settings: s, logger, docker });
    sandboxes.push(sb);
    return sb;
  };
  const sandbox = make(settings);
  const containers = () => docker.listContainers({ all: true, filters: { label: [`${TEST_RUN_LABEL}=${runId}`] } });
  return {
    sandbox,
    settings,
    runId,
    docker,
    async workspace() {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'sk-sandbox-ws-'));
      dirs.push(dir);
      return dir;
    },
    another: (o = {}) => make({ ...settings, ...o, extraLabels: { [TEST_RUN_LABEL]: runId } }),
    containers,
    async cleanup() {
      await Promise.allSettled(sandboxes.map((s) => s.close()));
      for (const c of await containers()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/**
 * A normal command must still work after an attack, within its own 2-second exec timeout (a
 * wedged container times out). Not a wall-clock bound on the whole call: the engine's own exec
 * set-up takes seconds on a loaded 2-core machine, and speed is the benchmarks' business.
 */
export async function expectHealthy(handle: SandboxHandle): Promise<void> {
  // The bound rules out a wedged container, not a slow machine (docker exec takes seconds at load 20).
  const r = await handle.exec('echo ok', { timeoutMs: 30_000 });
  expect(r).toMatchObject({ exitCode: 0, timedOut: false });
  expect(r.stdout.trim()).toBe('ok');
}
