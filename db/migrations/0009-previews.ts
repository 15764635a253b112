import type { Migration } from './index.js';

/**
 * Live previews (previews/): the running preview of each project, its share links, and the
 * project's environment variables (secrets) injected into preview and test commands.
 *
 * - previews: one row per project while a preview exists. `upstream` is the container's address
 *   (host:port on the Docker host's preview network) and `docker_host` the engine it runs on, so
 *   any node behind the load balancer can proxy to it and stop it.
 * - preview_shares: only the SHA-256 of a share token is stored; the token is shown once.
 * - project_env: each value sealed like API keys (keys/vault.ts: envelope AES-256-GCM, a data key
 *   per row wrapped by the master key, AAD binding it to the owner, project and name).
 */
export const previews: Migration = {
  version: 9,
  name: 'previews',
  sql: /* sql */ `
CREATE TABLE previews (
  project_id     uuid PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  status         text NOT NULL CHECK (status IN ('starting', 'running', 'failed', 'stopped')),
  container_id   text,
  docker_host    text,
  upstream       text,
  commit_sha     text,
  output         text NOT NULL DEFAULT '',
  started_at     timestamptz NOT NULL DEFAULT now(),
  last_access_at timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX previews_running_idx ON previews (last_access_at) WHERE status IN ('starting', 'running');

CREATE TABLE preview_shares (
  id          uuid PRIMARY KEY,
  project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX preview_shares_project_idx ON preview_shares (project_id);

CREATE TABLE project_env (
  project_id    uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name          text NOT NULL,
  ciphertext    bytea NOT NULL,
  iv            bytea NOT NULL,
  auth_tag      bytea NOT NULL,
  wrapped_dek   bytea NOT NULL,
  dek_iv        bytea NOT NULL,
  dek_auth_tag  bytea NOT NULL,
  master_key_id text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, name)
);
`,
};
