#!/usr/bin/env node
// Make sure a Docker engine answers on this machine.
//
//   node scripts/ensure-docker.mjs          (CLI; exit 0 when `docker info` works)
//   import { ensureDocker } from './ensure-docker.mjs'; await ensureDocker({ log })
//
// Dependency-free on purpose (only node: built-ins): it runs before `npm install`.
//
// Order of attempts:
//   1. `docker info` already works (DOCKER_HOST / docker context honoured) -> done (fast no-op).
//   2. A dockerd process already exists (e.g. a concurrent call started it) -> wait for it.
//   3. Root on Debian: `apt-get install docker.io` if dockerd is missing, then start dockerd
//      (systemctl when systemd is PID 1, otherwise detached by hand) and wait up to 60 s.
//   4. Anything else: fail with a message that says exactly what to install and run.
//
// dockerd flags. On the machines this project runs on (Firecracker VM, kernel 6.x, ext4 root,
// cgroup v1 hybrid, no systemd, iptables-nft from Debian's `iptables` package) the Debian
// dockerd 20.10 starts with NO extra flags: storage driver overlay2 on extfs (d_type ok,
// native diff), iptables/NAT set up fine via the nft backend, seccomp default profile active,
// cgroupfs driver. So the first attempt passes no flags and we keep the daemon's defaults.
// Only if that attempt dies do we read its log and retry with targeted fallbacks:
//   - iptables / nf_tables / NAT errors (kernel without netfilter modules, nested containers):
//       --iptables=false  -> the bridge still exists, containers just get no NAT. The sandbox
//       runs commands with --network none anyway, so nothing is lost for it.
//   - overlay / storage-driver errors (e.g. /var/lib/docker itself on overlayfs when nested,
//       or a kernel without overlay): --storage-driver=vfs -> slow and disk-hungry but works
//       everywhere.
// `--log-level=warn` keeps the log file small; it changes nothing else.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOCKERD_LOG = process.getuid?.() === 0 ? '/var/log/samokoder-dockerd.log' : '/tmp/samokoder-dockerd.log';
const WAIT_MS = 60_000;
const BASE_FLAGS = ['--log-level=warn'];

const defaultLog = (msg) => process.stderr.write(`[ensure-docker] ${msg}\n`);

/** Run a command, capture output. Never throws; {code, stdout, stderr, error}. */
export function run(cmd, args, { timeoutMs = 0, env = process.env, input } = {}) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({ code: -1, stdout: '', stderr: String(error), error });
      return;
    }
    let stdout = '';
    let stderr = '';
    let timer;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    if (input !== undefined) child.stdin.end(input);
    if (timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); resolve({ code: -1, stdout, stderr: stderr || String(error), error }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), signal, stdout, stderr });
    });
  });
}

function which(name) {
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); if (fs.statSync(p).isFile()) return p; } catch { /* next */ }
  }
  // root's tools live in sbin, which a non-login PATH may lack
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    const p = path.join(dir, name);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

