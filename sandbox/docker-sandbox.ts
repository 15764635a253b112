import path from 'node:path';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { Container } from 'dockerode';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createAvailabilityCheck, diagnose, sandboxUnavailableError } from './availability.js';
import { execEnv } from './env.js';
import { runExec } from './exec.js';
import { hardenedContainerSpec } from './hardening.js';
import { ensureEgressNetwork, restrictHostAccess, type EgressNetwork } from './network.js';
import { externalPackageCache, type PackageCache } from './package-cache.js';
import type { AcquireOptions, ExecOptions, ExecResult, SandboxHandle, SandboxPort } from './port.js';
import { SANDBOX_GID, SANDBOX_UID, type SandboxSettings } from './settings.js';
import { APP_VALUE, INSTANCE_ID, LABEL_APP, LABEL_INSTANCE, LABEL_NAMESPACE, LABEL_PROJECT } from './labels.js';
import { holderOf, removeHolder } from './netns-holder.js';
import { sweepOrphans } from './sweeper.js';
import { startVerdaccioCache } from './verdaccio-cache.js';
import { execUser, prepareWorkspace } from './workspace-owner.js';

export interface DockerSandboxOptions {
  settings: SandboxSettings;
  logger: Logger;
  /** Default: the engine at DOCKER_HOST or the default socket, API v1.41 (Docker 20.10+). */
  docker?: Docker;
}

export interface DockerSandbox extends SandboxPort {
  readonly docker: Docker;
  /** Removes containers left by earlier processes (call once at start-up). */
  sweepOrphans(): Promise<number>;
}

/** The running package cache and the removal of its firewall rule. */
interface CacheEntry {
  cache: PackageCache;
  unrestrict: () => Promise<void>;
}

/** One project's container and who is using it. */
interface Entry {
  projectId: string;
  workspaceDir: string;
  container: Container;
  id: string;
  users: number;
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Execs (and the clean-ups between them) run one at a time: killing the sandbox user's processes must hit only the command it is for. */
  queue: Promise<unknown>;
  gone: boolean;
}

/**
 * Kills every process of the sandbox user in the container (including ones that escaped their
 * process group with setsid), then counts survivors. `kill -1` spares the calling shell and PID 1
 * (tini, root). Repeated because a fork bomb forks while the first round runs. A clean container
 * shows 3 processes afterwards: this shell, ps and wc.
 */
const KILL_SCRIPT = 'for i in 1 2 3 4 5; do kill -9 -1 2>/dev/null; done; ps -u 10001 -o pid= | wc -l';
const KILL_DEADLINE_MS = 500;

