import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export interface GitCall {
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly stdin?: string;
  /** Killed when this directory grows past maxBytes (a clone's received data). */
  readonly watch?: { readonly dir: string; readonly maxBytes: number };
}

export type GitFailure = 'timeout' | 'too-large' | 'exit';

/** A git process that failed; `output` is its stderr tail, not yet scrubbed of secrets (the caller knows them). */
export class GitProcessError extends Error {
  constructor(
    readonly failure: GitFailure,
    readonly output: string,
    readonly stdout: string,
  ) {
    super(`git ${failure}`);
    this.name = 'GitProcessError';
  }
}

const OUTPUT_CAP = 64 * 1024;
const WATCH_INTERVAL_MS = 250;

/** Bytes under `dir` (files only, symlinks not followed). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await directoryBytes(p);
    else if (e.isFile()) total += (await fsp.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Runs one git command that talks to a remote. It runs in its own process group, so a timeout or
 * a size cap kills git and its helpers (git-remote-https, ssh, index-pack) together. Direct spawn,
 * not the workspace git host: these are a few long commands, not many short ones.
 */
export function runGit(call: GitCall): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', call.args, { cwd: call.cwd, env: call.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let failure: GitFailure | undefined;
    const kill = (why: GitFailure) => {
      failure ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < OUTPUT_CAP) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-OUTPUT_CAP);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(call.stdin ?? '');
    const timer = setTimeout(() => kill('timeout'), call.timeoutMs);
    let watching = false;
    const watcher = call.watch
      ? setInterval(() => {
          if (watching) return;
          watching = true;
          void directoryBytes(call.watch!.dir)
            .then((bytes) => {
              if (bytes > call.watch!.maxBytes) kill('too-large');
            })
            .finally(() => (watching = false));
        }, WATCH_INTERVAL_MS)
      : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      clearInterval(watcher);
      reject(new GitProcessError('exit', err.message, ''));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(watcher);
      if (failure) reject(new GitProcessError(failure, stderr, stdout));
      else if (code !== 0) reject(new GitProcessError('exit', stderr, stdout));
      else resolve({ stdout, stderr });
    });
  });
}
