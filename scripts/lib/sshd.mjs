// OpenSSH's server for the ssh import/push tests (test/gitio/sshd.ts starts a throwaway one per
// suite); Debian's package, its own service kept stopped (apt.mjs).
import { existsSync } from 'node:fs';
import { aptInstall } from './apt.mjs';

export const SSHD = '/usr/sbin/sshd';

/** sshd's path, or undefined (with a warning: the ssh tests will then fail, not skip) when it cannot be installed here. */
export async function ensureSshd({ log = console.log } = {}) {
  if (existsSync(SSHD)) return SSHD;
  if ((await aptInstall(['openssh-server'], { log, stoppedUnits: ['ssh.service', 'ssh.socket'] })) && existsSync(SSHD)) return SSHD;
  log(`${SSHD} was not found and cannot be installed here (Debian/Ubuntu, as root: apt-get install openssh-server); the ssh import/push tests will fail.`);
  return undefined;
}
