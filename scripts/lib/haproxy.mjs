// HAProxy, the preview data plane (previews/haproxy: the service runs its own, as a child process):
// Debian's package, its own service kept stopped (apt.mjs). Without it previews are served by the
// Node preview server alone (slower; SAMOKODER_PREVIEW_DATA_PLANE).
import { existsSync } from 'node:fs';
import { aptInstall } from './apt.mjs';
import { which } from './run.mjs';

const findHaproxy = () => which('haproxy') ?? ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));

/** haproxy's path, or undefined (with a warning) when it cannot be installed here. */
export async function ensureHaproxy({ log = console.log, missing = 'previews will be served by the Node preview server alone (slower)' } = {}) {
  const found = findHaproxy();
  if (found) return found;
  if ((await aptInstall(['haproxy'], { log, stoppedUnits: ['haproxy.service'] })) && findHaproxy()) return findHaproxy();
  log(`haproxy was not found and cannot be installed here (Debian/Ubuntu, as root: apt-get install haproxy); ${missing}.`);
  return undefined;
}
