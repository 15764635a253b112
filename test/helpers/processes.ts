import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from test/helpers/ (sources under Jest) or dist/test/helpers/ (compiled into a bench). */
export const ROOT = ((here) => (here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..')))(
  path.dirname(fileURLToPath(import.meta.url)),
);
export const MAIN = path.join(ROOT, 'dist/server/main.js');

/** Child processes run the compiled service; `npm test` builds it first, a bare `npm run jest` here. */
export function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (res.status !== 0) throw new Error('could not build dist/ for the process tests');
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Parsed JSON log lines so far. */
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Calls `onLine` with each JSON log line written to `stream`; other lines (a TTY banner) are
 * skipped. Returns the 'data' listener, to detach it.
 */
export function onJsonLines(stream: Readable, onLine: (line: Record<string, unknown>) => void): (chunk: Buffer) => void {
  let buffer = '';
  const listener = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (parsed && typeof parsed === 'object') onLine(parsed as Record<string, unknown>);
    }
  };
  stream.on('data', listener);
  return listener;
}

/**
 * Starts `node dist/server/main.js` with the given environment; resolves once it listens. The
 * default bound rules out a hang only: on embedded PGlite a start runs initdb on disk, which takes
 * 25 s at load 12. With
 * `keepLog: false` (a long-lived process, e.g. the soak) the log is only drained after the
 * listening line (`lines` stops there) and only the tail of stderr is kept.
 */
export function startServiceProcess(env: Record<string, string>, timeoutMs = 120_000, o: { keepLog?: boolean } = {}): Promise<ServiceProcess> {
  const keepLog = o.keepLog ?? true;
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', SAMOKODER_WORKSPACE_QUOTA: 'reactive', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const onData = onJsonLines(child.stdout!, (parsed) => {
      lines.push(parsed);
      if (parsed.msg !== 'samokoder listening') return;
      clearTimeout(timer);
      resolve({ child, url: String(parsed.url), lines, exited });
      if (!keepLog) {
        // From here on the log is only drained (a full pipe would block the service).
        child.stdout!.off('data', onData);
        child.stdout!.resume();
      }
    });
    child.stderr!.on('data', (c: Buffer) => (stderr = keepLog ? stderr + c.toString('utf8') : (stderr + c.toString('utf8')).slice(-4000)));
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before listening: ${stderr}`));
    });
  });
}
