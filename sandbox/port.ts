import type { SandboxAvailability } from './availability.js';

/**
 * The sandbox port: where the pipeline runs a generated project's commands (npm install, npm
 * test, node scripts). One adapter implements it on the Docker engine (docker-sandbox.ts); the
 * pipeline only sees these types.
 */

/** 'none': no network at all (the default). 'registry': only the package cache on the host (sandbox/package-cache.ts). */
export type SandboxNetwork = 'none' | 'registry';

export type OutputStream = 'stdout' | 'stderr';

export interface ExecOptions {
  /** Working directory inside the container: /workspace or below (default /workspace). */
  cwd?: string;
  /** The variables the command needs, and nothing else (never an API key: secret-looking names are dropped). */
  env?: Record<string, string>;
  /**
   * The project's own variables (PUT /api/projects/:id/env), passed as they are, secret-looking
   * names included: the user stored them for the app. Only verify's test command and the preview get them.
   */
  projectEnv?: Record<string, string>;
  /** Wall-clock limit; the whole process tree is killed when it passes (default from configuration). */
  timeoutMs?: number;
  network?: SandboxNetwork;
  /** Called with each piece of output as it arrives (UTF-8, never split inside a character). */
  onOutput?: (stream: OutputStream, text: string) => void;
  /** Cancelling kills the command within 2 s; exec then rejects with E_CANCELLED. */
  signal?: AbortSignal;
}

export interface ExecResult {
  /** The command's exit status; 137 when it was killed (timeout, output cap). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The output passed the cap: reading stopped, the command was killed, stdout/stderr hold the first part. */
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface AcquireOptions {
  /** The account the project belongs to; written as a label so an operator can find its containers. */
  ownerId?: string;
}

/** One project's sandbox, held by one caller until release() or destroy(). */
export interface SandboxHandle {
  readonly projectId: string;
  /** The Docker container id (for logs and operators). */
  readonly containerId: string;
  /** Runs `command` with /bin/sh -c as uid 10001. Execs on one handle run one at a time. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Done for now: the container stays warm for the project and is reaped after the idle period. */
  release(): Promise<void>;
  /** Removes the container now (its /tmp and home go with it; the workspace stays). */
  destroy(): Promise<void>;
}

export interface SandboxPort {
  /**
   * Whether commands can run now (the engine answers and has the image), else which part is
   * missing and the fix; cached for a few seconds. Optional like evictForeign: a wrapper that
   * does not pass it on is taken as available.
   */
  availability?(): Promise<SandboxAvailability>;
  /**
   * The project's sandbox: its live container when there is one, otherwise a new one with
   * `workspaceDir` (absolute, on the host) mounted at /workspace.
   */
  acquire(projectId: string, workspaceDir: string, options?: AcquireOptions): Promise<SandboxHandle>;
  /** Starts the project's container ahead of time (e.g. when a run is queued) so acquire() is instant. */
  prewarm(projectId: string, workspaceDir: string, options?: AcquireOptions): Promise<void>;
  /**
   * Removes the project's containers that another process started: a node that died (or lost its
   * job lease) may have left a command running in one, still writing to the shared workspace.
   * A resumed run calls this before resetting the workspace, so nothing of the lost attempt can
   * write after the reset. Returns how many were removed.
   */
  evictForeign?(projectId: string): Promise<number>;
  /**
   * Removes every container of the project in this deployment's namespace, whichever node (or
   * process) started it: the project is being deleted. A command running in one is killed with
   * it; the run it belongs to (already cancelled) fails its next exec. Returns how many were removed.
   * Optional like evictForeign: a wrapper (bench/pipeline.ts) need not pass it on.
   */
  removeProject?(projectId: string): Promise<number>;
  /** Removes every container this process started, and stops the package cache. */
  close(): Promise<void>;
}
