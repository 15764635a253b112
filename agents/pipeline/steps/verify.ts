import type { Architecture } from '../../tools/schemas.js';
import { runSandboxCommand } from '../commands.js';
import type { RunContext, StepRef } from '../run-context.js';
import type { StepResult } from './step-result.js';

export interface VerifyOutput {
  passed: boolean;
  /** The command that decided: install when it failed, else test. */
  phase: 'install' | 'test';
  command: string;
  exitCode: number;
  timedOut: boolean;
  /** The end of its output (capped): what the fixer reads. */
  tail: string;
}

/**
 * Verify: the architect's install command (network 'registry': only the package registry, through
 * the egress proxy), then the test command (no network), in the project's sandbox. The step
 * succeeds either way — its output says whether the project passed; the pipeline decides.
 */
export async function runVerify(rc: RunContext, step: StepRef, arch: Architecture): Promise<StepResult<VerifyOutput>> {
  await ensureGitignore(rc);
  const timeoutMs = rc.settings.verifyTimeoutMs;
  const install = arch.commands.install.trim();
  if (install) {
    const r = await runSandboxCommand(rc, step, install, { network: 'registry', timeoutMs, purpose: 'install' });
    if (r.exitCode !== 0 || r.timedOut) {
      return result({ passed: false, phase: 'install', command: install, exitCode: r.exitCode, timedOut: r.timedOut, tail: r.tail });
    }
  }
  const test = arch.commands.test;
  const r = await runSandboxCommand(rc, step, test, { network: 'none', timeoutMs, purpose: 'test' });
  return result({ passed: r.exitCode === 0 && !r.timedOut, phase: 'test', command: test, exitCode: r.exitCode, timedOut: r.timedOut, tail: r.tail });
}

function result(output: VerifyOutput): StepResult<VerifyOutput> {
  return { output, summary: output.passed ? 'tests pass' : `${output.phase} failed (exit ${output.exitCode}${output.timedOut ? ', timed out' : ''})` };
}

/** Installed dependencies must not land in the step commits (every step commits `git add --all`). */
async function ensureGitignore(rc: RunContext): Promise<void> {
  const existing = await rc.workspace.files.readFile('.gitignore').catch(() => undefined);
  if (existing && !existing.binary && /^\/?node_modules\/?$/m.test(existing.content)) return;
  const before = existing && !existing.binary ? existing.content.replace(/\n?$/, '\n') : '';
  await rc.workspace.files.writeFile('.gitignore', `${before}node_modules/\n`);
}
