import type { SandboxNetwork } from '../../sandbox/port.js';

/**
 * A package manager's install, and nothing else: `npm install|i|ci|add …`, `pnpm install|i|add …`,
 * `yarn [install|add …]`, one command with plain arguments (package specs, flags). Shell operators,
 * substitutions and redirections disqualify it, so `npm install && curl …` stays offline: only the
 * install itself gets the registry network (which reaches the package cache and nothing else).
 */
const INSTALL = /^(?:npm\s+(?:install|i|ci|add)|pnpm\s+(?:install|i|add)|yarn(?:\s+(?:install|add))?)(?:\s+[\w@./:^~=+-]+)*$/;

export function isPackageInstall(command: string): boolean {
  return INSTALL.test(command.trim());
}

/** The network an agent's run_command gets: the registry for installs, none for everything else. */
export const networkForAgentCommand = (command: string): SandboxNetwork => (isPackageInstall(command) ? 'registry' : 'none');
