import type { Workspace } from '../../workspaces/index.js';
import type { Architecture, Plan } from '../tools/schemas.js';

/**
 * What each agent is sent. The rule: the plan, the architecture, the task and a tree listing (paths
 * only) always; file *contents* only for the files the task or the failure names, capped. So the
 * prompt grows with the number of paths, not with the size of the project.
 */

const TREE_CAP = 400;
const FILE_CAP_CHARS = 8_000;
const FILES_CAP_CHARS = 24_000;
const MAX_FILES = 8;
/** The project's conventions file, read by every agent (the name other coding agents read too). */
export const RULES_FILE = 'AGENTS.md';
const RULES_CAP_CHARS = 6_000;

export interface TreeListing {
  paths: string[];
  text: string;
}

export async function treeListing(ws: Workspace): Promise<TreeListing> {
  const tree = await ws.files.tree({ maxEntries: TREE_CAP * 2 });
  const paths = tree.entries.filter((e) => e.type === 'file').map((e) => e.path);
  const shown = paths.slice(0, TREE_CAP);
  const more = paths.length - shown.length + (tree.truncated ? 1 : 0);
  const text = shown.length ? shown.join('\n') + (more > 0 ? `\n… and more files (listing cut at ${TREE_CAP})` : '') : '(empty)';
  return { paths, text };
}

/**
 * An agent's system prompt with the project's rules: the workspace's AGENTS.md, when it has one,
 * appended (cut at RULES_CAP_CHARS, so a huge file cannot crowd out the task). Part of the system
 * prompt rather than the message because it is the same on every call of the run: the stable,
 * cacheable prefix. Read at each step's start, so a file the run itself writes counts from the
 * next step on.
 */
export async function withProjectRules(ws: Workspace, system: string): Promise<string> {
  const f = await ws.files.readFile(RULES_FILE).catch(() => undefined);
  const rules = f && !f.binary ? f.content.trim() : '';
  if (!rules) return system;
  const body = rules.length > RULES_CAP_CHARS ? `${rules.slice(0, RULES_CAP_CHARS)}\n… (cut at ${RULES_CAP_CHARS} characters)` : rules;
  return `${system}\n\n## Project rules (${RULES_FILE} in the workspace; they bind your work)\n${body}`;
}

export function planText(plan: Plan, currentTaskId?: string): string {
  const tasks = plan.tasks.map((t) => `- ${t.id === currentTaskId ? '[current] ' : ''}${t.id}: ${t.title}`).join('\n');
  return `## Plan\n${plan.summary}\n\nTasks:\n${tasks}`;
}

export function architectureText(arch: Architecture): string {
  const files = arch.files.map((f) => `- ${f.path}: ${f.purpose}`).join('\n');
  return `## Architecture\nStack: ${arch.stack}\nCommands: install \`${arch.commands.install || '(none)'}\`, test \`${arch.commands.test}\`, start \`${arch.commands.start}\`\nFiles:\n${files}`;
}

/** Paths of `candidates` that `text` names, by full path or (for unambiguous names) by file name. */
export function namedPaths(text: string, candidates: readonly string[]): string[] {
  const byName = new Map<string, string[]>();
  for (const p of candidates) {
    const name = p.split('/').at(-1)!;
    byName.set(name, [...(byName.get(name) ?? []), p]);
  }
  return candidates.filter((p) => {
    if (text.includes(p)) return true;
    const name = p.split('/').at(-1)!;
    return byName.get(name)!.length === 1 && name.includes('.') && new RegExp(`(^|[^\\w./-])${escapeRe(name)}($|[^\\w-])`).test(text);
  });
}

/** The contents of up to MAX_FILES existing files, each and all capped. */
export async function fileContents(ws: Workspace, paths: readonly string[]): Promise<string> {
  const parts: string[] = [];
  let budget = FILES_CAP_CHARS;
  for (const p of paths.slice(0, MAX_FILES)) {
    if (budget <= 0) break;
    const f = await ws.files.readFile(p).catch(() => undefined);
    if (!f || f.binary) continue;
    const cap = Math.min(FILE_CAP_CHARS, budget);
    const body = f.content.length > cap ? `${f.content.slice(0, cap)}\n… (cut)` : f.content;
    budget -= body.length;
    parts.push(`### ${p}\n\`\`\`\n${body}\n\`\`\``);
  }
  return parts.join('\n\n');
}

