import type { Architecture } from '../tools/schemas.js';
import { RunScreenshotsRepo } from '../../db/repos/run-screenshots.js';
import type { BrowserProblem } from '../../sandbox/browser-port.js';
import { tailOf } from './commands.js';
import type { RunContext, StepRef } from './run-context.js';

/** What verify keeps of a browser check: told to the fixer (as text) and the user (the step output). */
export interface BrowserReport {
  url: string;
  problems: BrowserProblem[];
  /** Requests to other origins the page made; they fail by design (the browser's network reaches only the app). */
  blockedRequests: string[];
  screenshot: boolean;
}

export type BrowserVerdict =
  /** Nothing to check (no start command, check off, a CLI) or nothing could (no image): a note for the verify output, if any. */
  | { kind: 'skipped'; note?: string }
  | { kind: 'passed'; report: BrowserReport }
  | { kind: 'failed'; problem: string; exitCode: number; tail: string; report?: BrowserReport };

const EVENT_ERRORS = 10;

/**
 * Verify's browser phase: the architecture's start command is run with PORT and HOST set; when it
 * listens, `/` is loaded in headless Chromium (both in containers, sandbox/docker-browser.ts) and
 * any page error, console error or failed same-origin request fails verify. A start command
 * that exits 0 before listening is not a server (a CLI, a library): nothing to load. The screenshot
 * is stored per run; `browser.checked` records the outcome.
 */
export async function runBrowserCheck(rc: RunContext, step: StepRef, arch: Architecture): Promise<BrowserVerdict> {
  const command = arch.commands.start.trim();
  if (!command || !rc.browser) return { kind: 'skipped' };
  const r = await rc.browser.port.check({ projectId: rc.run.projectId, ownerId: rc.run.userId, workspaceDir: rc.workspace.dir, command, signal: rc.signal });
  const port = rc.browser.appPort;
  switch (r.kind) {
    case 'unavailable':
      rc.logger.warn({ reason: r.reason }, 'verify: browser check skipped');
      return { kind: 'skipped', note: `browser check skipped: ${r.reason}` };
    case 'exited':
      if (r.exitCode === 0) return { kind: 'skipped', note: 'browser check skipped: the start command exited 0 without listening on $PORT (not a web server)' };
      await checkedEvent(rc, step, { url: '', ok: false, errors: [`the start command exited with ${r.exitCode}`], screenshot: false });
      return { kind: 'failed', exitCode: r.exitCode, tail: tailOf(r.output), problem: `the start command \`${command}\` exited with ${r.exitCode} before it listened on port ${port} (PORT=${port}, HOST=0.0.0.0)` };
    case 'not-listening':
      await checkedEvent(rc, step, { url: '', ok: false, errors: ['the start command never listened'], screenshot: false });
      return { kind: 'failed', exitCode: 0, tail: tailOf(r.output), problem: `the start command \`${command}\` did not listen on port ${port} within ${rc.browser.startTimeoutMs} ms; a web app must listen on process.env.PORT and process.env.HOST` };
  }
  if (r.screenshot) await new RunScreenshotsRepo(rc.db).save(rc.run.id, r.screenshot);
  const report: BrowserReport = { url: r.url, problems: r.problems, blockedRequests: r.blockedRequests, screenshot: r.screenshot !== undefined };
  await checkedEvent(rc, step, { url: r.url, ok: r.problems.length === 0, errors: r.problems.slice(0, EVENT_ERRORS).map((p) => p.text.slice(0, 500)), screenshot: report.screenshot });
  if (r.problems.length === 0) return { kind: 'passed', report };
  return { kind: 'failed', exitCode: 0, tail: reportText(report, r.output), problem: `the page at ${r.url} showed ${r.problems.length} error(s) in the browser: ${r.problems[0]!.text.split('\n')[0]}`, report };
}

function checkedEvent(rc: RunContext, step: StepRef, data: { url: string; ok: boolean; errors: string[]; screenshot: boolean }): Promise<unknown> {
  return rc.events.append('browser.checked', { stepSeq: step.seq, ...data });
}

/** The browser report as the fixer reads it: each error with its URL, then the app's output. */
function reportText(report: BrowserReport, output: string): string {
  const lines = report.problems.map((p) => `[${p.kind === 'pageerror' ? 'uncaught error' : p.kind === 'console' ? 'console error' : 'failed request'}] ${p.text}${p.url && !p.text.includes(p.url) ? ` (at ${p.url})` : ''}`);
  const blocked = report.blockedRequests.length ? `\nRequests to other origins (blocked: the app must serve everything it needs itself):\n${report.blockedRequests.join('\n')}` : '';
  return tailOf(`Browser report for ${report.url}:\n${lines.join('\n')}${blocked}\n\nThe app's output:\n${output}`);
}
