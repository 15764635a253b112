import type { SandboxNetwork } from './port.js';
import { CA_BUNDLE_PATH } from './settings.js';

/**
 * Names that look like credentials. The caller passes an explicit environment (never the
 * service's process.env); this drops anything credential-looking from it anyway, so a careless
 * caller cannot hand a model-provider key to generated code.
 */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSW(OR)?D|CREDENTIAL|AUTH|COOKIE|SESSION|DATABASE_URL)/i;

export interface ExecEnvInput {
  callerEnv: Readonly<Record<string, string>> | undefined;
  /** The project's variables: not filtered by name (their purpose is to reach the app), set before ours so ours win. */
  projectEnv?: Readonly<Record<string, string>> | undefined;
  network: SandboxNetwork;
  /** http://gateway:port of the egress proxy, for 'registry' commands. */
  proxyUrl: string | undefined;
  hasCaBundle: boolean;
}

/** The exec's environment as Docker wants it (`NAME=value`), plus the names that were dropped (for the log). */
export function execEnv(input: ExecEnvInput): { env: string[]; dropped: string[] } {
  const env: string[] = [];
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(input.projectEnv ?? {})) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) env.push(`${name}=${value}`);
  }
  for (const [name, value] of Object.entries(input.callerEnv ?? {})) {
    if (SECRET_NAME.test(name) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) dropped.push(name);
    else env.push(`${name}=${value}`);
  }
  if (input.hasCaBundle) env.push(`NODE_EXTRA_CA_CERTS=${CA_BUNDLE_PATH}`);
  if (input.network === 'registry' && input.proxyUrl) {
    // Both spellings: npm reads npm_config_*, node tooling and curl read the *_PROXY ones.
    for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'npm_config_proxy', 'npm_config_https_proxy']) {
      env.push(`${name}=${input.proxyUrl}`);
    }
  }
  return { env, dropped };
}
