import type { Migration } from './index.js';

/**
 * Projects in and out of git (gitio/): a user's git credentials (a token or an SSH private key),
 * sealed like BYOK keys (keys/vault.ts: envelope encryption, only the masked form in clear), and
 * where an imported project came from (its first run is then a change request).
 */
export const gitIo: Migration = {
  version: 13,
  name: 'git-io',
  sql: /* sql */ `
CREATE TABLE git_credentials (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('token', 'ssh-key')),
  label         text,
  username      text,
  masked        text NOT NULL,
  ciphertext    bytea NOT NULL,
  iv            bytea NOT NULL,
  auth_tag      bytea NOT NULL,
  wrapped_dek   bytea NOT NULL,
  dek_iv        bytea NOT NULL,
  dek_auth_tag  bytea NOT NULL,
  master_key_id text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX git_credentials_user_idx ON git_credentials (user_id);

ALTER TABLE projects ADD COLUMN imported_from text;
`,
};
