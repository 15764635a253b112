// OpenSSH's server for the ssh import/push tests (test/gitio/sshd.ts starts a throwaway one per
// suite). Installed with apt-get when /usr/sbin/sshd is missing and we are root on Debian; the
// packaged service is never left running: a temporary policy-rc.d keeps the package from starting
// it, and under systemd it is disabled and masked as well.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { capture, isRoot, run } from './run.mjs';

export const SSHD = '/usr/sbin/sshd';
const POLICY_RC = '/usr/sbin/policy-rc.d';

/** sshd's path, or undefined (with a warning: the ssh tests will then fail, not skip) when it cannot be installed here. */
export async function ensureSshd({ log = console.log } = {}) {
  if (existsSync(SSHD)) return SSHD;
  if (isRoot() && existsSync('/etc/debian_version')) {
    log('installing OpenSSH server (apt-get install openssh-server), its service kept stopped…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // exit 101 = "action forbidden": invoke-rc.d starts no service while this file exists.
    const ownPolicy = !existsSync(POLICY_RC);
    if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      await run('apt-get', ['update', '-qq'], { env });
      await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'openssh-server'], { env });
    } finally {
      if (ownPolicy) rmSync(POLICY_RC, { force: true });
    }
    if (existsSync('/run/systemd/system')) {
      for (const unit of ['ssh.service', 'ssh.socket']) {
        capture('systemctl', ['disable', '--now', unit]);
        capture('systemctl', ['mask', unit]);
      }
    }
    if (existsSync(SSHD)) return SSHD;
  }
  log(`${SSHD} was not found and cannot be installed here (Debian/Ubuntu, as root: apt-get install openssh-server); the ssh import/push tests will fail.`);
  return undefined;
}
