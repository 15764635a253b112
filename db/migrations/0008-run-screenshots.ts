import type { Migration } from './index.js';

/**
 * The browser check's screenshot, one per run (the latest verify's): a PNG of a few hundred KB at
 * most, in the database so every node serves it (workspaces may live on one node's disk) and it
 * goes with its run (ON DELETE CASCADE: a deleted project's runs take their pictures along).
 */
export const runScreenshots: Migration = {
  version: 8,
  name: 'run-screenshots',
  sql: /* sql */ `
CREATE TABLE run_screenshots (
  run_id   uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  png      bytea NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now()
);
`,
};
