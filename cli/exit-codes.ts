/** The CLI's exit codes (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** Anything else: the service failed, the network, a provider error, a bug. */
  OTHER: 1,
  /** Bad input: an unknown command or flag, a missing argument or environment variable, a request the API refused as invalid. */
  BAD_INPUT: 2,
  /** A plan limit was reached (projects, monthly tokens or sandbox seconds, concurrent runs) or the run's token or time budget was spent. */
  LIMIT: 3,
  /** The generated project's tests still failed after the fix rounds (the ZIP is written anyway). */
  VERIFY_FAILED: 4,
  /** The run was cancelled (Ctrl-C, or from another client). */
  CANCELLED: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports in one line and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.OTHER,
  ) {
    super(message);
  }
}

/** The exit code for a run that ended with this status and reason. */
export function exitCodeForRun(status: string, reason: string | null | undefined): ExitCode {
  if (status === 'succeeded') return EXIT.OK;
  if (status === 'cancelled' || reason === 'cancelled') return EXIT.CANCELLED;
  if (reason === 'limit_exceeded' || reason === 'token_budget' || reason === 'budget_exceeded' || reason === 'time_budget') return EXIT.LIMIT;
  if (reason === 'verify_failed') return EXIT.VERIFY_FAILED;
  return EXIT.OTHER;
}

/** The exit code for an API error code. */
export function exitCodeForApiError(code: string, status: number): ExitCode {
  if (code === 'E_LIMIT') return EXIT.LIMIT;
  if (code === 'E_CANCELLED') return EXIT.CANCELLED;
  if (status === 400 || status === 404 || status === 409 || status === 401 || status === 413 || status === 415) return EXIT.BAD_INPUT;
  return EXIT.OTHER;
}
