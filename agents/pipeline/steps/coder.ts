import { CODER_PROMPT, promptRef } from '../../prompts/index.js';
import type { Architecture, Plan } from '../../tools/schemas.js';
import { coderMessage, withProjectRules } from '../context-builder.js';
import type { RunContext, StepRef } from '../run-context.js';
import { runToolLoop, type ToolLoopResult } from '../tool-loop.js';
import type { StepResult } from './step-result.js';

export type CoderOutput = ToolLoopResult & { taskId: string; prompt: string };

/** The coder: one task of the plan, in the shared tool loop. */
export async function runCoder(rc: RunContext, step: StepRef, plan: Plan, arch: Architecture, taskId: string): Promise<StepResult<CoderOutput>> {
  const user = await coderMessage(rc.workspace, { plan, arch, taskId });
  const loop = await runToolLoop(rc, step, { system: await withProjectRules(rc.workspace, CODER_PROMPT.text), user });
  return { output: { ...loop, taskId, prompt: promptRef(CODER_PROMPT) }, summary: loop.summary.split('\n')[0]!.slice(0, 120) };
}
