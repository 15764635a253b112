import { notFound } from '../../core/errors.js';
import { ProjectsRepo, type Project } from '../../db/repos/projects.js';
import type { Workspace } from '../../workspaces/index.js';
import type { AppContext } from '../context.js';

/**
 * The caller's project, or 404 E_NOT_FOUND — the same answer for a missing project and another
 * user's, so ids cannot be probed. Every project route starts here.
 */
export async function ownedProject(ctx: AppContext, projectId: string, userId: string): Promise<Project> {
  const project = await new ProjectsRepo(ctx.db).get(projectId, userId);
  if (!project) throw notFound('Project');
  return project;
}

/** The caller's project and its workspace (404 for either missing). */
export async function ownedWorkspace(ctx: AppContext, projectId: string, userId: string): Promise<{ project: Project; workspace: Workspace }> {
  const project = await ownedProject(ctx, projectId, userId);
  return { project, workspace: await ctx.workspaces.open(project.id) };
}
