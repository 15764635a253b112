import { FIXER_PROMPT, promptRef } from '../../prompts/index.js';
import type { Architecture, Plan } from '../../tools/schemas.js';
import { fixerMessage, withProjectRules } from '../context-builder.js';
import type { RunContext, StepRef } from '../run-context.js';
import { runToolLoop, type ToolLoopResult } from '../tool-loop.js';
import type { StepResult } from './step-result.js';
import type { VerifyOutput } from './verify.js';

export type FixerOutput = ToolLoopResult & { round: number; prompt: string };

/** The fixer: the failed verify's output tail and the files it names → the same tool loop as the coder. */
export async function runFixer(rc: RunContext, step: StepRef, plan: Plan, arch: Architecture, failure: VerifyOutput, round: number): Promise<StepResult<FixerOutput>> {
  const user = await fixerMessage(rc.workspace, { plan, arch, failure: { phase: failure.phase, command: failure.command, exitCode: failure.exitCode, tail: failure.tail, problem: failure.problem }, round });
  const loop = await runToolLoop(rc, step, { system: await withProjectRules(rc.workspace, FIXER_PROMPT.text), user });
  return { output: { ...loop, round, prompt: promptRef(FIXER_PROMPT) }, summary: loop.summary.split('\n')[0]!.slice(0, 120) };
}
