import type { Migration } from './index.js';

/**
 * The whole product's schema. Every user-owned row carries user_id (directly or through its
 * project), and every repository query on such rows filters by it.
 */
export const init: Migration = {
  version: 1,
  name: 'init',
  sql: /* sql */ `
CREATE TABLE plans (
  id                    text PRIMARY KEY,
  name                  text NOT NULL,
  -- NULL means "no limit" for each of these.
  max_projects          integer CHECK (max_projects >= 0),
  monthly_token_limit   bigint CHECK (monthly_token_limit >= 0),
  max_concurrent_runs   integer CHECK (max_concurrent_runs >= 0),
  byok_allowed          boolean NOT NULL DEFAULT true,
  platform_keys_allowed boolean NOT NULL DEFAULT false,
  price_usd_month       numeric(10, 2) NOT NULL DEFAULT 0,
  sort_order            integer NOT NULL DEFAULT 0,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

INSERT INTO plans (id, name, max_projects, monthly_token_limit, max_concurrent_runs, byok_allowed, platform_keys_allowed, price_usd_month, sort_order) VALUES
  ('free',      'Free',        2,    200000,   1,    true, false, 0,   10),
  ('starter',   'Starter',     5,    2000000,  2,    true, false, 12,  20),
  ('pro',       'Pro',         NULL, 10000000, 4,    true, true,  39,  30),
  ('business',  'Business',    NULL, 50000000, 16,   true, true,  199, 40),
  ('unlimited', 'Self-hosted', NULL, NULL,     NULL, true, true,  0,   50);

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  password_hash text,
  supabase_sub  text UNIQUE,
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  plan_id       text NOT NULL REFERENCES plans (id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Local accounts are identified by email, Supabase ones by sub: a Supabase user whose email
-- matches a local account is a different user until an operator links them.
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE supabase_sub IS NULL;

-- Opaque bearer tokens: only a SHA-256 of the token is stored, so a database leak yields no
-- usable credentials, and logout/revocation is a row update.
CREATE TABLE auth_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id);

-- Master keys known to this database: a verifier (a known value sealed under the key) lets
-- start-up tell a wrong SAMOKODER_MASTER_KEY from a right one before touching any secret.
CREATE TABLE master_keys (
  key_id     text PRIMARY KEY,
  verifier   bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- BYOK secrets, envelope-encrypted: only ciphertext, IVs, tags and the wrapped data key.
CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider      text NOT NULL CHECK (provider IN ('anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible')),
  label         text,
  base_url      text,
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
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Operator keys for managed credits: identified by a fingerprint (hash), never stored in clear.
CREATE TABLE platform_keys (
  id              text PRIMARY KEY,
  provider        text NOT NULL,
  masked          text NOT NULL,
  request_count   bigint NOT NULL DEFAULT 0,
  error_count     bigint NOT NULL DEFAULT 0,
  cooldown_until  timestamptz,
  disabled_at     timestamptz,
  disabled_reason text,
  last_error      text,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name           text NOT NULL,
  slug           text NOT NULL,
  prompt         text NOT NULL,
  webhook_url    text,
  webhook_secret text,
  -- The last durable event's sequence number; bumped in the transaction that appends an event,
  -- so sequence numbers are gapless per project.
  last_event_seq bigint NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_user_idx ON projects (user_id, created_at DESC);

CREATE TABLE runs (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id          uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind                text NOT NULL CHECK (kind IN ('generate', 'change')),
  prompt              text NOT NULL,
  provider            text NOT NULL,
  model               text NOT NULL,
  key_id              uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  key_source          text NOT NULL CHECK (key_source IN ('byok', 'platform')),
  status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  reason              text,
  cancel_requested_at timestamptz,
  plan                jsonb,
  architecture        jsonb,
  input_tokens        bigint NOT NULL DEFAULT 0,
  output_tokens       bigint NOT NULL DEFAULT 0,
  cost_micro_usd      bigint NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz
);
CREATE INDEX runs_project_idx ON runs (project_id, created_at DESC);
CREATE INDEX runs_user_active_idx ON runs (user_id) WHERE status IN ('queued', 'running');

CREATE TABLE steps (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('planner', 'architect', 'coder', 'verify', 'fixer')),
  task_id     text,
  round       integer NOT NULL DEFAULT 0,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  output      jsonb,
  commit_sha  text,
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (run_id, seq)
);

CREATE TABLE events (
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  seq        bigint NOT NULL,
  run_id     uuid,
  type       text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}'::jsonb,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, seq)
);

-- One row per user and month: the counter a reservation is checked and taken against in one
-- conditional UPDATE, so concurrent calls can never overshoot the plan's monthly limit.
CREATE TABLE usage_months (
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  month           date NOT NULL,
  reserved_tokens bigint NOT NULL DEFAULT 0 CHECK (reserved_tokens >= 0),
  used_tokens     bigint NOT NULL DEFAULT 0 CHECK (used_tokens >= 0),
  PRIMARY KEY (user_id, month)
);

-- The ledger: one row per LLM call. project/run/step ids are kept without foreign keys so a
-- deleted project's spending stays on the books.
CREATE TABLE usage_ledger (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  project_id         uuid,
  run_id             uuid,
  step_id            uuid,
  month              date NOT NULL,
  provider           text NOT NULL,
  model              text NOT NULL,
  key_source         text NOT NULL CHECK (key_source IN ('byok', 'platform')),
  key_ref            text,
  status             text NOT NULL DEFAULT 'reserved' CHECK (status IN ('reserved', 'settled')),
  reserved_tokens    bigint NOT NULL DEFAULT 0,
  input_tokens       bigint NOT NULL DEFAULT 0,
  output_tokens      bigint NOT NULL DEFAULT 0,
  cache_read_tokens  bigint NOT NULL DEFAULT 0,
  cache_write_tokens bigint NOT NULL DEFAULT 0,
  cost_micro_usd     bigint,
  created_at         timestamptz NOT NULL DEFAULT now(),
  settled_at         timestamptz
);
CREATE INDEX usage_ledger_user_month_idx ON usage_ledger (user_id, month);
CREATE INDEX usage_ledger_run_idx ON usage_ledger (run_id);

-- The job queue: claimed with FOR UPDATE SKIP LOCKED; a claim is a lease that the worker
-- renews by heartbeat, so a dead worker's job becomes claimable again when the lease runs out.
CREATE TABLE jobs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  queue        text NOT NULL,
  payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
  status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'active', 'done', 'failed')),
  run_after    timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  locked_by    text,
  lease_until  timestamptz,
  last_error   text,
  singleton_key text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_claim_idx ON jobs (queue, run_after) WHERE status = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (queue, lease_until) WHERE status = 'active';
-- At most one unfinished job per singleton key (e.g. one job per run).
CREATE UNIQUE INDEX jobs_singleton_idx ON jobs (singleton_key) WHERE status IN ('queued', 'active');
`,
};
