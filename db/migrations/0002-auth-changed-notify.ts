import type { Migration } from './index.js';

/**
 * Every change that can end or alter a session (a token revoked, expired early or deleted; a
 * user's email, role, plan, password or identity changed; a user deleted) sends the user's id
 * on AUTH_CHANGED_CHANNEL. Each node's session cache (server/auth/session-cache.ts) listens and
 * drops that user's sessions. A trigger rather than a notify in the application code, so no
 * write path can forget it, including an operator's SQL. Notices are sent on commit only.
 */
export const authChangedNotify: Migration = {
  version: 2,
  name: 'auth-changed-notify',
  sql: /* sql */ `
CREATE FUNCTION auth_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- TG_ARGV[0] names the column holding the user's id (users.id, auth_tokens.user_id).
  PERFORM pg_notify('auth_changed', to_jsonb(OLD) ->> TG_ARGV[0]);
  RETURN NULL;
END
$$;
-- Not last_used_at: touching a token changes nothing about who it authenticates.
CREATE TRIGGER auth_tokens_changed AFTER UPDATE OF user_id, token_hash, expires_at, revoked_at OR DELETE ON auth_tokens
  FOR EACH ROW EXECUTE FUNCTION auth_changed_notify('user_id');
CREATE TRIGGER users_changed AFTER UPDATE OF email, role, plan_id, supabase_sub, password_hash OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION auth_changed_notify('id');
`,
};
