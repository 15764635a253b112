import os from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from '../core/logger.js';
import { APP_VALUE, INSTANCE_ID, LABEL_APP, LABEL_HOST, LABEL_INSTANCE, LABEL_NAMESPACE, LABEL_PID } from './labels.js';

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
  const host = os.hostname();
  const orphans = containers.filter((c) => {
    const labels = c.Labels ?? {};
    if (labels[LABEL_HOST] !== host) return options.allHosts === true;
    const pid = Number(labels[LABEL_PID]);
    if (pid === process.pid) return labels[LABEL_INSTANCE] !== INSTANCE_ID;
    return !Number.isInteger(pid) || pid <= 0 || !isAlive(pid);
  });
  await Promise.all(orphans.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  if (orphans.length) logger.info({ removed: orphans.length }, 'sandbox: removed containers left by an earlier process');
  return orphans.length;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
