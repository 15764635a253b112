import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/ports.js';

const exec = promisify(execFile);

const SSHD = '/usr/sbin/sshd';

/** A key pair made by ssh-keygen: the private key as OpenSSH writes it, and the public line. */
export interface KeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface Sshd {
  /** The user git logs in as (root: sshd runs as root here, so it can switch to no one else without a new account). */
  readonly user: string;
  readonly port: number;
  /** The host key line the server shows now (`ssh-ed25519 AAAA…`), and its SHA256 fingerprint. */
  readonly hostKey: string;
  readonly hostFingerprint: string;
  /** A client key pair in authorized_keys. */
  readonly client: KeyPair;
  /** With `scpPort22`: an address of 127.0.0.0/8 whose port 22 it also listens on, for scp-like URLs (they cannot name a port); undefined when that failed. */
  readonly scpHost: string | undefined;
  /** sshd's log (LogLevel DEBUG1, `-e`): what each connection reached. */
  readonly log: string[];
  /** A new key pair, not authorized. */
  keyPair(name: string): Promise<KeyPair>;
  /** Restarts the server with a new host key on the same port (what a man in the middle, or a reinstall, looks like). */
  rotateHostKey(): Promise<void>;
  stop(): Promise<void>;
}


/**
 * A throwaway OpenSSH server as a child process (`sshd -D -e`): its own host key, config,
 * authorized_keys and pid file in a temporary directory, listening on loopback only, public-key
 * login only. `npm test` installs openssh-server (scripts/lib/sshd.mjs); without it this throws,
 * so the ssh tests fail instead of skipping.
 */
export async function startSshd(options: { scpPort22?: boolean } = {}): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (npm test does it on Debian as root; see docs/testing.md)`);
  if (process.getuid?.() !== 0) throw new Error('the sshd fixture runs sshd as root (public-key login as root); run the ssh tests as root');
  // sshd's privilege separation needs this directory (the packaged service creates it when it starts; ours never does).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-sshd-'));
  const keygen = async (file: string, comment: string) => {
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
    return { privateKey: await readFile(file, 'utf8'), publicKey: (await readFile(`${file}.pub`, 'utf8')).trim() };
  };
  let keyCount = 0;
  const keyPair = (name: string) => keygen(path.join(dir, `client-${name}-${++keyCount}`), name);
  const client = await keyPair('authorized');
  await writeFile(path.join(dir, 'authorized_keys'), `${client.publicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const log: string[] = [];
  let hostKey = '';
  let hostFingerprint = '';
  let child: ChildProcess | undefined;
  let scpHost: string | undefined;
  // A random loopback address: suites running at once each get their own port 22.
  const byte = () => 1 + Math.floor(Math.random() * 254);
  const scpAddress = options.scpPort22 ? `127.${byte()}.${byte()}.${byte()}` : undefined;

  const start = async () => {
    const hostKeyFile = path.join(dir, `host-${Date.now()}`);
    hostKey = (await keygen(hostKeyFile, 'host')).publicKey.split(' ').slice(0, 2).join(' ');
    hostFingerprint = (await exec('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKeyFile}.pub`])).stdout.split(' ')[1]!;
    const config = [
      `ListenAddress 127.0.0.1:${port}`,
      ...(scpAddress ? [`ListenAddress ${scpAddress}:22`] : []),
      `HostKey ${hostKeyFile}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PermitTunnel no',
      'PrintMotd no',
      'LogLevel DEBUG1',
    ].join('\n');
    const configFile = path.join(dir, 'sshd_config');
    await writeFile(configFile, `${config}\n`, { mode: 0o600 });
    const proc = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let pending = '';
    const ready = new Promise<void>((resolve, reject) => {
      proc.stderr!.on('data', (d: Buffer) => {
        pending += d.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop()!;
        log.push(...lines);
        if (lines.some((l) => l.includes(`Server listening on 127.0.0.1 port ${port}`))) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`sshd exited (${code}) before listening:\n${log.join('\n')}`)));
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await ready.finally(() => clearTimeout(timer));
    scpHost = scpAddress && log.some((l) => l.includes(`Server listening on ${scpAddress} port 22`)) ? scpAddress : undefined;
  };

  const stopChild = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };

  await start();
  return {
    user: 'root',
    port,
    get hostKey() {
      return hostKey;
    },
    get hostFingerprint() {
      return hostFingerprint;
    },
    client,
    get scpHost() {
      return scpHost;
    },
    log,
    keyPair,
    async rotateHostKey() {
      await stopChild();
      await start();
    },
    async stop() {
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
