#!/usr/bin/env node
// Build (or find) the Docker image verify's browser check loads generated web apps in.
//
//   node scripts/browser-image.mjs [--force] [--print-tag]
//     progress on stderr; the LAST line on stdout is `IMAGE samokoder-browser:<hash>`
//   import { ensureBrowserImage, browserImageTag } from './browser-image.mjs'
//
// Dependency-free (only node: built-ins), like sandbox-image.mjs, which it builds on: the image is
// the sandbox image plus Debian's `chromium` package (sandbox/image-browser/Dockerfile), installed
// by a `docker build` RUN step from Debian's mirror (reachable from the default bridge; no image
// registry needed, since the base is the locally built sandbox image). The tag is a hash of the
// sandbox image's tag and this recipe (this script + sandbox/image-browser/*), so an existing tag is
// a valid cache and is reused; earlier recipes' tags are removed.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './ensure-docker.mjs';
import { ensureSandboxImage, sandboxImageTag } from './sandbox-image.mjs';

export const BROWSER_IMAGE_REPO = 'samokoder-browser';
export const BROWSER_IMAGE_LATEST = `${BROWSER_IMAGE_REPO}:latest`;

const SCRIPT_PATH = fileURLToPath(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(SCRIPT_PATH), '..');
const RECIPE_DIR = path.join(REPO_ROOT, 'sandbox', 'image-browser');
const defaultLog = (msg) => process.stderr.write(`[browser-image] ${msg}\n`);

/** Short sha256 over the sandbox image's tag (itself a recipe hash) and this image's recipe files. */
export function browserRecipeHash(baseTag = sandboxImageTag()) {
  const h = crypto.createHash('sha256').update(baseTag).update('\0');
  const files = [SCRIPT_PATH, ...fs.readdirSync(RECIPE_DIR).sort().map((n) => path.join(RECIPE_DIR, n))];
  for (const f of files) h.update(path.relative(REPO_ROOT, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** `samokoder-browser:<recipe hash>`: the default of SAMOKODER_BROWSER_IMAGE. */
export function browserImageTag(baseTag = sandboxImageTag()) {
  return `${BROWSER_IMAGE_REPO}:${browserRecipeHash(baseTag)}`;
}

async function exists(ref) {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0;
}

/**
 * Makes sure samokoder-browser:<recipe hash> exists (building the sandbox image first when needed).
 * Returns { tag, built, seconds, chromium } (chromium: the version the verification run printed).
 */
export async function ensureBrowserImage({ log = defaultLog, force = false } = {}) {
  const t0 = Date.now();
  const base = await ensureSandboxImage({ log });
  const hash = browserRecipeHash(base.tag);
  const tag = `${BROWSER_IMAGE_REPO}:${hash}`;
  let built = false;
  if (force || !(await exists(tag))) {
    log(`building ${tag} from ${base.tag} (apt-get install chromium) ...`);
    const r = await run('docker', ['build', '-q', '--build-arg', `BASE=${base.tag}`, '--build-arg', `RECIPE=${hash}`, '-t', tag, RECIPE_DIR],
      { timeoutMs: 30 * 60_000 });
    if (r.code !== 0) throw new Error(`docker build ${tag} failed (exit ${r.code}):\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-25).join('\n')}`);
    built = true;
    await pruneOldTags(hash, log);
  }
  // :latest is SAMOKODER_BROWSER_IMAGE's default.
  await run('docker', ['tag', tag, BROWSER_IMAGE_LATEST]);
  // The image must run Chromium as the sandbox user, with no network, and hold no setuid/setgid file.
  const v = await run('docker', ['run', '--rm', '--network', 'none', tag, 'sh', '-c',
    'chromium --version; id -u; if [ -n "$(find / -xdev -perm /6000 -type f 2>/dev/null)" ]; then echo SETID-FOUND; fi']);
  const [version = '', uid = ''] = v.stdout.trim().split('\n');
  if (v.code !== 0 || !/Chromium/.test(version) || uid !== '10001' || v.stdout.includes('SETID-FOUND')) {
    throw new Error(`image ${tag} failed verification (want Chromium, uid 10001, no setuid files):\n${v.stdout}${v.stderr}`);
  }
  const seconds = Number(((Date.now() - t0) / 1000).toFixed(1));
  log(`${tag} ${built ? 'built' : 'present'}: ${version} (${seconds} s)`);
  return { tag, built, seconds, chromium: version };
}

async function pruneOldTags(hash, log) {
  const r = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', BROWSER_IMAGE_REPO]);
  for (const ref of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (ref.endsWith(`:${hash}`) || ref.endsWith(':latest') || ref.endsWith(':<none>')) continue;
    if ((await run('docker', ['rmi', ref])).code === 0) log(`removed old image ${ref}`);
  }
}

const isMain = (() => {
  try { return fs.realpathSync(process.argv[1] || '') === fs.realpathSync(SCRIPT_PATH); } catch { return false; }
})();

if (isMain) {
  const args = process.argv.slice(2);
  if (args.includes('--print-tag')) {
    process.stdout.write(`IMAGE ${browserImageTag()}\n`);
  } else {
    ensureBrowserImage({ force: args.includes('--force') }).then(
      (r) => { process.stdout.write(`IMAGE ${r.tag}\n`); },
      (e) => { process.stderr.write(`[browser-image] ERROR: ${e.message}\n`); process.exit(1); },
    );
  }
}
