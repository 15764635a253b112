import os from 'node:os';
import Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { addressOn, logsOf, waitListening } from '../sandbox/docker-browser.js';
import { hardenedContainerSpec } from '../sandbox/hardening.js';
import { isolateBridgesFromHost } from '../sandbox/host-isolation.js';
import { containerLabels } from '../sandbox/labels.js';
import { createIsolatedNetwork, holderOf, joinHolder, PREVIEW_NETWORK_PREFIX, removeHolder } from '../sandbox/netns-holder.js';
import type { SandboxSettings } from '../sandbox/settings.js';
import { execUser, prepareWorkspace } from '../sandbox/workspace-owner.js';
import type { PreviewRuntime, PreviewStartRequest, PreviewStartResult } from './runtime.js';
import { SpareNetworks } from './spare-networks.js';

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
  /** Isolated networks kept ready for the next previews (spare-networks.ts); 0: each start makes its own. */
  readonly spareNetworks: number;
}

export interface DockerPreviewRuntime extends PreviewRuntime {
  /** Resolves when the spare networks being made are ready (tests wait for one). */
  sparesReady(): Promise<void>;
}

/** Where a preview's app is: in a spare's namespace holder, or alone on a network made for it. */
type Placement = { holderId: string } | { network: string };

/**
 * Previews on the Docker engine. Each preview gets an internal network of its own (no route out,
 * no neighbour: one project's app cannot reach another's), the app in a container with the
 * sandbox's hardening and the workspace mounted, its start command as the container's process.
 * The network is a spare made ahead when one is ready: the app's container then joins the spare's
 * namespace holder and starts in a fraction of the time (spare-networks.ts); else it is made now
 * and the app's container is the only one on it. The service reaches the app by its address on
 * the network's bridge; the container cannot open connections to the host (the skb+ firewall
 * rule, sandbox/host-isolation.ts).
 */
export function createDockerPreviewRuntime(options: { sandbox: SandboxSettings; settings: DockerPreviewSettings; logger: Logger; docker?: Docker }): DockerPreviewRuntime {
  const { sandbox, settings, logger } = options;
  const docker = options.docker ?? new Docker({ version: 'v1.41' });
  const dockerHost = process.env.DOCKER_HOST ?? `unix://${os.hostname()}`;
  const spares = new SpareNetworks({ docker, sandbox, logger, size: settings.spareNetworks });
  /** This process's previews: container id → where it is. */
  const mine = new Map<string, Placement & { stopping: boolean }>();

  async function start(req: PreviewStartRequest): Promise<PreviewStartResult> {
    const isolationProblem = await isolateBridgesFromHost(logger);
    if (isolationProblem) throw new AppError('E_SANDBOX_UNAVAILABLE', `Previews cannot run on this node: ${isolationProblem}.`);
    const labels = containerLabels(req.projectId, req.ownerId, sandbox.namespace, sandbox.extraLabels);
    const spare = spares.take();
    let placement: Placement | undefined = spare && { holderId: spare.holderId };
    let containerId: string | undefined;
    try {
      const [network] = await Promise.all([spare?.network ?? createIsolatedNetwork(docker, labels), prepareWorkspace(req.workspaceDir)]);
      placement ??= { network };
      const app = await docker.createContainer(appSpec(req, placement));
      containerId = app.id;
      mine.set(app.id, { ...placement, stopping: false });
      await app.start();
      const ip = spare?.ip ?? (await addressOn(app, network));
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
      else if (placement) await release(placement);
      throw err instanceof AppError ? err : new AppError('E_SANDBOX_UNAVAILABLE', `The preview could not start: ${(err as Error).message}`, { cause: err });
    } finally {
      // After this start, not during it: making a spare competes for the engine and the cores.
      spares.refill();
    }
  }

  function appSpec(req: PreviewStartRequest, placement: Placement): ContainerCreateOptions {
    const base = hardenedContainerSpec(sandbox, { projectId: req.projectId, ownerId: req.ownerId, workspaceDir: req.workspaceDir });
    const projectEnv = Object.entries(req.projectEnv).map(([k, v]) => `${k}=${v}`);
    return {
      ...base,
      Cmd: ['/bin/sh', '-c', `umask 002\n${req.command}`],
      User: execUser(),
      // Joining a holder, the container has the holder's host name (Docker refuses one of its own).
      Hostname: 'holderId' in placement ? undefined : 'app',
      // The project's variables first: ours (PORT, HOST, PATH...) come later and win.
      Env: [...projectEnv, ...(base.Env ?? []), `PORT=${settings.appPort}`, 'HOST=0.0.0.0'],
      HostConfig: { ...base.HostConfig, NetworkMode: 'holderId' in placement ? joinHolder(placement.holderId) : placement.network },
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

  /** Removes the network (with its holder, if any) once the app's container is gone. */
  async function release(placement: Placement): Promise<void> {
    const removal = 'holderId' in placement ? removeHolder(docker, placement.holderId) : docker.getNetwork(placement.network).remove();
    await removal.catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) logger.warn({ err, ...placement }, 'preview: could not remove its network');
    });
  }

  async function stop(containerId: string): Promise<void> {
    const entry = mine.get(containerId);
    if (entry) entry.stopping = true;
    const container = docker.getContainer(containerId);
    // Another process's preview (a node that restarted): its holder or network is found on the container.
    const placement = entry ?? (await container.inspect().then(placementOf, () => undefined));
    const removal = container.remove({ force: true }).catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) logger.warn({ err }, 'preview: could not remove a container');
    });
    // A holder's network has the holder as its only endpoint: it goes alongside the app's container
    // (a restart waits for this); a network of the app's own, once the app's container is gone.
    if (placement && 'holderId' in placement) await Promise.all([removal, release(placement)]);
    else {
      await removal;
      if (placement) await release(placement);
    }
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
      await spares.close();
    },
    prepare: () => spares.refill(),
    sparesReady: () => spares.settled(),
  };
}

/** Where another process's preview container is (from its inspect), or undefined when it is on no preview network. */
function placementOf(info: Docker.ContainerInspectInfo): Placement | undefined {
  const holderId = holderOf(info.HostConfig.NetworkMode);
  if (holderId) return { holderId };
  const network = Object.keys(info.NetworkSettings.Networks).find((n) => n.startsWith(PREVIEW_NETWORK_PREFIX));
  return network ? { network } : undefined;
}
