import type { UserRole } from '../../protocol/api-types.js';

export { planSchema, userSchema } from '../../protocol/api-types.js';

export const toUserJson = (u: { id: string; email: string; role: UserRole; planId: string; createdAt: Date }) => ({
  id: u.id,
  email: u.email,
  role: u.role,
  planId: u.planId,
  createdAt: u.createdAt.toISOString(),
});
