import type { Duplex } from 'node:stream';
import type { Container } from 'dockerode';
import { AppError } from '../core/errors.js';
import { CappedOutput } from './output-cap.js';
import type { ExecResult, OutputStream } from './port.js';
import { SANDBOX_WORKDIR } from './settings.js';

export interface ExecSpec {
  command: string;
  cwd: string | undefined;
  env: string[];
  /** uid:gid for the command. */
  user: string;
  timeoutMs: number;
  capBytes: number;
  onOutput: ((stream: OutputStream, text: string) => void) | undefined;
  signal: AbortSignal | undefined;
}

/** Exit status reported for a command we killed (SIGKILL), like a shell does. */
export const KILLED_EXIT_CODE = 137;
const POLL_MS = 25;

/**
 * Runs one command with `docker exec` and enforces the limits. Docker cannot kill an exec, so
 * `killTree` (the handle's) kills every process of the sandbox user in the container, restarting
 * the container when that is not enough; the caller makes sure no other exec shares it.
 *
 * Ends when the command has exited — not merely when its output closed: a command that closes
 * stdout and keeps running is polled until it exits or its timeout kills it.
 */
export async function runExec(container: Container, spec: ExecSpec, killTree: () => Promise<void>): Promise<ExecResult> {
  if (spec.signal?.aborted) throw cancelled();
  const started = performance.now();
  const cwd = spec.cwd ?? SANDBOX_WORKDIR;
  if (!cwd.startsWith('/')) throw new AppError('E_VALIDATION', 'cwd must be an absolute path inside the container');
  // umask 002: files the command creates are group-writable, so a non-root service sharing the group can modify them.
  const exec = await container.exec({
    Cmd: ['/bin/sh', '-c', `umask 002\n${spec.command}`],
    User: spec.user,
    WorkingDir: cwd,
    Env: spec.env,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const output = new CappedOutput(spec.capBytes, spec.onOutput);
  let reason: 'timeout' | 'cap' | 'cancel' | undefined;
  let killing: Promise<void> | undefined;
  const kill = (why: 'timeout' | 'cap' | 'cancel'): void => {
    reason ??= why;
    // Stop reading at once: a killed or capped command's remaining output is not wanted.
    stream.destroy();
    killing ??= killTree();
  };
  const timer = setTimeout(() => kill('timeout'), spec.timeoutMs);
  const onAbort = (): void => kill('cancel');
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  // An abort while the exec was being created and started (the awaits above) fired no listener.
  if (spec.signal?.aborted) onAbort();
  try {
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        if (!output.push(chunk)) kill('cap');
      });
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', resolve);
    });
    // The output closed; wait for the process itself (it may have closed stdout and kept running).
    let exitCode: number | null = null;
    while (!killing) {
      const info = await exec.inspect();
      if (!info.Running) {
        exitCode = info.ExitCode ?? KILLED_EXIT_CODE;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (killing) await killing;
    const { stdout, stderr } = output.finish();
    if (reason === 'cancel') throw cancelled();
    return {
      exitCode: reason ? KILLED_EXIT_CODE : (exitCode ?? KILLED_EXIT_CODE),
      stdout,
      stderr,
      truncated: output.truncated,
      timedOut: reason === 'timeout',
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}

function cancelled(): AppError {
  return new AppError('E_CANCELLED', 'The command was cancelled');
}
