import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** jwt_verify, which checks the session cookie, came with HAProxy 2.5. */
const MIN_VERSION: [number, number] = [2, 5];

/** An executable `haproxy` of version 2.5 or later: its path, or why there is none. */
export async function findHaproxy(env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; version: string } | { missing: string }> {
  // Debian installs it in /usr/sbin, which a non-root PATH often lacks.
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  const found = dirs.map((d) => path.join(d, 'haproxy')).find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) return { missing: 'no haproxy executable on PATH or in /usr/sbin' };
  const { stdout } = await run(found, ['-v']).catch(() => ({ stdout: '' }));
  const m = /version (\d+)\.(\d+)(\.\d+)?/.exec(stdout);
  if (!m) return { missing: `${found} -v did not print a version` };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const version = `${m[1]}.${m[2]}${m[3] ?? ''}`;
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) return { missing: `${found} is HAProxy ${version}; 2.5 or later is needed (jwt_verify)` };
  return { path: found, version };
}
