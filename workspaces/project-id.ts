import { AppError } from '../core/errors.js';
import { UUID_PATTERN } from '../core/uuid.js';

/**
 * A project id names a directory under the workspaces root, so it must be exactly a uuid
 * (lower case): nothing else can reach the path join.
 */
export function assertProjectId(projectId: string): string {
  if (typeof projectId !== 'string' || !UUID_PATTERN.test(projectId)) {
    throw new AppError('E_VALIDATION', 'projectId must be a lower-case uuid');
  }
  return projectId;
}
