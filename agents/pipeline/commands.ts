import { scrubSecrets } from '../../previews/project-env.js';
import type { ExecResult, SandboxNetwork } from '../../sandbox/port.js';
import type { RunContext, StepRef } from './run-context.js';

/** How much of a command's output the durable command.finished event and the model see. */
export const OUTPUT_TAIL_CHARS = 4000;

export interface CommandOutcome extends ExecResult {
  /** The last OUTPUT_TAIL_CHARS of stdout and stderr together (the errors are usually at the end). */
  tail: string;
}

export const tailOf = (text: string, chars = OUTPUT_TAIL_CHARS): string => (text.length <= chars ? text : `…${text.slice(-chars)}`);

/**
 * Runs a command in the run's sandbox with events: `command.started` and `command.finished`
 * (durable, with exit code and a capped tail) around `command.output` (ephemeral, coalesced).
 * The run's signal kills the command on cancel (exec rejects with E_CANCELLED).
 * `projectEnv`: the project's variables for this command (verify's tests); any value the command
 * prints is replaced by its name before the output becomes an event or reaches the fixer.
 */
export async function runSandboxCommand(rc: RunContext, step: StepRef, command: string, options: { network: SandboxNetwork; timeoutMs: number; purpose: string; projectEnv?: Record<string, string> }): Promise<CommandOutcome> {
  const secrets = options.projectEnv ?? {};
  const scrub = (text: string): string => scrubSecrets(text, secrets);
  const sandbox = await rc.sandbox();
  await rc.events.append('command.started', { stepSeq: step.seq, command, purpose: options.purpose, network: options.network });
  const out = rc.events.coalescer('command.output', { stepSeq: step.seq }, 100);
  let combined = '';
  let result: ExecResult;
  try {
    result = await sandbox.exec(command, {
      network: options.network,
      timeoutMs: options.timeoutMs,
      ...(options.projectEnv ? { projectEnv: options.projectEnv } : {}),
      signal: rc.signal,
      onOutput: (_stream, text) => {
        combined += text;
        if (combined.length > OUTPUT_TAIL_CHARS * 4) combined = combined.slice(-OUTPUT_TAIL_CHARS * 2);
        out.push(scrub(text));
      },
    });
  } finally {
    out.flush();
  }
  const tail = tailOf(scrub(combined || `${result.stdout}${result.stderr}`));
  await rc.events.append('command.finished', {
    stepSeq: step.seq,
    command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    truncated: result.truncated,
    durationMs: result.durationMs,
    tail: tailOf(tail, 2000),
  });
  return { ...result, stdout: scrub(result.stdout), stderr: scrub(result.stderr), tail };
}
