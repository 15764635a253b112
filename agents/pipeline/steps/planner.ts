import { RunsRepo } from '../../../runs/runs-repo.js';
import { PLANNER_PROMPT, promptRef } from '../../prompts/index.js';
import { SUBMIT_PLAN, submitPlanArgs, type Plan } from '../../tools/schemas.js';
import { plannerMessage, treeListing, withProjectRules } from '../context-builder.js';
import type { RunContext, StepRef } from '../run-context.js';
import { RunStop } from '../run-stop.js';
import { requireToolCall } from '../structured-call.js';
import { previousDesign } from './previous-design.js';
import type { StepResult } from './step-result.js';

export interface PlannerOutput {
  plan: Plan;
  prompt: string;
}

/** The planner: the request (and for a change, the current plan and the tree) → submit_plan. */
export async function runPlanner(rc: RunContext, step: StepRef): Promise<StepResult<PlannerOutput>> {
  const tree = await treeListing(rc.workspace);
  const change = rc.run.kind === 'change' || tree.paths.length > 0;
  const current = change ? (await previousDesign(rc)).plan : undefined;
  const user = plannerMessage({ prompt: rc.run.prompt, kind: change ? 'change' : 'generate', currentPlan: current, tree });
  const plan = await requireToolCall(rc, step, { system: await withProjectRules(rc.workspace, PLANNER_PROMPT.text), user, tool: SUBMIT_PLAN, schema: submitPlanArgs });
  const ids = new Set(plan.tasks.map((t) => t.id));
  if (ids.size !== plan.tasks.length) throw new RunStop('invalid_tool_calls', 'The plan repeats a task id.');
  return {
    output: { plan, prompt: promptRef(PLANNER_PROMPT) },
    summary: `plan with ${plan.tasks.length} task(s)`,
    persist: (tx) => new RunsRepo(tx).setPlan(rc.run.id, plan),
  };
}
