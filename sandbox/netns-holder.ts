import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { ISOLATED_BRIDGE_PREFIX } from './host-isolation.js';
import { KEEPALIVE_UID } from './settings.js';

/**
 * A network of its own for one app (a live preview): internal (no route out), its bridge named
 * skb-… so the host firewall rule keeps its containers off the host (host-isolation.ts).
 */
export const PREVIEW_NETWORK_PREFIX = 'samokoder-preview-';

/** Creates an isolated network of its own; resolves to its name. */
export async function createIsolatedNetwork(docker: Docker, labels: Record<string, string>): Promise<string> {
  const id = randomBytes(6).toString('hex').slice(0, 11);
  const name = `${PREVIEW_NETWORK_PREFIX}${id}`;
  await docker.createNetwork({
    Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: labels,
    Options: { 'com.docker.network.bridge.name': `${ISOLATED_BRIDGE_PREFIX}${id}` },
  });
  return name;
}

/** The NetworkMode of a container that joins a holder's network namespace. */
const JOINED = 'container:';

export const joinHolder = (holderId: string): string => `${JOINED}${holderId}`;

/** The holder whose network namespace a container joined (its NetworkMode), if it joined one. */
export function holderOf(networkMode: string | undefined): string | undefined {
  return networkMode?.startsWith(JOINED) ? networkMode.slice(JOINED.length) : undefined;
}

/**
 * A container that only holds a network namespace on `network` (like a Kubernetes pod's pause
 * container): the app's container joins it (NetworkMode container:<holder>) and starts without
 * Docker building a namespace, an interface and the embedded DNS for it, the slow part of a start
 * on a network of its own. It sleeps; it gets the sandbox's hardening (hardening.ts) minus what a
 * sleeping process never needs: no mount, no tmpfs, tiny limits.
 */
export function holderSpec(image: string, network: string, labels: Record<string, string>): ContainerCreateOptions {
  return {
    Image: image,
    Cmd: ['sleep', 'infinity'],
    User: `${KEEPALIVE_UID}:${KEEPALIVE_UID}`,
    // The app's host name: a container that joins another's network namespace gets its host name too.
    Hostname: 'app',
    Env: ['PATH=/usr/bin:/bin'],
    Labels: labels,
    HostConfig: {
      NetworkMode: network,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      ReadonlyRootfs: true,
      IpcMode: 'private',
      Memory: 32 * 1024 * 1024,
      MemorySwap: 32 * 1024 * 1024,
      NanoCpus: 1e8,
      PidsLimit: 8,
      Init: true,
      RestartPolicy: { Name: 'no' },
      Mounts: [],
      Binds: [],
      Devices: [],
    },
  };
}

const ignoreGone = (err: unknown): void => {
  if ((err as { statusCode?: number }).statusCode !== 404) throw err;
};

/** Removes a holder and its preview network (once nothing else is on it); either already gone is fine. */
export async function removeHolder(docker: Docker, holderId: string): Promise<void> {
  const holder = docker.getContainer(holderId);
  const networks = await holder.inspect().then((i) => Object.keys(i.NetworkSettings.Networks), () => []);
  await holder.remove({ force: true }).catch(async (err: unknown) => {
    // Another remover got there first (the manager's stop after the app's exit, a project delete): it is gone once that ends.
    if ((err as { statusCode?: number }).statusCode === 409) await holder.wait({ condition: 'removed' }).catch(() => undefined);
    else ignoreGone(err);
  });
  await Promise.all(networks.filter((n) => n.startsWith(PREVIEW_NETWORK_PREFIX)).map((n) => docker.getNetwork(n).remove().catch(ignoreGone)));
}
