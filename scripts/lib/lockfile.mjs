#!/usr/bin/env node
// CI check: package-lock.json is complete, i.e. `npm install` would leave it unchanged (every
// platform's optional binaries listed, every version pinned, in sync with package.json). A lock
// missing entries works on the machine that wrote it but makes `npm ci` fail elsewhere.
//
//   node scripts/lib/lockfile.mjs      (exit 0: complete; 1: it would change, and how)
//
// `npm install --package-lock-only` on a copy: it resolves against the registry (metadata only,
// no tarballs, no node_modules), so it takes seconds and never touches the working tree.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture } from './run.mjs';

/** Entries of `packages` that differ between two lock files: added, removed or changed, by path. */
export function lockDifferences(before, after) {
  const a = before.packages ?? {};
  const b = after.packages ?? {};
  const out = [];
  for (const k of Object.keys(b)) if (!(k in a)) out.push(`+ ${k || '(root)'}${b[k].version ? `@${b[k].version}` : ''}`);
  for (const k of Object.keys(a)) if (!(k in b)) out.push(`- ${k || '(root)'}${a[k].version ? `@${a[k].version}` : ''}`);
  for (const k of Object.keys(a)) if (k in b && JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push(`~ ${k || '(root)'}`);
  return out;
}

/** Throws, naming what `npm install` would change, unless package-lock.json is complete. */
export function checkLockfile(root) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'samokoder-lock-'));
  try {
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) if (existsSync(path.join(root, f))) copyFileSync(path.join(root, f), path.join(dir, f));
    const res = capture('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
    if (res.status !== 0) throw new Error(`npm install --package-lock-only failed (it must reach the registry: npm config get registry):\n${(res.stderr || res.stdout).trim()}`);
    const before = readFileSync(path.join(root, 'package-lock.json'), 'utf8');
    const after = readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
    if (before === after) return;
    const changes = lockDifferences(JSON.parse(before), JSON.parse(after));
    throw new Error(
      'package-lock.json is incomplete: `npm install` would change it' +
        (changes.length ? `:\n  ${changes.slice(0, 20).join('\n  ')}${changes.length > 20 ? `\n  … and ${changes.length - 20} more` : ''}` : ' (formatting or top-level fields)') +
        '\nRun `npm install --package-lock-only` and commit package-lock.json.',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t = Date.now();
  try {
    checkLockfile(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'));
    console.log(`package-lock.json is complete (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