export function createDockerSandbox(options: DockerSandboxOptions): DockerSandbox {
  const { settings, logger } = options;
  const docker = options.docker ?? new Docker({ version: 'v1.41' });
  const entries = new Map<string, Entry>();
  const creating = new Map<string, Promise<Entry>>();
  let network: Promise<EgressNetwork> | undefined;
  let cache: Promise<CacheEntry> | undefined;
  let closed = false;
  const availability = createAvailabilityCheck({ docker, image: settings.image });
  const unavailable = (err: unknown): AppError => toUnavailable(err, settings.image);

  const egressNetwork = (): Promise<EgressNetwork> => {
    network ??= ensureEgressNetwork(docker, settings.egressNetwork).catch((err) => {
      network = undefined;
      const error = unavailable(err);
      availability.observe({ ok: false, error });
      throw error;
    });
    return network;
  };

  /**
   * The package cache 'registry' commands reach, and the host firewall rule that opens its port
   * (and no other) to the network. Started on the first such command; a cache whose process died
   * is replaced by the next one.
   */
  const startCache = (): Promise<CacheEntry> =>
    (async () => {
      const net = await egressNetwork();
      const c = await openPackageCache(net);
      return { cache: c, unrestrict: await restrictHostAccess(net, c.port, logger) };
    })().catch((err: unknown) => {
      cache = undefined;
      throw err instanceof AppError ? err : new AppError('E_SANDBOX_UNAVAILABLE', `The package cache for sandboxed installs failed: ${(err as Error).message ?? String(err)}`, { cause: err, retryable: true });
    });

  const packageCache = async (): Promise<CacheEntry> => {
    const pending = (cache ??= startCache());
    const entry = await pending;
    if (entry.cache.alive()) return entry;
    if (cache === pending) {
      cache = undefined;
      logger.warn('sandbox: the package cache exited; starting another');
      await entry.unrestrict();
    }
    return packageCache();
  };

  async function openPackageCache(net: EgressNetwork): Promise<PackageCache> {
    const external = settings.packageCache.url;
    if (!external) return startVerdaccioCache({ host: net.gateway, port: 0, settings: settings.packageCache, caBundle: settings.caBundle, logger });
    // Sandboxes on the internal network reach nothing but its gateway.
    if (new URL(external).hostname !== net.gateway) {
      throw new AppError('E_SANDBOX_UNAVAILABLE', `SAMOKODER_PACKAGE_CACHE_URL is ${external}, but sandboxes on the Docker network ${net.name} can reach only its gateway ${net.gateway}: serve the cache there (docs/operations.md, "Package cache")`, { retryable: false });
    }
    return externalPackageCache(external);
  }

  async function createEntry(projectId: string, workspaceDir: string, ownerId: string | undefined): Promise<Entry> {
    if (closed) throw new AppError('E_SANDBOX_UNAVAILABLE', 'The sandbox is shutting down', { retryable: true });
    await prepareWorkspace(workspaceDir);
    const net = await egressNetwork();
    let container: Container | undefined;
    try {
      container = await docker.createContainer(hardenedContainerSpec(settings, { projectId, ownerId, workspaceDir }));
      // Fail closed: a container that cannot leave the egress network is never started.
      await docker.getNetwork(net.name).disconnect({ Container: container.id, Force: true });
      await container.start();
    } catch (err) {
      if (container) await container.remove({ force: true }).catch(() => undefined);
      const error = unavailable(err);
      availability.observe({ ok: false, error });
      throw error;
    }
    availability.observe({ ok: true });
    const entry: Entry = { projectId, workspaceDir, container, id: container.id, users: 0, idleSince: Date.now(), idleTimer: undefined, queue: Promise.resolve(), gone: false };
    entries.set(projectId, entry);
    logger.debug({ projectId, container: container.id.slice(0, 12) }, 'sandbox: container started');
    return entry;
  }

  async function entryFor(projectId: string, workspaceDir: string, ownerId: string | undefined): Promise<Entry> {
    validProjectId(projectId);
    if (!path.isAbsolute(workspaceDir)) throw new AppError('E_VALIDATION', 'workspaceDir must be an absolute path');
    const existing = entries.get(projectId);
    if (existing && existing.workspaceDir === workspaceDir) return existing;
    if (existing) await removeEntry(existing);
    let pending = creating.get(projectId);
    if (!pending) {
      pending = createEntry(projectId, workspaceDir, ownerId).finally(() => creating.delete(projectId));
      creating.set(projectId, pending);
    }
    return pending;
  }

  /** The project's containers in this deployment's namespace, started by any process. */
  async function projectContainers(projectId: string): Promise<Docker.ContainerInfo[]> {
    return docker
      .listContainers({ all: true, filters: { label: [`${LABEL_APP}=${APP_VALUE}`, `${LABEL_NAMESPACE}=${settings.namespace}`, `${LABEL_PROJECT}=${projectId}`] } })
      .catch((err: unknown) => { throw unavailable(err); });
  }

  /** Removals in flight (reaper, eviction): close() waits for them. */
  const removing = new Set<Promise<void>>();

  async function removeEntry(entry: Entry): Promise<void> {
    if (entry.gone) return;
    entry.gone = true;
    clearTimeout(entry.idleTimer);
    if (entries.get(entry.projectId) === entry) entries.delete(entry.projectId);
    const removal = entry.container
      .remove({ force: true })
      .catch((err: unknown) => {
        if ((err as { statusCode?: number }).statusCode !== 404) logger.warn({ err, container: entry.id }, 'sandbox: could not remove a container');
      })
      .finally(() => removing.delete(removal));
    removing.add(removal);
    await removal;
  }

  /** Idle containers beyond the warm-pool size go first (oldest idle first); the rest after the idle period. */
  function scheduleIdle(entry: Entry): void {
    entry.idleSince = Date.now();
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => void removeEntry(entry), settings.idleSeconds * 1000);
    entry.idleTimer.unref();
    const idle = [...entries.values()].filter((e) => e.users === 0).sort((a, b) => a.idleSince - b.idleSince);
    for (const e of idle.slice(0, Math.max(0, idle.length - settings.warmPoolSize))) void removeEntry(e);
  }

  /**
   * Ends every process of the sandbox user in the container: the KILL_SCRIPT exec when there are a
   * few; a container restart (SIGKILL to all of it; /tmp starts empty, the workspace stays) when
   * there are many (a fork bomb holds every pid, so no exec could even start) or the exec fails or
   * leaves survivors. Process counts come from `docker top`, which runs on the host.
   */
  async function killTree(entry: Entry): Promise<void> {
    if (entry.gone) return;
    // Unknown (top failed) counts as "many": restarting is the safe answer.
    const before = await sandboxProcessCount(entry.container).catch(() => Number.MAX_SAFE_INTEGER);
    if (before === 0 || entry.gone) return;
    if (before < settings.pidsLimit / 4) {
      const survivors = await runShort(entry.container, KILL_SCRIPT).catch(() => undefined);
      if (survivors !== undefined && Number(survivors.trim()) <= 3) return;
    }
    logger.warn({ projectId: entry.projectId, processes: before }, 'sandbox: restarting the container to end its processes');
    await entry.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    await entry.container.start().catch((err: unknown) => {
      if (entry.gone) return;
      logger.error({ err, projectId: entry.projectId }, 'sandbox: restart failed; removing the container');
      void removeEntry(entry);
    });
  }

  async function execOn(entry: Entry, command: string, opts: ExecOptions): Promise<ExecResult> {
    const network = opts.network ?? 'none';
    if (network !== 'none' && network !== 'registry') throw new AppError('E_VALIDATION', "network must be 'none' or 'registry'");
    const egress = network === 'registry' ? await packageCache() : undefined;
    const { env, dropped } = execEnv({ callerEnv: opts.env, projectEnv: opts.projectEnv, network, cacheEnv: egress?.cache.clientEnv });
    if (dropped.length) logger.warn({ dropped, projectId: entry.projectId }, 'sandbox: credential-looking variables were not passed to the command');
    const net = egress ? await egressNetwork() : undefined;
    if (net) await docker.getNetwork(net.name).connect({ Container: entry.id }).catch((err: unknown) => { throw unavailable(err); });
    try {
      return await runExec(
        entry.container,
        {
          command,
          cwd: opts.cwd,
          env,
          user: execUser(),
          timeoutMs: opts.timeoutMs ?? settings.execTimeoutMs,
          capBytes: settings.outputCapBytes,
          onOutput: opts.onOutput,
          signal: opts.signal,
        },
        () => killTree(entry),
      );
    } catch (err) {
      throw err instanceof AppError ? err : unavailable(err);
    } finally {
      if (net) await docker.getNetwork(net.name).disconnect({ Container: entry.id, Force: true }).catch(() => undefined);
    }
  }

  function handleFor(entry: Entry): SandboxHandle {
    let released = false;
    const live = (): Entry => {
      if (released || entry.gone) throw new AppError('E_SANDBOX_UNAVAILABLE', 'This sandbox handle was released or destroyed; acquire it again', { retryable: false });
      return entry;
    };
    return {
      projectId: entry.projectId,
      containerId: entry.id,
      async exec(command, opts = {}) {
        const e = live();
        const result = e.queue.then(() => execOn(e, command, opts));
        // A command's tree never outlives it (`cmd &` that outlived its shell, a fork bomb that
        // exited): the next exec on this container waits for the leftovers to be ended.
        e.queue = result.catch(() => undefined).then(() => killTree(e)).catch(() => undefined);
        return result;
      },
      async release() {
        if (released) return;
        released = true;
        entry.users -= 1;
        if (entry.users > 0 || entry.gone) return;
        // The container stays warm for the project (exec already ended each command's leftovers).
        scheduleIdle(entry);
      },
      async destroy() {
        released = true;
        await removeEntry(entry);
      },
    };
  }

  return {
    docker,
    availability: () => availability.check(),
    async acquire(projectId: string, workspaceDir: string, opts: AcquireOptions = {}) {
      const entry = await entryFor(projectId, workspaceDir, opts.ownerId);
      clearTimeout(entry.idleTimer);
      entry.users += 1;
      return handleFor(entry);
    },
    async prewarm(projectId: string, workspaceDir: string, opts: AcquireOptions = {}) {
      const entry = await entryFor(projectId, workspaceDir, opts.ownerId);
      if (entry.users === 0) scheduleIdle(entry);
    },
    sweepOrphans: () => sweepOrphans(docker, logger, { namespace: settings.namespace }).catch((err: unknown) => { throw unavailable(err); }),
    async evictForeign(projectId: string) {
      const foreign = (await projectContainers(projectId)).filter((c) => c.Labels?.[LABEL_INSTANCE] !== INSTANCE_ID);
      await Promise.all(foreign.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      if (foreign.length) logger.info({ projectId, removed: foreign.length }, 'sandbox: removed containers of an earlier holder of the project');
      return foreign.length;
    },
    async removeProject(projectId: string) {
      validProjectId(projectId);
      // A container being created for the project now would otherwise start after the listing.
      await creating.get(projectId)?.catch(() => undefined);
      const local = entries.get(projectId);
      if (local) await removeEntry(local);
      // Then every other one in the namespace: other nodes', and a predecessor's of this node.
      const others = (await projectContainers(projectId)).filter((c) => c.Id !== local?.id);
      await Promise.all(others.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
      // A preview's app that joined a spare network's holder: the holder (made before any project had it, so unlabelled) goes with its network.
      const holders = others.map((c) => holderOf(c.HostConfig?.NetworkMode)).filter((h) => h !== undefined);
      await Promise.all(holders.map((h) => removeHolder(docker, h).catch(() => undefined)));
      // The networks of its previews and browser checks (labelled like their containers), now empty.
      const networks = await docker.listNetworks({ filters: { label: [`${LABEL_APP}=${APP_VALUE}`, `${LABEL_NAMESPACE}=${settings.namespace}`, `${LABEL_PROJECT}=${projectId}`] } }).catch(() => []);
      await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
      const removed = others.length + (local ? 1 : 0);
      if (removed) logger.info({ projectId, removed }, 'sandbox: removed the containers of a deleted project');
      return removed;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...creating.values()]);
      await Promise.all([...entries.values()].map(removeEntry));
      await Promise.all([...removing]);
      if (cache) {
        const c = await cache.catch(() => undefined);
        await c?.unrestrict();
        await c?.cache.stop();
      }
    },
  };
}

