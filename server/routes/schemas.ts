import { z } from 'zod';
import type { UserRole } from '../../protocol/api-types.js';

export { planSchema, userSchema } from '../../protocol/api-types.js';

/**
 * An id in a path, query or body: any UUID, in either case, turned into the lower-case form every
 * id takes in the database, on disk and in labels — so `…/projects/0F8FAD5B-…` names the same
 * project as `…/projects/0f8fad5b-…`, everywhere below the route.
 */
export const idSchema = (message: string) => z.uuid({ message }).toLowerCase();

export const toUserJson = (u: { id: string; email: string; role: UserRole; planId: string; createdAt: Date }) => ({
  id: u.id,
  email: u.email,
  role: u.role,
  planId: u.planId,
  createdAt: u.createdAt.toISOString(),
});
