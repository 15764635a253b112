/**
 * The pull-through package cache: the only thing a 'registry' command (an install) can reach.
 * It listens on the sandbox network's gateway in plain HTTP; it alone talks to the upstream
 * registry (HTTPS). Read-only to sandboxes: it serves packuments and tarballs, refuses publish,
 * unpublish, dist-tag changes and user registration. npm checks every tarball against the
 * packument's `dist.integrity`, which the cache passes on from the upstream unchanged.
 *
 * The port is ecosystem-neutral so a PyPI proxy can sit beside the npm one: another adapter
 * returning a PackageCache whose clientEnv sets PIP_INDEX_URL, on a port of its own that the
 * host firewall rule opens too (docs/architecture.md, "Package cache").
 */
export interface PackageCache {
  /** http://<gateway>:<port>/, as sandboxes reach it. */
  readonly url: string;
  readonly port: number;
  /** The variables that point a sandboxed command's package clients at the cache. */
  readonly clientEnv: Readonly<Record<string, string>>;
  /** False once the cache's process has exited; the next 'registry' command starts another. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * npm (and pnpm, yarn 1, which read the same variables) install from the cache only. Lockfiles
 * record no registry URL, so an exported project's package-lock.json does not point at the
 * cache's private address; and a lockfile that names another registry is fetched through the
 * cache anyway (replace-registry-host=always), since nothing else is reachable.
 */
export function npmClientEnv(url: string): Record<string, string> {
  return {
    npm_config_registry: url,
    npm_config_replace_registry_host: 'always',
    npm_config_omit_lockfile_registry_resolved: 'true',
  };
}

/** A cache someone else runs on the gateway (the compose file's package-cache service): used, never stopped. */
export function externalPackageCache(url: string): PackageCache {
  const parsed = new URL(url);
  return {
    url: parsed.href,
    port: Number(parsed.port || 80),
    clientEnv: npmClientEnv(parsed.href),
    alive: () => true,
    stop: async () => undefined,
  };
}
