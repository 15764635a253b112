import { systemClock, type Clock } from '../../core/clock.js';
import type { Queryable } from '../../db/port.js';
import { SandboxUsageRepo } from '../../db/repos/usage-sandbox.js';
import { monthOf } from '../../db/repos/usage-summary.js';
import type { ExecOptions, ExecResult, SandboxHandle } from '../../sandbox/port.js';
import { RunStop } from './run-stop.js';

export interface MeterScope {
  db: Queryable;
  userId: string;
  runId: string;
  clock?: Clock;
}

/**
 * The run's sandbox handle with its commands metered: every exec of a run passes here, so this is
 * where the plan's monthly_sandbox_seconds is enforced and the time recorded.
 *
 * Before a command: a month with no sandbox time left stops the run (`limit_exceeded`), and the
 * command's timeout is cut to what is left, so one command cannot run far past the limit; a
 * command stopped by that cut stops the run the same way. After it (also when it failed or was
 * cancelled): its wall-clock time is added to the user's month and to the run. The check and the
 * record are separate statements, so concurrent runs of one user can overshoot the limit by at
 * most what was left when their commands started.
 */
export function meteredSandbox(handle: SandboxHandle, scope: MeterScope): SandboxHandle {
  const repo = new SandboxUsageRepo(scope.db);
  const clock = scope.clock ?? systemClock;
  return {
    projectId: handle.projectId,
    containerId: handle.containerId,
    release: () => handle.release(),
    destroy: () => handle.destroy(),
    async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
      const month = monthOf(clock.now());
      const allowance = await repo.allowance(scope.userId, month);
      const leftMs = allowance?.limitSeconds == null ? undefined : allowance.limitSeconds * 1000 - allowance.usedMs;
      if (allowance && leftMs !== undefined && leftMs <= 0) throw spent(allowance.planName, allowance.limitSeconds!, allowance.usedMs);
      const cut = leftMs !== undefined && options.timeoutMs !== undefined && leftMs < options.timeoutMs;
      const started = performance.now();
      const record = (): Promise<void> => repo.record(scope.userId, scope.runId, month, Math.round(performance.now() - started));
      let result: ExecResult;
      try {
        result = await handle.exec(command, cut ? { ...options, timeoutMs: leftMs } : options);
      } catch (err) {
        // The command's own error is what the caller needs; a lost record is the lesser harm.
        await record().catch(() => undefined);
        throw err;
      }
      await record();
      if (cut && result.timedOut) throw spent(allowance!.planName, allowance!.limitSeconds!, allowance!.usedMs + result.durationMs);
      return result;
    },
  };
}

function spent(planName: string, limitSeconds: number, usedMs: number): RunStop {
  return new RunStop(
    'limit_exceeded',
    `limit_exceeded: the ${planName} plan allows ${limitSeconds} s of sandbox commands a month (monthly_sandbox_seconds) and ` +
      `${Math.round(usedMs / 1000)} s are used this month. The run's finished steps are kept; continue next month or move to a larger plan.`,
  );
}
