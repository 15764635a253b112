import { existsSync } from 'node:fs';
import type { Config } from '../core/config.js';

/** The uid/gid the image's `sandbox` user has (scripts/sandbox-image.mjs); commands never run as anything else. */
export const SANDBOX_UID = 10001;
export const SANDBOX_GID = 10001;
/** nobody: owns the container's keep-alive process, so the commands' uid cannot kill it. */
export const KEEPALIVE_UID = 65534;
export const SANDBOX_HOME = '/home/sandbox';
export const SANDBOX_WORKDIR = '/workspace';

/**
 * Operator settings of the sandbox (core/config.ts reads them from SAMOKODER_SANDBOX_*); never API
 * input. The config's fields, with sizes in bytes and the CA bundle resolved.
 */
export type SandboxSettings = Omit<Config['sandbox'], 'enabled' | 'memoryMb' | 'tmpMb' | 'caBundle'> & {
  readonly memoryBytes: number;
  readonly tmpBytes: number;
  /** A CA bundle on the host the package cache trusts for its upstream (NODE_EXTRA_CA_CERTS), or undefined. */
  readonly caBundle: string | undefined;
  /** Extra labels on every container (tests tag their runs with one). */
  readonly extraLabels?: Readonly<Record<string, string>>;
};

const MIB = 1024 * 1024;

export function sandboxSettingsFromConfig(config: Config): SandboxSettings {
  const s = config.sandbox;
  const caBundle = s.caBundle === 'none' ? undefined : s.caBundle ?? (existsSync(DEFAULT_CA_BUNDLE) ? DEFAULT_CA_BUNDLE : undefined);
  return {
    image: s.image,
    memoryBytes: s.memoryMb * MIB,
    cpus: s.cpus,
    pidsLimit: s.pidsLimit,
    nofile: s.nofile,
    tmpBytes: s.tmpMb * MIB,
    execTimeoutMs: s.execTimeoutMs,
    outputCapBytes: s.outputCapBytes,
    idleSeconds: s.idleSeconds,
    warmPoolSize: s.warmPoolSize,
    caBundle,
    egressNetwork: s.egressNetwork,
    namespace: s.namespace,
    packageCache: s.packageCache,
  };
}

/** Debian's and Ubuntu's bundle: it holds any CA the operator added with update-ca-certificates. */
export const DEFAULT_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
