import { z } from 'zod';
import { MAX_PAGE_SIZE } from '../../db/repos/pagination.js';
import type { Project } from '../../db/repos/projects.js';
import type { Run } from '../../runs/runs-repo.js';
import type { Step } from '../../db/repos/steps.js';
import { idSchema } from './schemas.js';

export { projectSchema, runSchema, stepSchema } from '../../protocol/api-types.js';

/**
 * Schemas shared by the project routes. Ids are UUIDs: a malformed one is 400 E_VALIDATION (it
 * cannot exist for anybody, so saying so leaks nothing); a well-formed id that is missing or
 * another user's is 404 E_NOT_FOUND, the same answer for both, so ids cannot be probed. Either
 * case is accepted (see idSchema).
 */
export const projectIdParams = z.object({ id: idSchema('must be a project id (a UUID)') });
export const runIdParams = projectIdParams.extend({ runId: idSchema('must be a run id (a UUID)') });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().meta({ description: `1..${MAX_PAGE_SIZE}, default 20` }),
  cursor: z.string().min(1).max(512).optional().meta({ description: 'The nextCursor of the previous page' }),
});

const date = (d: Date | null): string | null => d?.toISOString() ?? null;

export const toProjectJson = (p: Project) => ({
  id: p.id,
  name: p.name,
  slug: p.slug,
  prompt: p.prompt,
  webhookUrl: p.webhookUrl,
  importedFrom: p.importedFrom,
  lastEventSeq: p.lastEventSeq,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

export const toRunJson = (r: Run) => ({
  id: r.id,
  projectId: r.projectId,
  kind: r.kind,
  prompt: r.prompt,
  provider: r.provider,
  model: r.model,
  keyId: r.keyId,
  keySource: r.keySource,
  status: r.status,
  reason: r.reason,
  message: r.message,
  cancelRequestedAt: date(r.cancelRequestedAt),
  usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens, costMicroUsd: r.costMicroUsd, estimatedCalls: r.estimatedCalls },
  budget: r.budget,
  models: Object.fromEntries(Object.entries(r.models).map(([role, m]) => [role, { provider: m.provider, model: m.model }])),
  createdAt: r.createdAt.toISOString(),
  startedAt: date(r.startedAt),
  finishedAt: date(r.finishedAt),
});

export const toStepJson = (s: Step) => ({
  seq: s.seq,
  kind: s.kind,
  taskId: s.taskId,
  round: s.round,
  status: s.status,
  output: s.output,
  commitSha: s.commitSha,
  error: s.error,
  startedAt: s.startedAt.toISOString(),
  finishedAt: date(s.finishedAt),
});
