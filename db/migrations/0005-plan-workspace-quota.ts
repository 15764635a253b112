import type { Migration } from './index.js';

/**
 * Each plan's workspace disk quota, in MiB (workspace files and git history together). NULL: the
 * node's default (SAMOKODER_WORKSPACE_QUOTA_MB). A project's volume is made with its owner's plan's
 * quota when the project is created; a plan change applies to projects created afterwards.
 */
export const planWorkspaceQuota: Migration = {
  version: 5,
  name: 'plan-workspace-quota',
  sql: /* sql */ `
ALTER TABLE plans ADD COLUMN max_workspace_mb integer CHECK (max_workspace_mb >= 8);
UPDATE plans SET max_workspace_mb = CASE id
  WHEN 'free' THEN 512
  WHEN 'starter' THEN 1024
  WHEN 'pro' THEN 4096
  WHEN 'business' THEN 16384
END
WHERE id IN ('free', 'starter', 'pro', 'business');
`,
};
