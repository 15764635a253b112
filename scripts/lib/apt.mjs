// Debian packages the service or its tests need beside npm's: installed with apt-get when we are
// root on Debian. A package's own service is never left running: a temporary policy-rc.d keeps
// the package from starting it, and under systemd its units are disabled and masked as well (the
// service and the tests start their own instances, with their own configuration).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { capture, isRoot, run } from './run.mjs';

const POLICY_RC = '/usr/sbin/policy-rc.d';

/** Installs `packages`; false when this is not root on Debian (nothing was tried). */
export async function aptInstall(packages, { log = console.log, stoppedUnits = [] } = {}) {
  if (!isRoot() || !existsSync('/etc/debian_version')) return false;
  log(`installing ${packages.join(', ')} (apt-get)${stoppedUnits.length ? ', its service kept stopped' : ''}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // exit 101 = "action forbidden": invoke-rc.d starts no service while this file exists.
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    await run('apt-get', ['update', '-qq'], { env });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
  } finally {
    if (ownPolicy) rmSync(POLICY_RC, { force: true });
  }
  if (existsSync('/run/systemd/system')) {
    for (const unit of stoppedUnits) {
      capture('systemctl', ['disable', '--now', unit]);
      capture('systemctl', ['mask', unit]);
    }
  }
  return true;
}
