import { isAppError } from '../../core/errors.js';
import { mib, NO_SPACE_TEXT, parseSafePath } from '../../workspaces/index.js';
import type { ToolCall } from '../../llm/providers/port.js';
import { listFilesText, readFileText } from '../tools/read-tools.js';
import { parseToolArgs, WORKSPACE_TOOLS, type WorkspaceToolName } from '../tools/schemas.js';
import { networkForAgentCommand } from './install-command.js';
import { runSandboxCommand } from './commands.js';
import { applyEdits, type Edit } from './edit-file.js';
import type { RunContext, StepRef } from './run-context.js';
import { RunStop } from './run-stop.js';
import type { EventInput } from '../../protocol/event-catalogue.js';

export interface ToolResult {
  /** What the model reads: the result, or an error it can act on (never a stack trace). */
  content: string;
  isError: boolean;
  /** The call itself was wrong (unknown tool, bad JSON, missing field, unsafe path): counts toward K in a row. */
  invalid: boolean;
  /** Set by `finish`. */
  finishSummary?: string;
  /** Set by a successful write_file or edit_file. */
  written?: { path: string; size: number };
}

/** Workspace errors a model can fix by changing its call; everything else is ours (logged, not shown). */
const MODEL_FIXABLE = new Set(['E_PATH_UNSAFE', 'E_FILE_TOO_LARGE', 'E_NOT_FOUND', 'E_VALIDATION', 'E_WORKSPACE_QUOTA']);

/**
 * Runs one coder/fixer tool call and records `tool.called` (and `file.written`) in one
 * transaction. An abort (cancel, lease loss) propagates; every other failure becomes a tool error.
 */
export async function executeTool(rc: RunContext, step: StepRef, call: ToolCall): Promise<ToolResult> {
  const result = await dispatch(rc, step, call);
  const events: EventInput<'tool.called' | 'file.written'>[] = [
    { type: 'tool.called', data: { stepSeq: step.seq, name: call.name, ok: !result.isError, ...(result.isError ? { error: result.content.slice(0, 500) } : {}), ...pathOf(call) } },
  ];
  if (result.written) events.push({ type: 'file.written', data: { stepSeq: step.seq, ...result.written } });
  await rc.events.appendMany(events);
  return result;
}

async function dispatch(rc: RunContext, step: StepRef, call: ToolCall): Promise<ToolResult> {
  if (!(call.name in WORKSPACE_TOOLS)) {
    return invalid(`Unknown tool "${call.name}". The tools are: ${Object.keys(WORKSPACE_TOOLS).join(', ')}.`);
  }
  const name = call.name as WorkspaceToolName;
  const parsed = parseToolArgs<Record<string, unknown>>(WORKSPACE_TOOLS[name].schema as never, call.arguments);
  if (!parsed.ok) return invalid(parsed.error);
  const args = parsed.value;
  const { files } = rc.workspace;
  try {
    switch (name) {
      case 'list_files':
        return ok(await listFilesText(files));
      case 'read_file':
        return ok(await readFileText(files, String(args.path), args.fromLine as number | undefined));
      case 'write_file': {
        const p = parseSafePath(String(args.path)).rel;
        const { size } = await files.writeFile(p, String(args.content));
        return { ...ok(`Wrote ${p} (${size} bytes).`), written: { path: p, size } };
      }
      case 'edit_file': {
        const p = parseSafePath(String(args.path)).rel;
        const file = await files.readFile(p);
        if (file.binary) return { content: `${p} is a binary file; edit_file changes text files.`, isError: true, invalid: false };
        const edited = applyEdits(file.content, args.edits as Edit[]);
        if (!edited.ok) return { content: edited.error, isError: true, invalid: false };
        const { size } = await files.writeFile(p, edited.content);
        const n = (args.edits as Edit[]).length;
        const note = edited.whitespaceTolerant > 0 ? ` (${edited.whitespaceTolerant} matched with whitespace ignored)` : '';
        return { ...ok(`Edited ${p}: ${n} edit(s) applied${note}; ${size} bytes now.`), written: { path: p, size } };
      }
      case 'run_command': {
        const command = String(args.command);
        const network = networkForAgentCommand(command);
        const r = await runSandboxCommand(rc, step, command, { network, timeoutMs: rc.settings.commandTimeoutMs, purpose: network === 'registry' ? 'install' : 'agent' });
        const status = r.timedOut ? `timed out after ${rc.settings.commandTimeoutMs} ms` : `exit code ${r.exitCode}`;
        const content = `${status}${r.truncated ? ' (output cut at the sandbox cap)' : ''}\n${r.tail}`;
        const full = await quotaNotice(rc, r.tail);
        return full ? { content: `${content}\n\n${full}`, isError: true, invalid: false } : ok(content);
      }
      case 'finish':
        return { ...ok('Task finished.'), finishSummary: String(args.summary) };
    }
  } catch (err) {
    if (rc.signal.aborted) throw err;
    // The run must end (a plan limit, no sandbox): not something the model can work around.
    if (err instanceof RunStop) throw err;
    if (isAppError(err) && err.code === 'E_PATH_UNSAFE') return invalid(`Refused: ${err.message} Use a path relative to the workspace, without "..".`);
    if (isAppError(err) && MODEL_FIXABLE.has(err.code)) return { content: err.message, isError: true, invalid: false };
    if (isAppError(err) && err.code === 'E_CANCELLED') throw err;
    rc.logger.error({ err, tool: name, runId: rc.run.id, stepSeq: step.seq }, 'tool failed');
    return { content: `The ${name} tool failed on the service side; try again or take another approach.`, isError: true, invalid: false };
  }
}

/**
 * After a command: when the workspace is at its disk quota, what the model must read to recover
 * (the command's own "No space left on device" does not say that deleting files helps, nor that
 * the step cannot be committed otherwise). ENOSPC from the sandbox's small /tmp, with the
 * workspace far from full, is not this.
 */
async function quotaNotice(rc: RunContext, output: string): Promise<string | undefined> {
  const { quota } = rc.workspace;
  if (quota.mode === 'off') return undefined;
  const u = await quota.usage();
  if (!u.full && !(NO_SPACE_TEXT.test(output) && u.usedBytes >= u.limitBytes * 0.9)) return undefined;
  return (
    `The workspace is at its disk quota: ${mib(u.usedBytes)} used of ${mib(u.limitBytes)} (files and git history together). ` +
    'Delete what the project does not need (large generated or downloaded files, build output) with run_command before anything else: ' +
    'a step that ends over the quota cannot be committed, and the run then stops (workspace_quota).'
  );
}

const ok = (content: string): ToolResult => ({ content, isError: false, invalid: false });
const invalid = (content: string): ToolResult => ({ content, isError: true, invalid: true });

/** The path or command a call named, for the event (never file contents). */
function pathOf(call: ToolCall): { path?: string; command?: string } {
  try {
    const a = JSON.parse(call.arguments) as { path?: unknown; command?: unknown };
    return {
      ...(typeof a.path === 'string' ? { path: a.path.slice(0, 512) } : {}),
      ...(typeof a.command === 'string' ? { command: a.command.slice(0, 512) } : {}),
    };
  } catch {
    return {};
  }
}
