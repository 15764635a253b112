/**
 * The preview runtime port: where a project's app runs while it is previewed. The Docker adapter
 * is docker-runtime.ts; the manager only sees these types.
 */

export interface PreviewStartRequest {
  projectId: string;
  ownerId: string;
  /** Absolute host path of the workspace, mounted at /workspace like the sandbox's. */
  workspaceDir: string;
  /** The architecture's start command, run with PORT and HOST=0.0.0.0. */
  command: string;
  /** The project's variables (PUT …/env). */
  projectEnv: Record<string, string>;
  /** Each piece of the app's output as it comes (until stop). */
  onOutput?: (text: string) => void;
  /** Called once when the app's container ends by itself (not by stop()). */
  onExit?: () => void;
}

export type PreviewStartResult =
  | {
      kind: 'listening';
      containerId: string;
      /** The engine it runs on (DOCKER_HOST, or this host's name for the local socket). */
      dockerHost: string;
      /** host:port the proxy connects to. */
      upstream: string;
    }
  /** The start command exited before it listened, or never listened in time (exitCode null); the container is gone. */
  | { kind: 'failed'; exitCode: number | null; output: string };

export interface PreviewRuntime {
  start(request: PreviewStartRequest): Promise<PreviewStartResult>;
  /** Removes the container (and its network); a container already gone is fine. */
  stop(containerId: string): Promise<void>;
  /** Whether the container still runs (a node that died took its previews along). */
  isRunning(containerId: string): Promise<boolean>;
  /** The end of the app's output so far ('' when the container is gone). */
  output(containerId: string): Promise<string>;
  /** Makes ready in the background what the next start needs (a spare network); a preview is likely soon. */
  prepare(): void;
  /** Removes every preview container this process started. */
  close(): Promise<void>;
}
