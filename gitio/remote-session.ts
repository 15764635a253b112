import { promises as dns } from 'node:dns';
import { promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../core/errors.js';
import { addressRefusal, classifyAddress, type AddressPolicy } from '../core/net/address-guard.js';
import type { GitSecret } from '../keys/git-credentials.js';
import { GitProcessError } from './git-process.js';
import { knownHostsFile, parseHostKeyPin, trustedHostKeys, type HostKey } from './host-keys.js';
import type { GitRemote } from './remote-url.js';

/** What one git command against a remote needs: options, environment and the URL to give it. */
export interface RemoteSession {
  /** `-c` options, before the subcommand. */
  readonly configArgs: readonly string[];
  readonly env: Record<string, string>;
  /** The remote's URL as git gets it (git:// is pinned to the checked address). */
  readonly url: string;
  /** A private temporary directory, removed when the session ends. */
  readonly tmp: string;
  /** ssh: the host keys this session trusts (pinned or published); empty for other transports. */
  readonly hostKeys: readonly HostKey[];
  /** `text` with the credential (and anything shaped like URL userinfo) removed: for errors and logs. */
  scrub(text: string): string;
}

/**
 * Options every remote operation gets: no hooks, no fsmonitor; objects checked on receipt (fsck:
 * a tree with `..`, `.git` or a malformed path is refused); no submodules; no redirects (a
 * redirect would reach an address nobody checked); no credential helper but ours.
 */
const HARDENED_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'transfer.fsckObjects=true',
  'submodule.recurse=false',
  'fetch.recurseSubmodules=false',
  'protocol.file.allow=never',
  'http.followRedirects=false',
  'credential.helper=',
  'core.askPass=',
];

/** Prints the user name, then the password, from the environment: the secret never touches the disk. */
const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$SAMOKODER_GIT_USERNAME" ;;
  *) printf '%s\\n' "$SAMOKODER_GIT_PASSWORD" ;;
esac
`;

/** Resolves the host and refuses it when any of its addresses is refused; returns the address git must use. */
async function checkedAddress(remote: GitRemote, policy: AddressPolicy): Promise<string> {
  let addresses: string[];
  if (isIP(remote.host)) addresses = [remote.host];
  else {
    try {
      addresses = (await dns.lookup(remote.host, { all: true })).map((a) => a.address);
    } catch {
      throw new AppError('E_GIT_REMOTE', `Could not resolve the git host ${remote.host}; check the URL.`);
    }
  }
  for (const address of addresses) {
    const why = addressRefusal(address, policy);
    if (why !== undefined) throw new AppError('E_GIT_URL', `gitUrl: refused, ${remote.host} resolves to ${address}, ${why}.`);
  }
  if (addresses.length === 0) throw new AppError('E_GIT_REMOTE', `The git host ${remote.host} resolved to no address.`);
  return addresses[0]!;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const bracket = (address: string) => (isIP(address) === 6 ? `[${address}]` : address);

/** What a remote operation may present and expect: the user's credential, and the ssh host key they pinned. */
export interface RemoteAccess {
  readonly credential?: GitSecret | undefined;
  /** SSH only: the host key line(s) or SHA256 fingerprint(s) the server must show (host-keys.ts). */
  readonly hostKey?: string | undefined;
}

/** Seconds ssh and ssh-keyscan wait for the server to answer. */
const SSH_CONNECT_TIMEOUT_SECONDS = 20;

function assertAccessFits(remote: GitRemote, { credential, hostKey }: RemoteAccess): void {
  if (hostKey !== undefined && remote.transport !== 'ssh') {
    throw new AppError('E_VALIDATION', `Invalid body. hostKey: an SSH host key applies to ssh:// or user@host:path URLs, not ${remote.transport}:// ones; leave it out.`);
  }
  if (!credential) return;
  if (credential.kind === 'token' && remote.transport !== 'https' && remote.transport !== 'http') {
    throw new AppError('E_VALIDATION', `Invalid body. credentialId: a token credential works with https:// URLs; use an ssh-key credential for ${remote.transport} URLs.`);
  }
  if (credential.kind === 'ssh-key' && remote.transport !== 'ssh') {
    throw new AppError('E_VALIDATION', 'Invalid body. credentialId: an ssh-key credential works with ssh:// or user@host:path URLs; use a token credential for https:// URLs.');
  }
}

/**
 * Runs `work` with a session for one remote: git limited to the URL's transport
 * (GIT_ALLOW_PROTOCOL: no ext::, file:// or fd:: whatever the URL says), the host's addresses
 * checked and git pinned to the checked one (curl's resolve list for http(s), ssh's HostName,
 * git:// by address) so DNS cannot answer differently when git connects, no system or user
 * config, no terminal prompt. A token reaches git through GIT_ASKPASS from the environment, an
 * SSH key through a 0600 file in the session's directory; the directory is removed afterwards,
 * whatever happens. Nothing is written to any repository's config.
 */
