import type { SandboxNetwork } from './port.js';

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
  /** The package cache's client variables (npm_config_registry...), for 'registry' commands. */
  cacheEnv: Readonly<Record<string, string>> | undefined;
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
  if (input.network === 'registry' && input.cacheEnv) {
    // Last, so a caller's npm_config_registry cannot point npm elsewhere (nothing else is reachable anyway).
    for (const [name, value] of Object.entries(input.cacheEnv)) env.push(`${name}=${value}`);
  }
  return { env, dropped };
}