/** Project ids become label values and filters: only a plain, bounded alphabet. */
function validProjectId(projectId: string): void {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(projectId)) throw new AppError('E_VALIDATION', 'projectId must be 1-128 letters, digits, _ . -');
}

/** Processes of the sandbox user (uid 10001) in the container, from `docker top` (no exec needed). */
async function sandboxProcessCount(container: Container): Promise<number> {
  const top = (await container.top({ ps_args: '-o uid,pid' })) as { Processes?: string[][] };
  return (top.Processes ?? []).filter((p) => p[0] === String(SANDBOX_UID)).length;
}

/** Runs a short helper command as the sandbox user; resolves with its stdout, rejects after KILL_DEADLINE_MS. */
async function runShort(container: Container, script: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    const exec = await container.exec({ Cmd: ['/bin/sh', '-c', script], User: `${SANDBOX_UID}:${SANDBOX_GID}`, AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', resolve);
    });
    const raw = Buffer.concat(chunks);
    // Keep only stdout frames' payloads.
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= raw.length; ) {
      const len = raw.readUInt32BE(i + 4);
      if (raw[i] === 1) out.push(raw.subarray(i + 8, i + 8 + len));
      i += 8 + len;
    }
    return Buffer.concat(out).toString('utf8');
  })();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('sandbox helper command timed out')), KILL_DEADLINE_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Docker's failures as our error: the engine is down or the image is missing (with the fix), or one container failed. */
function toUnavailable(err: unknown, image: string): AppError {
  if (err instanceof AppError) return err;
  const down = diagnose(err, image);
  if (down) return sandboxUnavailableError(down, err);
  return new AppError('E_SANDBOX_UNAVAILABLE', `The sandbox failed: ${(err as { message?: string }).message ?? String(err)}`, { cause: err, retryable: true });
}
