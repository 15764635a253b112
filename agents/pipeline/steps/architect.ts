import { RunsRepo } from '../../../runs/runs-repo.js';
import { ARCHITECT_PROMPT, promptRef } from '../../prompts/index.js';
import { SUBMIT_ARCHITECTURE, submitArchitectureArgs, type Architecture, type Plan } from '../../tools/schemas.js';
import { architectMessage, treeListing, withProjectRules } from '../context-builder.js';
import type { RunContext, StepRef } from '../run-context.js';
import { requireToolCall } from '../structured-call.js';
import { previousDesign } from './previous-design.js';
import type { StepResult } from './step-result.js';

export interface ArchitectOutput {
  architecture: Architecture;
  prompt: string;
}

/** The architect: the plan → submit_architecture (stack, files, install/test/start commands). */
export async function runArchitect(rc: RunContext, step: StepRef, plan: Plan): Promise<StepResult<ArchitectOutput>> {
  const tree = await treeListing(rc.workspace);
  const current = tree.paths.length > 0 ? (await previousDesign(rc)).architecture : undefined;
  const user = architectMessage({ prompt: rc.run.prompt, plan, current, tree });
  const architecture = await requireToolCall(rc, step, { system: await withProjectRules(rc.workspace, ARCHITECT_PROMPT.text), user, tool: SUBMIT_ARCHITECTURE, schema: submitArchitectureArgs });
  return {
    output: { architecture, prompt: promptRef(ARCHITECT_PROMPT) },
    summary: `${architecture.stack.slice(0, 60)}; ${architecture.files.length} file(s)`,
    persist: (tx) => new RunsRepo(tx).setArchitecture(rc.run.id, architecture),
  };
}
