import { randomBytes } from 'node:crypto';
import os from 'node:os';
import Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { addressOn, logsOf, waitListening } from '../sandbox/docker-browser.js';
import { hardenedContainerSpec } from '../sandbox/hardening.js';
import { ISOLATED_BRIDGE_PREFIX, isolateBridgesFromHost } from '../sandbox/host-isolation.js';
import { containerLabels } from '../sandbox/labels.js';
import type { SandboxSettings } from '../sandbox/settings.js';
import { execUser, prepareWorkspace } from '../sandbox/workspace-owner.js';
import type { PreviewRuntime, PreviewStartRequest, PreviewStartResult } from './runtime.js';

/** Passes the container's output (Docker's multiplexed log frames) to onText until the stream ends. */
async function streamLogs(container: Docker.Container, since: number, onText: (text: string) => void): Promise<void> {
  try {
    const stream = (await container.logs({ stdout: true, stderr: true, follow: true, since })) as NodeJS.ReadableStream;
    const decoder = new TextDecoder();
    let pending = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4);
        if (pending.length < 8 + len) break;
        onText(decoder.decode(pending.subarray(8, 8 + len), { stream: true }));
        pending = pending.subarray(8 + len);
      }
    });
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
  } catch {
    // The container went before the stream opened.
  }
}

export interface DockerPreviewSettings {
  /** $PORT the app is told to listen on. */
  readonly appPort: number;
  /** How long the start command gets to listen before the preview fails. */
  readonly startTimeoutMs: number;
}

/**
 * Previews on the Docker engine. Each preview gets an internal network of its own (no route out,
 * no neighbour: one project's app cannot reach another's), the app in a container with the
 * sandbox's hardening and the workspace mounted, its start command as the container's process.
 * The service reaches it by its address on the network's bridge; the container cannot open
 * connections to the host (the skb+ firewall rule, sandbox/host-isolation.ts).
 */
export function createDockerPreviewRuntime(options: { sandbox: SandboxSettings; settings: DockerPreviewSettings; logger: Logger; docker?: Docker }): PreviewRuntime {
  const { sandbox, settings, logger } = options;
  const docker = options.docker ?? new Docker({ version: 'v1.41' });
  const dockerHost = process.env.DOCKER_HOST ?? `unix://${os.hostname()}`;
  /** This process's previews: container id → its network's name. */
  const mine = new Map<string, { network: string; stopping: boolean }>();

  async function start(req: PreviewStartRequest): Promise<PreviewStartResult> {
    const isolationProblem = await isolateBridgesFromHost(logger);
    if (isolationProblem) throw new AppError('E_SANDBOX_UNAVAILABLE', `Previews cannot run on this node: ${isolationProblem}.`);
    const id = randomBytes(6).toString('hex').slice(0, 11);
    const labels = containerLabels(req.projectId, req.ownerId, sandbox.namespace, sandbox.extraLabels);
    const netName = `samokoder-preview-${id}`;
    let containerId: string | undefined;
    try {
      await docker.createNetwork({
        Name: netName, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: labels,
        Options: { 'com.docker.network.bridge.name': `${ISOLATED_BRIDGE_PREFIX}${id}` },
      });
      await prepareWorkspace(req.workspaceDir);
      const app = await docker.createContainer(appSpec(req, netName));
      containerId = app.id;
      mine.set(app.id, { network: netName, stopping: false });
      await app.start();
      const ip = await addressOn(app, netName);
      const started = await waitListening(app, ip, settings.appPort, settings.startTimeoutMs, undefined);
      if (started !== 'listening') {
        const output = await logsOf(app);
        await stop(app.id);
        return { kind: 'failed', exitCode: started.exitCode ?? null, output };
      }
      follow(app.id, req);
      return { kind: 'listening', containerId: app.id, dockerHost, upstream: `${ip}:${settings.appPort}` };
    } catch (err) {
      if (containerId) await stop(containerId);
      else await removeNetwork(netName);
      throw err instanceof AppError ? err : new AppError('E_SANDBOX_UNAVAILABLE', `The preview could not start: ${(err as Error).message}`, { cause: err });
    }
  }

  function appSpec(req: PreviewStartRequest, netName: string): ContainerCreateOptions {
    const base = hardenedContainerSpec(sandbox, { projectId: req.projectId, ownerId: req.ownerId, workspaceDir: req.workspaceDir });
    const projectEnv = Object.entries(req.projectEnv).map(([k, v]) => `${k}=${v}`);
    return {
      ...base,
      Cmd: ['/bin/sh', '-c', `umask 002\n${req.command}`],
      User: execUser(),
      Hostname: 'app',
      // The project's variables first: ours (PORT, HOST, PATH...) come later and win.
      Env: [...projectEnv, ...(base.Env ?? []), `PORT=${settings.appPort}`, 'HOST=0.0.0.0'],
      HostConfig: { ...base.HostConfig, NetworkMode: netName },
    };
  }

  /** Streams the app's output to onOutput until the container ends; onExit when it ended by itself. */
  function follow(containerId: string, req: PreviewStartRequest): void {
    const container = docker.getContainer(containerId);
    void (async () => {
      let since = 0;
      // A log stream can end while the container still runs (the engine's connection closed): follow again.
      for (;;) {
        const opened = Math.floor(Date.now() / 1000);
        await streamLogs(container, since, (text) => req.onOutput?.(text));
        const state = await container.inspect().then((i) => i.State, () => undefined);
        if (!state?.Running || mine.get(containerId)?.stopping !== false) break;
        since = opened;
        await new Promise((r) => setTimeout(r, 500));
      }
      const entry = mine.get(containerId);
      if (entry && !entry.stopping) {
        logger.info({ containerId: containerId.slice(0, 12) }, 'preview: the app exited');
        await stop(containerId);
        req.onExit?.();
      }
    })();
  }

  async function removeNetwork(name: string): Promise<void> {
    await docker.getNetwork(name).remove().catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) logger.warn({ err, network: name }, 'preview: could not remove its network');
    });
  }

  async function stop(containerId: string): Promise<void> {
    const entry = mine.get(containerId);
    if (entry) entry.stopping = true;
    const container = docker.getContainer(containerId);
    // Another process's preview (a node that restarted): its network is found on the container.
    const network = entry?.network ?? (await container.inspect().then((i) => Object.keys(i.NetworkSettings.Networks).find((n) => n.startsWith('samokoder-preview-')), () => undefined));
    await container.remove({ force: true }).catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) logger.warn({ err }, 'preview: could not remove a container');
    });
    if (network) await removeNetwork(network);
    mine.delete(containerId);
  }

  return {
    start,
    stop,
    async isRunning(containerId) {
      return docker.getContainer(containerId).inspect().then((i) => i.State.Running, () => false);
    },
    async output(containerId) {
      return logsOf(docker.getContainer(containerId));
    },
    async close() {
      await Promise.all([...mine.keys()].map((id) => stop(id)));
    },
  };
}