export function plannerMessage(input: { prompt: string; kind: 'generate' | 'change'; currentPlan?: Plan | undefined; tree?: TreeListing | undefined }): string {
  if (input.kind === 'generate' && !input.tree?.paths.length) return `## Request\n${input.prompt}`;
  return [
    `## Change request\n${input.prompt}`,
    input.currentPlan ? `## Current plan\n${input.currentPlan.summary}\n${input.currentPlan.tasks.map((t) => `- ${t.id}: ${t.title}`).join('\n')}` : '',
    `## Workspace files\n${input.tree?.text ?? '(empty)'}`,
  ].filter(Boolean).join('\n\n');
}

export function architectMessage(input: { prompt: string; plan: Plan; current?: Architecture | undefined; tree: TreeListing }): string {
  return [
    `## Request\n${input.prompt}`,
    planText(input.plan),
    input.current ? `## Current architecture (keep it unless the change needs otherwise)\n${architectureText(input.current)}` : '',
    input.tree.paths.length ? `## Workspace files\n${input.tree.text}` : '',
  ].filter(Boolean).join('\n\n');
}

export async function coderMessage(ws: Workspace, input: { plan: Plan; arch: Architecture; taskId: string }): Promise<string> {
  const task = input.plan.tasks.find((t) => t.id === input.taskId)!;
  const tree = await treeListing(ws);
  const taskText = `${task.title}\n${task.description}`;
  const named = namedPaths(taskText, tree.paths);
  const files = await fileContents(ws, named);
  return [
    planText(input.plan, task.id),
    architectureText(input.arch),
    `## Workspace files\n${tree.text}`,
    `## Your task: ${task.id}\n${taskText}`,
    files ? `## Files this task names\n${files}` : '',
  ].filter(Boolean).join('\n\n');
}

export async function fixerMessage(ws: Workspace, input: { plan: Plan; arch: Architecture; failure: { phase: string; command: string; exitCode: number; tail: string; problem?: string | undefined }; round: number }): Promise<string> {
  const tree = await treeListing(ws);
  let relevant = namedPaths(input.failure.tail, tree.paths);
  // Nothing named in the output (e.g. a bare assertion message): the tests and the sources are the suspects.
  if (relevant.length === 0) relevant = tree.paths.filter((p) => /test|spec/i.test(p)).concat(input.arch.files.map((f) => f.path).filter((p) => tree.paths.includes(p)));
  // One level of imports: a failing test names its test file; the bug is usually in what it imports.
  const named = await fileContents(ws, relevant);
  relevant = [...relevant, ...namedPaths(named, tree.paths.filter((p) => !/(^|\/)(package-lock\.json|\.gitignore)$/.test(p)))];
  const files = await fileContents(ws, [...new Set(relevant)]);
  return [
    planText(input.plan),
    architectureText(input.arch),
    `## Workspace files\n${tree.text}`,
    `## Failure (fix round ${input.round})\n${failureText(input.failure)}`,
    files ? `## Relevant files\n${files}` : '',
  ].filter(Boolean).join('\n\n');
}

/** What failed: verify's own finding (missing files, no tests ran) first, then the command's output. */
function failureText(f: { phase: string; command: string; exitCode: number; tail: string; problem?: string | undefined }): string {
  const output = `\`\`\`\n${f.tail}\n\`\`\``;
  if (f.phase === 'files' || f.phase === 'browser') return `Verify failed: ${f.problem}.\n${output}`;
  const ran = `The ${f.phase} command \`${f.command}\` exited with ${f.exitCode}.`;
  return `${f.problem ? `Verify failed: ${f.problem}. ` : ''}${ran} The end of its output:\n${output}`;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
