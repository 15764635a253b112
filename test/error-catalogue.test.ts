import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOGUE } from '../core/errors.js';
import { ERRORS_DOC, renderErrorsDoc } from '../scripts/gen-errors-docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Every top-level folder holds the service's sources except these: tests name codes that must not
 * exist, and the web UI has a code of its own for a service that does not answer (E_NETWORK).
 */
const NOT_SOURCES = new Set(['node_modules', 'dist', 'data', 'docs', 'test', 'deploy', 'web']);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') files.push(...(await sourceFiles(p)));
    } else if (/\.(ts|tsx|mjs)$/.test(e.name)) files.push(p);
  }
  return files;
}

describe('error catalogue', () => {
  test('every E_* code used in the sources is in the catalogue', async () => {
    const top = await readdir(root, { withFileTypes: true });
    const dirs = top.filter((e) => e.isDirectory() && !e.name.startsWith('.') && !NOT_SOURCES.has(e.name)).map((e) => e.name);
    expect(dirs).toEqual(expect.arrayContaining(['core', 'server', 'agents', 'llm', 'runs', 'cli']));
    const used = new Set<string>();
    for (const dir of dirs) {
      for (const file of await sourceFiles(path.join(root, dir))) {
        for (const m of (await readFile(file, 'utf8')).matchAll(/['"`](E_[A-Z][A-Z0-9_]+)['"`]/g)) used.add(m[1]!);
      }
    }
    expect(used.size).toBeGreaterThan(5);
    const missingFromCatalogue = [...used].filter((c) => !(c in ERROR_CATALOGUE));
    expect(missingFromCatalogue).toEqual([]);
  });

  test('docs/errors.md documents every code and is what the generator renders now (run `npm run docs:errors`)', async () => {
    const onDisk = await readFile(path.join(root, ERRORS_DOC), 'utf8');
    expect(onDisk).toBe(renderErrorsDoc());
    const undocumented = Object.keys(ERROR_CATALOGUE).filter((c) => !onDisk.includes(`| \`${c}\` |`));
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