export async function withRemoteSession<T>(remote: GitRemote, access: RemoteAccess, policy: AddressPolicy, work: (s: RemoteSession) => Promise<T>): Promise<T> {
  assertAccessFits(remote, access);
  const { credential } = access;
  const pin = access.hostKey === undefined ? undefined : parseHostKeyPin(access.hostKey);
  const address = await checkedAddress(remote, policy);
  // Refused before any credential is offered to a host we cannot authenticate.
  const hostKeys: HostKey[] = remote.transport === 'ssh' ? await trustedHostKeys(remote, address, pin, SSH_CONNECT_TIMEOUT_SECONDS) : [];
  // Plain http carries the token readable by anyone on the path: only across the operator's own network.
  if (credential && remote.transport === 'http' && classifyAddress(address) === 'public') {
    throw new AppError('E_GIT_URL', `gitUrl: refused, a credential is sent over plain http:// only to loopback or private-network servers; use https://${remote.display.slice('http://'.length)}.`);
  }
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'samokoder-git-'));
  try {
    await fsp.chmod(tmp, 0o700);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: tmp,
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ALLOW_PROTOCOL: remote.transport,
      GIT_PROTOCOL_FROM_USER: '0',
    };
    const configArgs = HARDENED_CONFIG.flatMap((c) => ['-c', c]);
    let url = remote.url;
    if (remote.transport === 'https' || remote.transport === 'http') {
      configArgs.push('-c', `http.curloptResolve=${remote.host}:${remote.port}:${bracket(address)}`);
      if (credential) {
        const askpass = path.join(tmp, 'askpass.sh');
        await fsp.writeFile(askpass, ASKPASS, { mode: 0o700 });
        env.GIT_ASKPASS = askpass;
        env.SAMOKODER_GIT_USERNAME = credential.username ?? 'git';
        env.SAMOKODER_GIT_PASSWORD = credential.secret;
      }
    } else if (remote.transport === 'git') {
      const u = new URL(remote.url);
      u.hostname = bracket(address);
      url = u.href;
    } else {
      // GIT_SSH_COMMAND goes through a shell: every value here is an IP, a checked host name or our own path, quoted.
      const ssh = ['ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `HostName=${address}`, '-o', `HostKeyAlias=${remote.host}`, '-o', 'ProxyCommand=none', '-o', 'ProxyJump=none'];
      // Only the keys trusted above: a host showing any other key is refused (no trust on first use).
      const knownHosts = path.join(tmp, 'known_hosts');
      await fsp.writeFile(knownHosts, knownHostsFile(remote.host, hostKeys), { mode: 0o600 });
      ssh.push('-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${shellQuote(knownHosts)}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'UpdateHostKeys=no');
      ssh.push('-o', `ConnectTimeout=${SSH_CONNECT_TIMEOUT_SECONDS}`, '-o', 'IdentitiesOnly=yes');
      if (credential) {
        const keyFile = path.join(tmp, 'id');
        await fsp.writeFile(keyFile, credential.secret.endsWith('\n') ? credential.secret : `${credential.secret}\n`, { mode: 0o600 });
        ssh.push('-i', shellQuote(keyFile));
      } else ssh.push('-o', 'IdentityFile=none');
      env.GIT_SSH_COMMAND = ssh.join(' ');
      env.GIT_SSH_VARIANT = 'ssh';
    }
    const secret = credential?.secret;
    const scrub = (text: string): string => {
      let out = text.replace(/(\/\/)[^/@\s]*@/g, '$1');
      if (secret) {
        out = out.split(secret).join('***');
        for (const line of secret.split('\n').filter((l) => l.trim().length >= 8)) out = out.split(line.trim()).join('***');
      }
      return out;
    };
    return await work({ configArgs, env, url, tmp, scrub, hostKeys });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** The error a failed remote git command becomes: git's last lines, scrubbed, and what to do. */
export function remoteFailure(err: unknown, session: RemoteSession, what: string, limits: { timeoutMs: number; maxBytes?: number }): AppError {
  if (err instanceof AppError) return err;
  if (!(err instanceof GitProcessError)) return new AppError('E_GIT_REMOTE', `${what} failed.`, { cause: err });
  if (err.failure === 'timeout') return new AppError('E_GIT_REMOTE', `${what} took longer than ${Math.round(limits.timeoutMs / 1000)} s (SAMOKODER_GIT_TIMEOUT_SECONDS) and was stopped.`);
  if (err.failure === 'too-large') {
    return new AppError('E_IMPORT_TOO_LARGE', `${what} was stopped: the repository is larger than ${Math.round((limits.maxBytes ?? 0) / 1048576)} MiB (SAMOKODER_IMPORT_MAX_MB). Nothing was kept.`);
  }
  const lines = session
    .scrub(err.output)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('hint:'));
  const all = lines.join('\n');
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for .* strict checking/i.test(all)) {
    return new AppError('E_GIT_HOST_KEY', `${what} was refused before any credential was sent: the server's SSH host key is not the one given in hostKey, remembered from an earlier use or published for this host. If the server's key really changed, check its new fingerprint with its operator and send it as hostKey (it then replaces the remembered one).`);
  }
  const denied = lines.find((l) => /Permission denied \(|Authentication failed for|could not read (Username|Password)|HTTP Basic: Access denied|returned error: 40[13]/i.test(l));
  if (denied !== undefined) {
    return new AppError('E_GIT_AUTH', `${what} failed: the git server refused the credential (${denied.slice(0, 300)}). Check that the key or token is registered with the server and may read (for an import) or write (for a push) this repository, or pass the right credentialId.`);
  }
  const reason = lines.slice(-3).join(' ').slice(0, 500) || 'git exited with an error';
  return new AppError('E_GIT_REMOTE', `${what} failed: ${reason}`);
}
