/**
 * The browser-check port: verify starts a generated web app and loads it in a headless browser,
 * both in hardened containers (the Docker adapter is docker-browser.ts). The pipeline only sees
 * these types.
 */

export interface BrowserCheckRequest {
  projectId: string;
  ownerId?: string | undefined;
  /** Absolute host path of the project's workspace, mounted at /workspace like the sandbox's. */
  workspaceDir: string;
  /** The architecture's start command, run with PORT and HOST=0.0.0.0 set. */
  command: string;
  /** Cancelling removes the containers and rejects with E_CANCELLED. */
  signal?: AbortSignal | undefined;
  /** Interactions after the load (the evaluation's check of named elements and behaviour); verify sends none. */
  probe?: readonly BrowserProbeStep[] | undefined;
}

/** One interaction of a probe, on the first element a CSS selector matches; each waits a few seconds at most. */
export type BrowserProbeStep =
  | { expectVisible: string }
  | { fill: string; value: string }
  | { click: string }
  | { expectText: string; contains: string };

export interface BrowserProbeResult {
  passed: boolean;
  /** One line per step done, `ok` or `FAILED`, up to the first failure. */
  log: string[];
}

/** One problem the page showed: an uncaught error, a console error, or a same-origin request that failed. */
export interface BrowserProblem {
  kind: 'pageerror' | 'console' | 'request';
  text: string;
  /** The failing request's URL (kind 'request'), or the script's URL when the browser reports one. */
  url?: string;
}

export type BrowserCheckResult =
  /** The check could not run here (image missing, host isolation unavailable): verify passes on the tests alone, with a note. */
  | { kind: 'unavailable'; reason: string }
  /** The start command exited before it listened (exit 0: a CLI or a library, nothing to load). */
  | { kind: 'exited'; exitCode: number; output: string }
  /** Still running after the start timeout without listening on the port. */
  | { kind: 'not-listening'; output: string }
  | {
      kind: 'loaded';
      url: string;
      /** Empty when the page loaded cleanly. */
      problems: BrowserProblem[];
      /** Requests to other origins that failed: the browser's network reaches nothing but the app. */
      blockedRequests: string[];
      /** Every console message (capped), for reports and tests. */
      console: string[];
      /** PNG of the viewport after load, when taking it worked. */
      screenshot: Buffer | undefined;
      /** The app's output so far (capped). */
      output: string;
      /** The outcome of the request's probe, when it had one. */
      probe?: BrowserProbeResult;
    };

export interface BrowserCheckPort {
  check(request: BrowserCheckRequest): Promise<BrowserCheckResult>;
  /** Removes whatever checks in flight still hold (containers, networks) and the host firewall rule. */
  close(): Promise<void>;
}
