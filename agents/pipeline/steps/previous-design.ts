import { RunsRepo } from '../../../runs/runs-repo.js';
import { submitArchitectureArgs, submitPlanArgs, type Architecture, type Plan } from '../../tools/schemas.js';
import type { RunContext } from '../run-context.js';

/** The plan and architecture of the project's latest earlier run that has them (a change request builds on them). */
export async function previousDesign(rc: RunContext): Promise<{ plan?: Plan; architecture?: Architecture }> {
  const page = await new RunsRepo(rc.db).listByProject(rc.run.projectId, rc.run.userId, { limit: 50 });
  const earlier = page.items.filter((r) => r.id !== rc.run.id && r.createdAt <= rc.run.createdAt);
  const plan = earlier.map((r) => submitPlanArgs.safeParse(r.plan)).find((p) => p.success)?.data;
  const architecture = earlier.map((r) => submitArchitectureArgs.safeParse(r.architecture)).find((p) => p.success)?.data;
  return { ...(plan ? { plan } : {}), ...(architecture ? { architecture } : {}) };
}
