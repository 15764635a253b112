import os from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from '../core/logger.js';
import { APP_VALUE, INSTANCE_ID, LABEL_APP, LABEL_HOST, LABEL_INSTANCE, LABEL_NAMESPACE, LABEL_PID } from './labels.js';
import { isAlive } from '../core/process-alive.js';

/**
 * Start-up sweep: removes sandbox containers left by an earlier process of this service on this
 * host (it crashed, or was killed mid-exec). A container is an orphan when its owner pid is no
 * longer alive. Containers of live processes (another node on the same engine, a parallel test
 * worker) are left alone; so are containers labelled by another host, unless `allHosts`.
 */
export async function sweepOrphans(docker: Docker, logger: Logger, options: { namespace: string; allHosts?: boolean }): Promise<number> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_APP}=${APP_VALUE}`, `${LABEL_NAMESPACE}=${options.namespace}`] },
  });
  const orphans = containers.filter((c) => isOrphan(c.Labels ?? {}, options.allHosts === true));
  await Promise.all(orphans.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  if (orphans.length) logger.info({ removed: orphans.length }, 'sandbox: removed containers left by an earlier process');
  return orphans.length;
}

/**
 * The browser checks' and previews' networks (docker-browser.ts, previews/) left by a process that
 * died (mid-check, with previews or spare preview networks): the same labels and the same rule as
 * containers. Run after the container sweep (a network in use by a container cannot be removed).
 */
export async function sweepOrphanNetworks(docker: Docker, logger: Logger, options: { namespace: string; allHosts?: boolean }): Promise<number> {
  const networks = await docker.listNetworks({ filters: { label: [`${LABEL_APP}=${APP_VALUE}`, `${LABEL_NAMESPACE}=${options.namespace}`] } });
  const orphans = networks.filter((n) => isOrphan(n.Labels ?? {}, options.allHosts === true));
  await Promise.all(orphans.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
  if (orphans.length) logger.info({ removed: orphans.length }, 'sandbox: removed browser-check and preview networks left by an earlier process');
  return orphans.length;
}

/** Labelled by a process of this host that is gone (or by another host, when allHosts). */
function isOrphan(labels: Record<string, string>, allHosts: boolean): boolean {
  if (labels[LABEL_HOST] !== os.hostname()) return allHosts;
  const pid = Number(labels[LABEL_PID]);
  if (pid === process.pid) return labels[LABEL_INSTANCE] !== INSTANCE_ID;
  return !isAlive(pid);
}
