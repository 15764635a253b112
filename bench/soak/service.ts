import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from bench/soak/ (sources under Jest) or dist/bench/soak/ (compiled). */
function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
}

export interface SoakService {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process exits (code, signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait: a graceful stop must finish in time and exit 0. */
  stop(): Promise<number | null>;
}

/**
 * The service as production runs it: `node dist/server/main.js` in its own process (so its RSS is
 * its own, and the load generator does not share its event loop), logging to a discarded stdout
 * after the "listening" line.
 */
export function startSoakService(env: Record<string, string>, timeoutMs = 60_000): Promise<SoakService> {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/server/main.js')], {
    cwd: repoRoot(),
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      const m = /"msg":"samokoder listening"[^\n]*"url":"([^"]+)"|"url":"([^"]+)"[^\n]*"msg":"samokoder listening"/.exec(buffer);
      if (!m) {
        buffer = buffer.slice(-8000);
        return;
      }
      clearTimeout(timer);
      // From here on the log is only drained (a full pipe would block the service).
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({
        url: m[1] ?? m[2]!,
        pid: child.pid!,
        child,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return (await exited).code;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before listening: ${stderr}`));
    });
  });
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
