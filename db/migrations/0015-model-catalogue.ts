import type { Migration } from './index.js';

/**
 * The model catalogue (llm/model-catalogue.ts): providers and their models with limits, prices
 * (USD per million tokens) and role recommendations; operators edit it, the shipped seed file
 * fills it. ai_catalogue_seed remembers which seed file (by its date) was applied, so a newer
 * file updates the rows no operator edited, and an older one changes nothing.
 *
 * ai_key_models: the models each stored key's provider listed for it (GET /models) — what a
 * user's own key adds to their view of the catalogue; deleted with the key.
 */
export const modelCatalogue: Migration = {
  version: 15,
  name: 'model-catalogue',
  sql: /* sql */ `
CREATE TABLE ai_providers (
  id         text PRIMARY KEY CHECK (id IN ('anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible')),
  name       text NOT NULL,
  sort_order integer NOT NULL DEFAULT 0
);

CREATE TABLE ai_models (
  provider            text NOT NULL REFERENCES ai_providers (id),
  model               text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
  display_name        text NOT NULL,
  context_window      integer CHECK (context_window > 0),
  max_output_tokens   integer CHECK (max_output_tokens > 0),
  input_price         numeric(14, 6) CHECK (input_price >= 0),
  output_price        numeric(14, 6) CHECK (output_price >= 0),
  cached_input_price  numeric(14, 6) CHECK (cached_input_price >= 0),
  cache_write_price   numeric(14, 6) CHECK (cache_write_price >= 0),
  tool_calling        boolean NOT NULL DEFAULT true,
  -- {"coder": "strong", "fixer": "cheap"}: the roles this model is the provider's pick for.
  recommended         jsonb NOT NULL DEFAULT '{}'::jsonb,
  retired_at          timestamptz,
  -- An operator's edit wins over later seed files.
  edited_by_operator  boolean NOT NULL DEFAULT false,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, model),
  -- A price is whole: input and output together, or none.
  CHECK ((input_price IS NULL) = (output_price IS NULL))
);

CREATE TABLE ai_catalogue_seed (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),
  seed_date  date NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_key_models (
  key_id            uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  model             text NOT NULL,
  context_window    integer,
  max_output_tokens integer,
  listed_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key_id, model)
);
`,
};
