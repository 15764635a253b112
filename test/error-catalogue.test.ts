import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOGUE } from '../core/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['core', 'db', 'server', 'agents', 'sandbox', 'workspaces', 'cli', 'scripts'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...(await sourceFiles(p)));
    else if (/\.(ts|mjs)$/.test(e.name)) files.push(p);
  }
  return files;
}

describe('error catalogue', () => {
  test('every E_* code used in the sources is in the catalogue and documented in the README', async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const used = new Set<string>();
    for (const dir of SOURCE_DIRS) {
      for (const file of await sourceFiles(path.join(root, dir))) {
        for (const m of (await readFile(file, 'utf8')).matchAll(/['"`](E_[A-Z][A-Z0-9_]+)['"`]/g)) used.add(m[1]!);
      }
    }
    expect(used.size).toBeGreaterThan(5);
    const missingFromCatalogue = [...used].filter((c) => !(c in ERROR_CATALOGUE));
    expect(missingFromCatalogue).toEqual([]);
    const undocumented = Object.keys(ERROR_CATALOGUE).filter((c) => !readme.includes(`| \`${c}\` |`));
    expect(undocumented).toEqual([]);
  });

  test('every catalogue entry has an HTTP error status and a summary', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.summary.length).toBeGreaterThan(10);
    }
  });
});
