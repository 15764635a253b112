import type { Migration } from './index.js';

/**
 * The SSH host keys a user confirmed (by pinning them on an import or push that then succeeded),
 * per host and port: later operations on that host check against them without a pin, as an ssh
 * client's known_hosts does. Public keys, not secrets.
 */
export const gitKnownHosts: Migration = {
  version: 17,
  name: 'git-known-hosts',
  sql: /* sql */ `
CREATE TABLE git_known_hosts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  host          text NOT NULL,
  port          integer NOT NULL,
  keys          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, host, port)
);`,
};
