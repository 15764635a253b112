import { AppError } from '../core/errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A project id names a directory under the workspaces root, so it must be exactly a uuid
 * (lower case): nothing else can reach the path join.
 */
export function assertProjectId(projectId: string): string {
  if (typeof projectId !== 'string' || !UUID.test(projectId)) {
    throw new AppError('E_VALIDATION', 'projectId must be a lower-case uuid');
  }
  return projectId;
}
