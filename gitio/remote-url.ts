import { isIP } from 'node:net';
import { AppError } from '../core/errors.js';
import { urlRefusal, type AddressPolicy } from '../core/net/address-guard.js';

/** The transports a user's git URL may use; each is also the only one GIT_ALLOW_PROTOCOL lets git use for it. */
export type GitTransport = 'https' | 'http' | 'ssh' | 'git';

export interface GitRemote {
  /** What git is given (after the `--` that ends its options). */
  readonly url: string;
  readonly transport: GitTransport;
  /** Host name or address (no IPv6 brackets). */
  readonly host: string;
  readonly port: number;
  /** The URL as shown in logs, errors and the project's `importedFrom` (it never holds a secret: those are refused). */
  readonly display: string;
  /** The last path segment without `.git`, for a project name. */
  readonly repoName: string;
}

const DEFAULT_PORT: Record<GitTransport, number> = { https: 443, http: 80, ssh: 22, git: 9418 };

/** `[user@]host:path` (scp-like ssh), as git reads it: no slash before the first colon; the path may be absolute (`host:/srv/repo.git`). */
const SCP_LIKE = /^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([^]+)$/;

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;

const refuse = (why: string) => new AppError('E_GIT_URL', `gitUrl: refused, ${why}.`);

export function gitPolicy(allowPrivate: boolean): AddressPolicy {
  return { allowPrivate, setting: 'SAMOKODER_GIT_ALLOW_PRIVATE', privateUse: 'imports from or pushes to a git server on its own network' };
}

/**
 * Parses a git URL a user typed, refusing everything but plain https, http, ssh and git URLs to
 * hosts the address policy allows. What gets past this is only half the defence: the transport
 * runner (remote-session.ts) also limits git to the URL's one transport (GIT_ALLOW_PROTOCOL), so a
 * form git reads differently than this parser (`ext::`, `fd::`, `file://`, a local path) still
 * cannot run a command or read the server's disk, and checks what the name resolves to.
 */
export function parseGitUrl(input: string, policy: AddressPolicy): GitRemote {
  if (input.length > 2048) throw refuse('longer than 2048 characters');
  // Whitespace or control characters: a copy-paste accident or an attempt to smuggle arguments.
  if (!/^[\x21-\x7e]+$/.test(input)) throw refuse('it holds spaces, line breaks, control or non-ASCII characters');
  if (input.startsWith('-')) throw refuse('it starts with "-" (git would read it as an option)');
  // `<transport>::<address>` runs a remote helper (ext:: runs a shell command); IPv6 brackets aside, no URL needs "::".
  if (input.replace(/\[[^\]]*\]/g, '').includes('::')) throw refuse('"<transport>::" remote helpers (ext::, fd::, …) are not allowed');
  const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? parseUrlForm(input) : parseScpForm(input);
  if (remote.host.startsWith('-')) throw refuse('the host starts with "-"');
  // ssh:// and git:// hosts are "opaque" to the URL parser, which lets $ ( ) ; ` through: only DNS names and IPs pass.
  if (!isIP(remote.host) && !HOST_NAME.test(remote.host)) throw refuse(`${JSON.stringify(remote.host)} is not a host name (letters, digits, dots and dashes)`);
  const refusal = urlRefusal(new URL(`http://${isIP(remote.host) === 6 ? `[${remote.host}]` : remote.host}/`), policy);
  if (refusal !== undefined) throw refuse(refusal);
  return remote;
}

function parseUrlForm(input: string): GitRemote {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw refuse('it is not a valid URL');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh' && scheme !== 'git') {
    throw refuse(`the ${scheme}:// transport is not allowed; use https://, http://, ssh://, git:// or user@host:path`);
  }
  if (url.password) throw refuse('it holds a password or token; store it with POST /api/user/git-credentials and pass its credentialId');
  if (scheme !== 'ssh' && url.username) throw refuse('it holds a user name; store the credential with POST /api/user/git-credentials (with its username) and pass its credentialId');
  if (url.search || url.hash) throw refuse('it has a query or fragment');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw refuse('it has no host');
  const port = url.port ? Number(url.port) : DEFAULT_PORT[scheme];
  const path = decodeURIComponent(url.pathname);
  if (path === '/' || path === '') throw refuse('it names no repository path');
  return { url: url.href, transport: scheme, host, port, display: url.href, repoName: repoName(path) };
}

function parseScpForm(input: string): GitRemote {
  const m = SCP_LIKE.exec(input);
  if (!m) throw refuse('it is not an https://, http://, ssh://, git:// URL or user@host:path (local paths and file:// are not allowed)');
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  // A one-letter "host" is a Windows drive (C:\repo): git would read a local path.
  if (host.length === 1) throw refuse('it looks like a local path');
  return { url: input, transport: 'ssh', host, port: DEFAULT_PORT.ssh, display: input, repoName: repoName(m[3]!) };
}

function repoName(path: string): string {
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return last.replace(/\.git$/i, '').slice(0, 100) || 'imported';
}

/** A branch or tag name as git accepts it (git check-ref-format's rules), never an option. */
export function assertRefName(ref: string, field: string): void {
  const bad =
    ref.length === 0 ||
    ref.length > 255 ||
    ref.startsWith('-') ||
    ref.startsWith('/') ||
    ref.endsWith('/') ||
    ref.endsWith('.') ||
    ref.endsWith('.lock') ||
    ref.includes('..') ||
    ref.includes('//') ||
    ref.includes('@{') ||
    ref === '@' ||
    !/^[A-Za-z0-9._/+-]+$/.test(ref) ||
    ref.split('/').some((part) => part.startsWith('.'));
  if (bad) throw new AppError('E_VALIDATION', `Invalid body. ${field}: must be a branch or tag name like main or release/1.2 (letters, digits, . _ / + -; no "..", no leading "-" or ".")`);
}
