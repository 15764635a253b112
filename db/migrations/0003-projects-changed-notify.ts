import type { Migration } from './index.js';

/**
 * Every change to a project row other than an event append sends the owner's id on
 * PROJECTS_CHANGED_CHANNEL: each node's project-list cache (server/projects/list-cache.ts) drops
 * that user's pages. An event append (the only write that moves last_event_seq) is announced by
 * its own durable-event notice, which the cache follows too, so it is left out here rather than
 * doubling the notices of every event. A trigger, so no write path (nor an operator's SQL) can
 * forget it; notices are sent on commit only.
 */
export const projectsChangedNotify: Migration = {
  version: 3,
  name: 'projects-changed-notify',
  sql: /* sql */ `
CREATE FUNCTION projects_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id THEN
    PERFORM pg_notify('projects_changed', NEW.user_id::text);
  END IF;
  PERFORM pg_notify('projects_changed', CASE WHEN TG_OP = 'INSERT' THEN NEW.user_id ELSE OLD.user_id END::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER projects_added_or_removed AFTER INSERT OR DELETE ON projects
  FOR EACH ROW EXECUTE FUNCTION projects_changed_notify();
CREATE TRIGGER projects_updated AFTER UPDATE ON projects
  FOR EACH ROW WHEN (OLD.last_event_seq IS NOT DISTINCT FROM NEW.last_event_seq)
  EXECUTE FUNCTION projects_changed_notify();
`,
};
