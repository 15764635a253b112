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
  log('• installing npm dependencies…');
  // `npm install` (not `npm ci`): both install the versions package-lock.json pins, but `npm ci`
  // also demands lock entries for every platform's optional binaries (@swc/core-darwin-*, …),
  // which registry mirrors that carry only some platforms cannot provide. With an unchanged
  // package.json, `npm install` leaves the lock file as it is.
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root }).catch((err) => {
    throw new Error(`${err.message}. npm must reach its registry; check your network or npm config (npm config get registry).`);
  });
  writeFileSync(stamp, hash);
}

/** Compiles the service (tsc, incremental) into dist/. */
export async function build(root, log = console.log) {
  log('• compiling TypeScript…');
  await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
}
