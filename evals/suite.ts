import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { BrowserProbeStep } from '../sandbox/browser-port.js';

/**
 * A suite is a folder of specs, one folder each (spec.json, acceptance/, and for the suite's own
 * test reference/ and wrong/; start/ for a spec that begins from an existing project). Files in
 * the suite's _shared/ are copied beside every spec's acceptance tests.
 */

const probeStep: z.ZodType<BrowserProbeStep> = z.union([
  z.strictObject({ expectVisible: z.string().min(1) }),
  z.strictObject({ fill: z.string().min(1), value: z.string() }),
  z.strictObject({ click: z.string().min(1) }),
  z.strictObject({ expectText: z.string().min(1), contains: z.string() }),
]);

export const specSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and hyphens'),
  title: z.string().min(1),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  /** What kind of app it is, for the report. */
  kind: z.enum(['library', 'cli', 'api', 'web', 'change', 'bugfix']),
  /** As a user would write it: this is all the agents see. */
  prompt: z.string().min(1).max(20_000),
  /** Past either, the run is cancelled and the spec fails with the ceiling as its stop reason. */
  ceilings: z.strictObject({ minutes: z.number().positive(), tokens: z.number().int().positive() }),
  /** A folder of the spec whose files are the project the run starts from (a change request, a bug fix). */
  start: z.string().min(1).optional(),
  /** A web app: after the acceptance tests, the browser loads `/` and performs these steps. */
  browser: z.strictObject({ start: z.string().min(1).default('npm start'), steps: z.array(probeStep).min(1) }).optional(),
});

export type SpecJson = z.infer<typeof specSchema>;

export interface Spec extends SpecJson {
  /** The spec's folder. */
  dir: string;
  /** Absolute paths of the acceptance test files (*.test.mjs / *.test.js), sorted. */
  acceptanceFiles: string[];
  /** Absolute path of the start project, when there is one. */
  startDir?: string;
}

export interface Suite {
  name: string;
  dir: string;
  specs: Spec[];
  /** Helpers copied beside every spec's acceptance tests. */
  sharedFiles: string[];
}

export const SUITES_DIR = path.resolve('evals/suites');
const SHARED = '_shared';

export class SuiteError extends Error {}

/** A suite by name (a folder of evals/suites) or by path. */
export async function loadSuite(nameOrPath: string, suitesDir = SUITES_DIR): Promise<Suite> {
  const dir = /[\\/]/.test(nameOrPath) ? path.resolve(nameOrPath) : path.join(suitesDir, nameOrPath);
  if (!existsSync(dir)) throw new SuiteError(`no suite at ${dir}: name a folder of ${suitesDir} (e.g. default) or give a path`);
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name !== SHARED).map((e) => e.name).sort();
  const specs: Spec[] = [];
  for (const name of names) specs.push(await loadSpec(path.join(dir, name)));
  if (specs.length === 0) throw new SuiteError(`the suite at ${dir} has no specs (a folder per spec with a spec.json)`);
  const sharedDir = path.join(dir, SHARED);
  const sharedFiles = existsSync(sharedDir) ? (await readdir(sharedDir)).sort().map((f) => path.join(sharedDir, f)) : [];
  return { name: path.basename(dir), dir, specs, sharedFiles };
}

async function loadSpec(dir: string): Promise<Spec> {
  const file = path.join(dir, 'spec.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SuiteError(`${file}: ${(err as Error).message}`);
  }
  const parsed = specSchema.safeParse(json);
  if (!parsed.success) throw new SuiteError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const spec = parsed.data;
  if (spec.id !== path.basename(dir)) throw new SuiteError(`${file}: id "${spec.id}" must equal its folder's name "${path.basename(dir)}"`);
  const accDir = path.join(dir, 'acceptance');
  const acceptanceFiles = existsSync(accDir) ? (await readdir(accDir)).filter((f) => /\.test\.m?js$/.test(f)).sort().map((f) => path.join(accDir, f)) : [];
  if (acceptanceFiles.length === 0) throw new SuiteError(`${dir}: no acceptance tests (acceptance/*.test.mjs)`);
  let startDir: string | undefined;
  if (spec.start) {
    startDir = path.resolve(dir, spec.start);
    if (!startDir.startsWith(dir + path.sep) || !(await stat(startDir).catch(() => undefined))?.isDirectory()) throw new SuiteError(`${file}: start "${spec.start}" is not a folder of the spec`);
  }
  return { ...spec, dir, acceptanceFiles, ...(startDir ? { startDir } : {}) };
}

/** The specs `--only` names, in the suite's order; an unknown id is an error that lists the known ones. */
export function selectSpecs(suite: Suite, only: readonly string[] | undefined): Spec[] {
  if (!only?.length) return suite.specs;
  const known = new Set(suite.specs.map((s) => s.id));
  const unknown = only.filter((id) => !known.has(id));
  if (unknown.length) throw new SuiteError(`no spec ${unknown.join(', ')} in suite ${suite.name}; it has: ${[...known].join(', ')}`);
  return suite.specs.filter((s) => only.includes(s.id));
}
