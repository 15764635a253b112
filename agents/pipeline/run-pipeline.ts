import type { Step } from '../../db/repos/steps.js';
import type { RunContext } from './run-context.js';
import { RunStop } from './run-stop.js';
import { StepRunner } from './step-runner.js';
import { runArchitect } from './steps/architect.js';
import { runCoder } from './steps/coder.js';
import { runFixer } from './steps/fixer.js';
import { runPlanner } from './steps/planner.js';
import { runVerify, type VerifyOutput } from './steps/verify.js';

/**
 * The pipeline, as a deterministic sequence of step numbers:
 *
 *   1 planner · 2 architect · 3..2+T coder (one per task) · verify · fixer · verify · … (≤ N fixer rounds)
 *
 * Because the numbering depends only on stored outputs (the plan's tasks, each verify's verdict),
 * a resumed attempt walks the same sequence, skipping every finished step (StepRunner) and
 * redoing only the first unfinished one. Resolves when verify passes; throws RunStop otherwise.
 */
export async function runPipeline(rc: RunContext, finishedSteps: Step[], attempt: number): Promise<void> {
  const steps = new StepRunner(rc, finishedSteps, attempt);
  let seq = 0;
  const { plan } = await steps.run({ seq: ++seq, kind: 'planner' }, (s) => runPlanner(rc, s));
  const { architecture } = await steps.run({ seq: ++seq, kind: 'architect' }, (s) => runArchitect(rc, s, plan));
  for (const task of plan.tasks) {
    await steps.run({ seq: ++seq, kind: 'coder', taskId: task.id, taskTitle: task.title }, (s) => runCoder(rc, s, plan, architecture, task.id));
  }
  for (let round = 0; ; round++) {
    const verdict = await steps.run({ seq: ++seq, kind: 'verify', round }, (s) => runVerify(rc, s, architecture));
    if (verdict.passed) return;
    if (round >= rc.settings.fixRounds) {
      throw new RunStop('verify_failed', verifyFailure(verdict, rc.settings.fixRounds));
    }
    await steps.run({ seq: ++seq, kind: 'fixer', round: round + 1 }, (s) => runFixer(rc, s, plan, architecture, verdict, round + 1));
  }
}

/** run.finished's message when verify never passed: what still fails, in a sentence. */
function verifyFailure(v: VerifyOutput, rounds: number): string {
  const what = v.problem ?? `the ${v.phase} command fails (exit ${v.exitCode}${v.timedOut ? ', timed out' : ''})`;
  return `Verify still fails after ${rounds} fix round(s): ${what}.`;
}
