import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserCheckPort, BrowserProblem } from '../sandbox/browser-port.js';
import type { SandboxPort } from '../sandbox/port.js';
import { extractZip } from '../workspaces/zip/read.js';
import type { Spec } from './suite.js';

/**
 * The independent judge: the hidden acceptance tests of a spec run against a clean copy of the
 * project (the exported ZIP unpacked into a new folder: nothing of the run's workspace comes
 * along), in the sandbox, with no network unless the project declares dependencies to install.
 * A web spec is then loaded in the sandboxed browser, which performs the spec's probe steps.
 */

/** Where the acceptance tests go in the project under judgement: a name no app uses. */
export const ACCEPTANCE_DIR = '__acceptance__';
const OUTPUT_CHARS = 4000;

export interface AcceptanceOutcome {
  passed: boolean;
  /** Counts from the node:test summary (0/0 when it never got to print one). */
  tests: { pass: number; fail: number };
  /** The names of the failing tests (node:test's `not ok` lines). */
  failing: string[];
  /** The end of the acceptance output (or the install's, when it failed). */
  output: string;
  timedOut: boolean;
  /** The browser probe of a web spec (absent for the others, and when the tests failed first). */
  browser?: { passed: boolean; log: string[]; problems: string[]; note?: string };
}

export interface JudgeCase {
  /** The project's folder, relative to the judge's root (one container mounts the root for all cases). */
  rel: string;
  spec: Spec;
}

/** Unpacks the exported ZIP into `dir` (which must be new) and puts the acceptance tests beside it. */
export async function prepareFromZip(dir: string, zip: Buffer, spec: Spec, sharedFiles: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await extractZip(zip, dir);
  await addAcceptance(dir, spec, sharedFiles);
}

/** Copies a folder of the suite (a reference or wrong solution) into `dir`, then the acceptance tests. */
export async function prepareFromFolder(dir: string, folder: string, spec: Spec, sharedFiles: readonly string[]): Promise<void> {
  await cp(folder, dir, { recursive: true });
  await addAcceptance(dir, spec, sharedFiles);
}

async function addAcceptance(dir: string, spec: Spec, sharedFiles: readonly string[]): Promise<void> {
  const acc = path.join(dir, ACCEPTANCE_DIR);
  await mkdir(acc, { recursive: true });
  for (const f of [...sharedFiles, ...spec.acceptanceFiles]) await cp(f, path.join(acc, path.basename(f)));
}

export interface JudgeOptions {
  sandbox: SandboxPort;
  /** Absent: web specs are judged on their acceptance tests alone, with a note. */
  browser?: BrowserCheckPort | undefined;
  /** Per command (install, tests). */
  timeoutMs?: number;
}

/**
 * Judges each case in turn in one sandbox container that mounts `root` (cheap for a batch: the
 * suite's own test judges 24 solutions at once). Removes the container afterwards.
 */
export async function judge(root: string, cases: readonly JudgeCase[], options: JudgeOptions): Promise<AcceptanceOutcome[]> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const handle = await options.sandbox.acquire(`eval-${randomBytes(6).toString('hex')}`, root);
  const outcomes: AcceptanceOutcome[] = [];
  try {
    for (const c of cases) {
      const cwd = path.posix.join('/workspace', c.rel.split(path.sep).join('/'));
      if (await hasDependencies(path.join(root, c.rel))) {
        const install = await handle.exec('npm install --no-audit --no-fund --ignore-scripts', { cwd, network: 'registry', timeoutMs });
        if (install.exitCode !== 0) {
          outcomes.push({ passed: false, tests: { pass: 0, fail: 0 }, failing: [], output: `npm install failed (exit ${install.exitCode}):\n${tail(install.stdout + install.stderr)}`, timedOut: install.timedOut });
          continue;
        }
      }
      const files = c.spec.acceptanceFiles.map((f) => `${ACCEPTANCE_DIR}/${path.basename(f)}`).join(' ');
      const r = await handle.exec(`node --test --test-reporter=tap ${files}`, { cwd, network: 'none', timeoutMs });
      const text = r.stdout + (r.stderr ? `\n${r.stderr}` : '');
      const outcome: AcceptanceOutcome = {
        passed: r.exitCode === 0 && !r.timedOut,
        tests: { pass: summary(text, 'pass'), fail: summary(text, 'fail') },
        failing: [...text.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1]!.trim()),
        output: failureText(text),
        timedOut: r.timedOut,
      };
      if (outcome.passed && c.spec.browser) outcome.browser = await probe(options.browser, path.join(root, c.rel), c.spec);
      if (outcome.browser && !outcome.browser.passed) outcome.passed = false;
      outcomes.push(outcome);
    }
  } finally {
    await handle.destroy();
  }
  return outcomes;
}

async function probe(browser: BrowserCheckPort | undefined, dir: string, spec: Spec): Promise<NonNullable<AcceptanceOutcome['browser']>> {
  const b = spec.browser!;
  if (!browser) return { passed: true, log: [], problems: [], note: 'browser check off (SAMOKODER_BROWSER_CHECK or the sandbox is disabled): judged on the acceptance tests alone' };
  const r = await browser.check({ projectId: `eval-${randomBytes(6).toString('hex')}`, workspaceDir: dir, command: b.start, probe: b.steps });
  switch (r.kind) {
    case 'unavailable':
      return { passed: true, log: [], problems: [], note: `browser check unavailable here (${r.reason}): judged on the acceptance tests alone` };
    case 'exited':
    case 'not-listening':
      return { passed: false, log: [`FAILED \`${b.start}\` ${r.kind === 'exited' ? `exited with ${r.exitCode}` : 'never listened on $PORT'}`], problems: [tail(r.output)] };
    case 'loaded': {
      const problems = r.problems.map((p: BrowserProblem) => p.text.split('\n')[0]!);
      const passed = (r.probe?.passed ?? false) && problems.length === 0;
      return { passed, log: r.probe?.log ?? [], problems };
    }
  }
}

async function hasDependencies(dir: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: object; devDependencies?: object };
    return Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length > 0;
  } catch {
    return false;
  }
}

const summary = (text: string, what: 'pass' | 'fail'): number => Number(new RegExp(`^# ${what} (\\d+)\\s*$`, 'm').exec(text)?.[1] ?? 0);
/** The failing tests' TAP blocks (what was expected, what came), else the end of the output (a crash, a timeout). */
function failureText(text: string): string {
  const blocks = [...text.matchAll(/^( *)not ok \d+ - .*\n(?:\1 {2}.*\n)*/gm)].map((m) => m[0].replace(/^ *stack: \|-\n(?: {4,}.*\n)*/gm, ''));
  return blocks.length ? tail(blocks.join('')) : tail(text);
}

const tail = (text: string): string => (text.length <= OUTPUT_CHARS ? text : `…${text.slice(-OUTPUT_CHARS)}`);
