// Small process helpers for the bootstrap scripts. Dependency-free: these run before the dependencies are installed.
import { spawn, spawnSync } from 'node:child_process';

/** Runs a command with inherited stdio; rejects with a message naming the command on failure. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...options });
    child.on('error', (err) => reject(new Error(`could not run ${cmd}: ${err.message}`)));
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

/** Runs a command and returns {status, stdout, stderr} without throwing. */
export function capture(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return { status: res.error ? -1 : res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? (res.error?.message ?? '') };
}

export function which(cmd) {
  const res = capture('sh', ['-c', `command -v ${cmd}`]);
  return res.status === 0 ? res.stdout.trim() : undefined;
}

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
