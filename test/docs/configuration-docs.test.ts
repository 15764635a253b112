import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV_SCHEMA } from '../../core/config-schema.js';
import { ENV_DESCRIPTIONS } from '../../core/config-descriptions.js';
import { CONFIGURATION_DOC, renderConfigurationDoc } from '../../scripts/gen-config-docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('docs/configuration.md', () => {
  test('is what the generator renders from the schema now (run `npm run docs:config` after changing core/config.ts)', async () => {
    const onDisk = await readFile(path.join(root, CONFIGURATION_DOC), 'utf8');
    expect(onDisk).toBe(renderConfigurationDoc());
  });

  test('documents every variable of the schema, and only those, each with its default', () => {
    const variables = Object.keys(ENV_SCHEMA.shape);
    expect(Object.keys(ENV_DESCRIPTIONS).sort()).toEqual([...variables].sort());
    const doc = renderConfigurationDoc();
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.map((r) => /^\| `([A-Z0-9_]+)` \|/.exec(r)?.[1])).toEqual(variables);
    // Spot checks that type and default come from the schema, not from prose.
    expect(rows).toContainEqual(expect.stringMatching(/^\| `PORT` \| integer 0–65535 \| `3000` \|/));
    expect(rows).toContainEqual(expect.stringMatching(/^\| `SAMOKODER_TRUST_PROXY` \| boolean [^|]*\| `false` \|/));
    expect(rows).toContainEqual(expect.stringMatching(/^\| `DATABASE_URL` \| [^|]+\| unset \|/));
    expect(rows).toContainEqual(expect.stringMatching(/^\| `SAMOKODER_SANDBOX` \| one of `docker`, `off` \| `docker` \|/));
  });

  test('a pipe inside a value is escaped, so every row has exactly four cells', () => {
    for (const row of renderConfigurationDoc().split('\n').filter((l) => l.startsWith('| `'))) {
      expect(row.replaceAll('\\|', '').split('|').length - 2).toBe(4);
    }
  });
});
