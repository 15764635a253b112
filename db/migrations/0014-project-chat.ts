import type { Migration } from './index.js';

/**
 * Project chat: one row per question and its answer (a "turn"), owned by the project (a deleted
 * project takes its chat along) and its user. The answer is NULL while the model is answering;
 * a turn that failed keeps the reason. Tokens are the sum over the turn's model calls (the usage
 * ledger has each call, with the project and no run).
 *
 * Each plan bounds chat: the longest question (characters) and the model turns one answer may
 * take (tool calls included); NULL: the server's own caps (chat/chat-limits.ts).
 */
export const projectChat: Migration = {
  version: 14,
  name: 'project-chat',
  sql: /* sql */ `
CREATE TABLE chat_turns (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id    uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  question      text NOT NULL,
  answer        text,
  status        text NOT NULL DEFAULT 'answering' CHECK (status IN ('answering', 'answered', 'failed')),
  error         text,
  provider      text NOT NULL,
  model         text NOT NULL,
  input_tokens  bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  tool_calls    integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX chat_turns_project_idx ON chat_turns (project_id, created_at DESC, id DESC);

ALTER TABLE plans ADD COLUMN chat_max_message_chars integer CHECK (chat_max_message_chars >= 1);
ALTER TABLE plans ADD COLUMN chat_max_model_turns integer CHECK (chat_max_model_turns >= 1);
UPDATE plans SET
  chat_max_message_chars = CASE id WHEN 'free' THEN 2000 WHEN 'starter' THEN 4000 WHEN 'pro' THEN 8000 WHEN 'business' THEN 16000 END,
  chat_max_model_turns = CASE id WHEN 'free' THEN 6 WHEN 'starter' THEN 10 WHEN 'pro' THEN 16 WHEN 'business' THEN 24 END
WHERE id IN ('free', 'starter', 'pro', 'business');
`,
};