/** `docker info` answers? Returns server version string or null (plus the error text). */
export async function dockerAnswers({ timeoutMs = 15_000 } = {}) {
  if (!which('docker')) return { ok: false, error: 'docker CLI not found on PATH' };
  const r = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs });
  const version = r.stdout.trim();
  if (r.code === 0 && version && !version.startsWith('<no value>')) return { ok: true, version };
  return { ok: false, error: (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ') };
}

function isDebian() {
  try {
    if (fs.existsSync('/etc/debian_version')) return true;
    const osr = fs.readFileSync('/etc/os-release', 'utf8');
    return /^ID(_LIKE)?=.*\bdebian\b/m.test(osr);
  } catch { return false; }
}

function systemdIsInit() {
  return fs.existsSync('/run/systemd/system');
}

/**
 * pids of live processes whose comm is `name` (reads /proc; Linux only). Zombies and dying
 * processes are skipped: a SIGKILLed dockerd lingers as a zombie until PID 1 reaps it, and
 * PID 1 on these VMs is not a quick reaper.
 */
function pidsOf(name) {
  const out = [];
  let entries = [];
  try { entries = fs.readdirSync('/proc'); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (comm === name && state !== 'Z' && state !== 'X' && state !== 'x') out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

function localSocketFromDockerHost() {
  const h = process.env.DOCKER_HOST;
  if (!h) return { local: true, hostFlag: null };
  if (h.startsWith('unix://')) {
    const sock = h.slice('unix://'.length);
    return { local: true, hostFlag: sock === '/var/run/docker.sock' || sock === '/run/docker.sock' ? null : h };
  }
  return { local: false, hostFlag: null };
}

function installHint() {
  return [
    'A Docker engine is required (the sandbox runs generated apps\' commands in containers).',
    'Install and start one, then re-run `node scripts/ensure-docker.mjs`:',
    '  Debian/Ubuntu (as root): apt-get update && apt-get install -y docker.io && (systemctl start docker || (setsid dockerd >/var/log/samokoder-dockerd.log 2>&1 &))',
    '  Debian/Ubuntu, non-root: sudo node scripts/ensure-docker.mjs   (then: sudo usermod -aG docker $USER, and log in again)',
    '  Other Linux: install Docker Engine from your distribution and `systemctl start docker`',
    '  macOS/Windows: install and start Docker Desktop (or colima: `colima start`)',
    '  Or point DOCKER_HOST at a reachable engine.',
  ].join('\n');
}

function tailOfFile(file, maxLines = 15) {
  try {
    const txt = fs.readFileSync(file, 'utf8');
    return txt.trimEnd().split('\n').slice(-maxLines).join('\n');
  } catch { return ''; }
}

async function aptInstallDockerIo(log) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const t0 = Date.now();
  log('dockerd not found: apt-get update && apt-get install docker.io ...');
  const upd = await run('apt-get', ['-qq', '-o', 'DPkg::Lock::Timeout=120', 'update'], { env });
  if (upd.code !== 0) throw new Error(`apt-get update failed:\n${(upd.stderr || upd.stdout).trim()}`);
  // --no-install-recommends: skips apparmor, needrestart (interactive), git, xz-utils etc.
  const inst = await run('apt-get', ['-y', '-qq', '-o', 'DPkg::Lock::Timeout=120', '--no-install-recommends', 'install', 'docker.io'], { env });
  if (inst.code !== 0) throw new Error(`apt-get install docker.io failed:\n${(inst.stderr || inst.stdout).trim().split('\n').slice(-20).join('\n')}`);
  log(`installed docker.io in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Wait until `docker info` answers, or the watched child exits (or, with watchExisting, no
 * live dockerd is left), or the deadline passes.
 */
async function waitForEngine({ deadline, child, watchExisting = false }) {
  let exited = null;
  if (child) child.on('exit', (code, signal) => { exited = { code, signal }; });
  let last = null;
  while (Date.now() < deadline) {
    last = await dockerAnswers({ timeoutMs: 5_000 });
    if (last.ok) return { ok: true, version: last.version };
    if (exited) return { ok: false, exited, error: last.error };
    if (watchExisting && pidsOf('dockerd').length === 0) return { ok: false, gone: true, error: last.error };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ok: false, timeout: true, error: last?.error };
}

/**
 * dockerd refuses to start while its pidfile names a process that exists, and a zombie
 * counts (see pidsOf). After a SIGKILL (e.g. the session that started it was ended) the
 * zombie dockerd/containerd can linger, so drop pidfiles that name no live daemon.
 */
function clearStalePidfiles(log) {
  for (const [file, name] of [['/var/run/docker.pid', 'dockerd'], ['/var/run/docker/containerd/containerd.pid', 'containerd']]) {
    let pid = 0;
    try { pid = Number(fs.readFileSync(file, 'utf8').trim()); } catch { continue; }
    if (!pidsOf(name).includes(pid)) {
      try { fs.unlinkSync(file); log(`removed stale ${file} (pid ${pid} is not a live ${name})`); } catch { /* raced */ }
    }
  }
}

function startDockerdDetached(flags, log) {
  clearStalePidfiles(log);
  fs.mkdirSync(path.dirname(DOCKERD_LOG), { recursive: true });
  fs.appendFileSync(DOCKERD_LOG, `\n=== ${new Date().toISOString()} samokoder ensure-docker: dockerd ${flags.join(' ')}\n`);
  const fd = fs.openSync(DOCKERD_LOG, 'a');
  // detached: true => setsid(): own session, no controlling terminal, so no SIGHUP when the
  // calling shell/npm exits (what nohup would give us), and unref() lets node exit first.
  const env = { ...process.env };
  // dockerd needs sbin tools (iptables, modprobe...) even if the caller's PATH lacks them
  env.PATH = `${env.PATH || ''}:/usr/local/sbin:/usr/sbin:/sbin`;
  const child = spawn(which('dockerd') || 'dockerd', flags, { detached: true, stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  child.unref();
  log(`started dockerd (pid ${child.pid}) ${flags.join(' ')}; log: ${DOCKERD_LOG}`);
  return child;
}

function fallbackFlagsFor(logTail, flags) {
  const extra = [];
  if (/iptables|ip6tables|nf_tables|xtables|NAT chain|ip_tables|netfilter/i.test(logTail) && !flags.includes('--iptables=false')) {
    extra.push('--iptables=false');
  }
  if (/overlay|storage.driver|driver not supported|backing filesystem|d_type/i.test(logTail) && !flags.some((f) => f.startsWith('--storage-driver'))) {
    extra.push('--storage-driver=vfs');
  }
  return extra;
}

/**
 * Ensure `docker info` works. Returns
 * { ok: true, version, alreadyRunning, installed, started, flags, seconds }.
 * Throws Error with an actionable message otherwise.
 */
export async function ensureDocker({ log = defaultLog, waitMs = WAIT_MS } = {}) {
  const t0 = Date.now();
  const secs = () => Number(((Date.now() - t0) / 1000).toFixed(1));
  const result = { ok: true, version: null, alreadyRunning: false, installed: false, started: false, flags: null, seconds: 0 };

  const first = await dockerAnswers();
  if (first.ok) {
    log(`docker engine ${first.version} answers`);
    return { ...result, version: first.version, alreadyRunning: true, seconds: secs() };
  }

  if (/permission denied/i.test(first.error || '')) {
    throw new Error(`A Docker engine runs but this user may not use its socket (${first.error}).\n` +
      'Add the user to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run as root.');
  }

  const { local, hostFlag } = localSocketFromDockerHost();
  if (!local) {
    throw new Error(`DOCKER_HOST=${process.env.DOCKER_HOST} does not answer (${first.error}). ` +
      'It points at a remote engine, which this script cannot start. Start that engine or unset DOCKER_HOST.');
  }

  // A dockerd that is already starting (e.g. a concurrent ensureDocker) — just wait for it.
  if (pidsOf('dockerd').length > 0) {
    log(`dockerd is running (pid ${pidsOf('dockerd').join(',')}) but not answering yet; waiting ...`);
    const w = await waitForEngine({ deadline: Date.now() + waitMs, watchExisting: true });
    if (w.ok) {
      log(`docker engine ${w.version} answers (${secs()} s)`);
      return { ...result, version: w.version, alreadyRunning: true, seconds: secs() };
    }
    if (w.gone) log('that dockerd exited without answering; starting a new one');
    else throw new Error(`dockerd is running but \`docker info\` still fails after ${waitMs / 1000} s: ${w.error}\n` +
      `dockerd log (${DOCKERD_LOG}):\n${tailOfFile(DOCKERD_LOG)}`);
  }

  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !isDebian() || process.platform !== 'linux') {
    throw new Error(`No Docker engine answers (${first.error}).\n${installHint()}`);
  }

  if (!which('dockerd')) {
    await aptInstallDockerIo(log);
    result.installed = true;
  }
  if (!which('docker')) {
    throw new Error('dockerd is installed but the docker CLI is missing (expected /usr/bin/docker from docker.io).');
  }

  // Normal Debian host with systemd: let the service manager own the daemon.
  if (systemdIsInit() && !hostFlag) {
    log('systemd is init: systemctl start docker ...');
    const r = await run('systemctl', ['start', 'docker']);
    if (r.code === 0) {
      const w = await waitForEngine({ deadline: Date.now() + waitMs });
      if (w.ok) {
        log(`docker engine ${w.version} answers (${secs()} s)`);
        return { ...result, version: w.version, started: true, flags: ['systemd'], seconds: secs() };
      }
    }
    log(`systemctl start docker did not work (${(r.stderr || '').trim() || 'engine not answering'}); starting dockerd by hand`);
  }

  let flags = [...BASE_FLAGS];
  if (hostFlag) flags.push('-H', hostFlag);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const logStart = (() => { try { return fs.statSync(DOCKERD_LOG).size; } catch { return 0; } })();
    const child = startDockerdDetached(flags, log);
    const w = await waitForEngine({ deadline: Date.now() + waitMs, child });
    if (w.ok) {
      log(`docker engine ${w.version} answers (${secs()} s total)`);
      return { ...result, version: w.version, started: true, flags, seconds: secs() };
    }
    // Failed: collect what this attempt logged, kill it if still alive, maybe retry with fallbacks.
    let logTail = '';
    try { logTail = fs.readFileSync(DOCKERD_LOG, 'utf8').slice(logStart); } catch { /* none */ }
    if (!w.exited) { try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ } await new Promise((r) => setTimeout(r, 3000)); }
    const extra = fallbackFlagsFor(logTail, flags);
    if (extra.length === 0 || attempt === 3) {
      throw new Error(`dockerd did not come up (${w.timeout ? `no answer after ${waitMs / 1000} s` : `exited ${JSON.stringify(w.exited)}`}).\n` +
        `Last dockerd log lines (${DOCKERD_LOG}):\n${logTail.trimEnd().split('\n').slice(-15).join('\n')}\n${installHint()}`);
    }
    log(`dockerd failed; retrying with ${extra.join(' ')} (see ${DOCKERD_LOG})`);
    flags = [...flags, ...extra];
  }
  throw new Error('unreachable');
}

const isMain = (() => {
  try { return fs.realpathSync(process.argv[1] || '') === fs.realpathSync(fileURLToPath(import.meta.url)); } catch { return false; }
})();

if (isMain) {
  ensureDocker().then(
    (r) => { process.stderr.write(`[ensure-docker] ok in ${r.seconds} s${r.installed ? ' (installed docker.io)' : ''}${r.started ? ' (started dockerd)' : ''}\n`); },
    (e) => { process.stderr.write(`[ensure-docker] ERROR: ${e.message}\n`); process.exit(1); },
  );
}
