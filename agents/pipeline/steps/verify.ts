import type { Architecture } from '../../tools/schemas.js';
import { runBrowserCheck, type BrowserReport } from '../browser-check.js';
import { runSandboxCommand } from '../commands.js';
import { COUNTED_RUNNERS, countTests } from '../test-count.js';
import type { RunContext, StepRef } from '../run-context.js';
import type { StepResult } from './step-result.js';

export interface VerifyOutput {
  passed: boolean;
  /** What decided: declared files missing, the install command failing, the test command, else the browser check. */
  phase: 'files' | 'install' | 'test' | 'browser';
  command: string;
  exitCode: number;
  timedOut: boolean;
  /** The end of its output (capped): what the fixer reads. */
  tail: string;
  /** Tests the test command ran, from its runner's summary (absent: no summary found, or not reached). */
  testsRun?: number;
  /** Why verify failed although no command did (missing files, no tests ran): told to the fixer and the user. */
  problem?: string;
  /** The browser check's findings, when the app was loaded. */
  browser?: BrowserReport;
  /** Why the browser check did not run, when it could have (no image, not a server). */
  note?: string;
}

/**
 * Verify: the files the architecture declares must exist; then the architect's install command (network 'registry': only the host's package cache,
 * a pull-through cache of the registry), then the test command (no network), in the project's sandbox, which must
 * exit 0 having run at least one test (counted from the runner's summary: a command that runs
 * nothing, like `echo "no tests yet"`, does not pass); then, for a web app, the browser check
 * (browser-check.ts: the start command serving `/` to headless Chromium without errors). The step succeeds either way — its output
 * says whether the project passed; the pipeline decides.
 */
export async function runVerify(rc: RunContext, step: StepRef, arch: Architecture): Promise<StepResult<VerifyOutput>> {
  await ensureGitignore(rc);
  const missing = await missingFiles(rc, arch);
  if (missing.length > 0) {
    const problem = `declared files missing: ${missing.join(', ')}`;
    return result({ passed: false, phase: 'files', command: '', exitCode: 0, timedOut: false, tail: `The architecture declares these files, but the workspace has none of them:\n${missing.join('\n')}`, problem });
  }
  const timeoutMs = rc.settings.verifyTimeoutMs;
  const install = arch.commands.install.trim();
  if (install) {
    const r = await runSandboxCommand(rc, step, install, { network: 'registry', timeoutMs, purpose: 'install' });
    if (r.exitCode !== 0 || r.timedOut) {
      return result({ passed: false, phase: 'install', command: install, exitCode: r.exitCode, timedOut: r.timedOut, tail: r.tail });
    }
  }
  const test = arch.commands.test;
  // The project's own variables (PUT …/env) reach the tests, like the preview; never the install (it runs others' scripts with network).
  const projectEnv = (await rc.projectEnv?.()) ?? {};
  const r = await runSandboxCommand(rc, step, test, { network: 'none', timeoutMs, purpose: 'test', projectEnv });
  const testsRun = countTests(r.tail);
  const ran = { phase: 'test' as const, command: test, exitCode: r.exitCode, timedOut: r.timedOut, tail: r.tail, ...(testsRun === undefined ? {} : { testsRun }) };
  if (r.exitCode !== 0 || r.timedOut) return result({ passed: false, ...ran });
  if (!testsRun) {
    const problem = `no tests ran: the test command exited 0 but ${testsRun === 0 ? 'its runner counted 0 tests' : 'printed no test runner summary'}; write real tests and run them with ${COUNTED_RUNNERS}`;
    return result({ passed: false, ...ran, problem });
  }
  const browser = await runBrowserCheck(rc, step, arch);
  if (browser.kind === 'failed') {
    const { problem, exitCode, tail, report } = browser;
    return result({ passed: false, phase: 'browser', command: arch.commands.start, exitCode, timedOut: false, tail, testsRun, problem, ...(report ? { browser: report } : {}) });
  }
  if (browser.kind === 'passed') return result({ passed: true, ...ran, browser: browser.report });
  return result({ passed: true, ...ran, ...(browser.note ? { note: browser.note } : {}) });
}

function result(output: VerifyOutput): StepResult<VerifyOutput> {
  if (output.passed) return { output, summary: `${output.testsRun} test(s) pass${output.browser ? '; the page loads without errors' : ''}` };
  return { output, summary: output.problem ?? `${output.phase} failed (exit ${output.exitCode}${output.timedOut ? ', timed out' : ''})` };
}

/** The architecture's declared paths that are neither a file nor a folder in the workspace. */
async function missingFiles(rc: RunContext, arch: Architecture): Promise<string[]> {
  const tree = await rc.workspace.files.tree({ maxEntries: 50_000 });
  if (tree.truncated) return []; // too large to list: the test command decides alone
  const present = new Set(tree.entries.map((e) => e.path));
  return arch.files.map((f) => f.path.replace(/^\.\//, '').replace(/\/+$/, '')).filter((p) => p && !present.has(p));
}

/** Installed dependencies must not land in the step commits (every step commits `git add --all`). */
async function ensureGitignore(rc: RunContext): Promise<void> {
  const existing = await rc.workspace.files.readFile('.gitignore').catch(() => undefined);
  if (existing && !existing.binary && /^\/?node_modules\/?$/m.test(existing.content)) return;
  const before = existing && !existing.binary ? existing.content.replace(/\n?$/, '\n') : '';
  await rc.workspace.files.writeFile('.gitignore', `${before}node_modules/\n`);
}
