import { readFileSync } from 'node:fs';
import { startServiceProcess, type ServiceProcess } from '../../test/helpers/processes.js';

export interface SoakService extends Pick<ServiceProcess, 'url' | 'child' | 'exited'> {
  pid: number;
  /** SIGTERM and wait: a graceful stop must finish in time and exit 0. */
  stop(): Promise<number | null>;
}

/**
 * The service as production runs it: `node dist/server/main.js` in its own process (so its RSS is
 * its own, and the load generator does not share its event loop), logging to a discarded stdout
 * after the "listening" line.
 */
export async function startSoakService(env: Record<string, string>, timeoutMs = 60_000): Promise<SoakService> {
  const { url, child, exited } = await startServiceProcess({ HOST: '127.0.0.1', ...env }, timeoutMs, { keepLog: false });
  return {
    url,
    pid: child.pid!,
    child,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited).code;
    },
  };
}

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS); undefined once it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
