import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { GitRemote } from './remote-url.js';

/**
 * SSH host keys: an ssh remote is trusted only when its host shows a key we know beforehand —
 * one the request pins (`hostKey`: key lines or SHA256 fingerprints) or one of the well-known
 * forges' published keys below. Nothing is trusted on first use: with no stored known_hosts
 * per user, "first use" would be every use, and a changed key (a man in the middle) would pass.
 */

/** A public host key as known_hosts holds it, without the host name. */
export interface HostKey {
  readonly type: string;
  readonly base64: string;
}

/** Published by the forges (GitHub: docs "GitHub's SSH key fingerprints"); a test checks their fingerprints. */
const WELL_KNOWN: Record<string, readonly HostKey[]> = {
  'github.com': [
    { type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' },
    { type: 'ecdsa-sha2-nistp256', base64: 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=' },
  ],
};

/** The keys a forge publishes for `host`, if it is one we ship them for. */
export function publishedHostKeys(host: string): readonly HostKey[] | undefined {
  return WELL_KNOWN[host.toLowerCase().replace(/\.$/, '')];
}

const KEY_LINE = /^(?:\S+\s+)?((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+)\s+(AAAA[A-Za-z0-9+/]+={0,3})(?:\s.*)?$/;
const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** `SHA256:…` as `ssh-keygen -lf` and ssh's own prompt show it. */
export function fingerprint(key: HostKey): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(key.base64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** What the user pinned: host key lines (`ssh-ed25519 AAAA…`, a host name before it allowed) and/or SHA256 fingerprints, one per line. */
export interface HostKeyPin {
  readonly keys: readonly HostKey[];
  readonly fingerprints: readonly string[];
}

export function parseHostKeyPin(input: string): HostKeyPin {
  const keys: HostKey[] = [];
  const fingerprints: string[] = [];
  for (const raw of input.split(/[\r\n,]+/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fp = FINGERPRINT.exec(line);
    const key = KEY_LINE.exec(line);
    if (fp) fingerprints.push(`SHA256:${fp[1]}`);
    else if (key) keys.push({ type: key[1]!, base64: key[2]! });
    else {
      throw new AppError(
        'E_VALIDATION',
        'Invalid body. hostKey: must be the git server\'s SSH host key as `ssh-keyscan` prints it ("ssh-ed25519 AAAA…") or its fingerprint ("SHA256:" and 43 characters), one per line.',
      );
    }
  }
  if (keys.length === 0 && fingerprints.length === 0) throw new AppError('E_VALIDATION', 'Invalid body. hostKey: must not be empty.');
  return { keys, fingerprints };
}

/** The keys the host shows, unauthenticated (ssh-keyscan): only to match fingerprints and to name them in a refusal. */
export function scanHostKeys(address: string, port: number, timeoutSeconds: number): Promise<HostKey[]> {
  return new Promise((resolve) => {
    execFile(
      'ssh-keyscan',
      ['-T', String(timeoutSeconds), '-p', String(port), '-t', 'ed25519,ecdsa,rsa', '--', address],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, timeout: (timeoutSeconds + 5) * 1000, maxBuffer: 1024 * 1024 },
      (_err, stdout) => {
        const keys: HostKey[] = [];
        for (const line of String(stdout ?? '').split('\n')) {
          const m = /^\S+\s+(\S+)\s+(AAAA[A-Za-z0-9+/]+={0,3})\s*$/.exec(line.trim());
          if (m) keys.push({ type: m[1]!, base64: m[2]! });
        }
        resolve(keys);
      },
    );
  });
}

const listKeys = (keys: readonly HostKey[]) => keys.map((k) => `${fingerprint(k)} (${k.type})`).join(', ');

/** The refusal when the host shows no key we trust: names what it shows, so the user can check it out of band and pin it. */
export function unknownHostKey(remote: GitRemote, shown: readonly HostKey[], pinned: boolean): AppError {
  const what = shown.length ? `it shows ${listKeys(shown)}` : 'it showed no host key';
  const why = pinned ? `${remote.host} does not show the host key given in hostKey (${what})` : `the SSH host key of ${remote.host} is not known (${what})`;
  return new AppError(
    'E_GIT_HOST_KEY',
    `${why}. Check the fingerprint with the server's operator or its documentation, then send it (or the key line ssh-keyscan prints) as hostKey.`,
    { details: { host: remote.host, port: remote.port, shown: shown.map((k) => ({ type: k.type, fingerprint: fingerprint(k) })) } },
  );
}

/**
 * The host keys ssh may accept for `remote`: the pinned key lines, the scanned keys whose
 * fingerprint was pinned, else the forge's published ones. None → E_GIT_HOST_KEY before any
 * credential is offered.
 */
export async function trustedHostKeys(remote: GitRemote, address: string, pin: HostKeyPin | undefined, timeoutSeconds: number): Promise<HostKey[]> {
  if (!pin) {
    const known = publishedHostKeys(remote.host);
    if (known) return [...known];
    throw unknownHostKey(remote, await scanHostKeys(address, remote.port, timeoutSeconds), false);
  }
  const trusted = [...pin.keys];
  if (pin.fingerprints.length > 0) {
    const shown = await scanHostKeys(address, remote.port, timeoutSeconds);
    trusted.push(...shown.filter((k) => pin.fingerprints.includes(fingerprint(k))));
    if (trusted.length === 0) throw unknownHostKey(remote, shown, true);
  }
  return trusted;
}

/** known_hosts lines under the name ssh looks keys up by (its HostKeyAlias). */
export function knownHostsFile(alias: string, keys: readonly HostKey[]): string {
  return keys.map((k) => `${alias} ${k.type} ${k.base64}\n`).join('');
}
