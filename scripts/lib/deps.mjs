// Installs npm dependencies when they are missing or older than package-lock.json.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './run.mjs';

export async function ensureDependencies(root, log = console.log) {
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.samokoder-lock-hash');
  const hash = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  log('• installing npm dependencies (npm ci)…');
  // `npm ci`: exactly what package-lock.json pins, and it never rewrites the lock. The lock lists
  // every platform's optional binaries (@swc/core-*, …), which `npm ci` requires; the CI check
  // scripts/lib/lockfile.mjs keeps it so.
  await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root }).catch((err) => {
    throw new Error(
      `${err.message}. npm must reach its registry (check your network or npm config get registry); ` +
        'if npm said package.json and package-lock.json are out of sync, run npm install and commit package-lock.json.',
    );
  });
  writeFileSync(stamp, hash);
}

/** Compiles the service (tsc, incremental) into dist/. */
export async function build(root, log = console.log) {
  log('• compiling TypeScript…');
  await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
}
