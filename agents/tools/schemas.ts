import { z } from 'zod';
import type { ToolSpec } from '../../llm/providers/port.js';

/**
 * The agents' tools (PRODUCT.md "The agents' tools"): fixed names, zod schemas as the single
 * source of truth — the JSON Schema the model sees is generated from the same schema that
 * validates its arguments, so the two cannot drift apart.
 */

const id = z.string().trim().min(1).max(40);
const path = z.string().min(1).max(512).describe('Relative to the workspace root, e.g. src/index.js');

export const submitPlanArgs = z.object({
  summary: z.string().trim().min(1).max(4000),
  tasks: z
    .array(z.object({ id, title: z.string().trim().min(1).max(200), description: z.string().max(4000) }))
    .min(1)
    .max(50),
});
export type Plan = z.infer<typeof submitPlanArgs>;

export const submitArchitectureArgs = z.object({
  stack: z.string().trim().min(1).max(1000),
  files: z.array(z.object({ path, purpose: z.string().max(1000) })).max(500),
  commands: z.object({
    install: z.string().max(1000).describe('May be empty when there is nothing to install'),
    test: z.string().trim().min(1).max(1000),
    start: z.string().max(1000),
  }),
});
export type Architecture = z.infer<typeof submitArchitectureArgs>;

export const listFilesArgs = z.object({});
export const readFileArgs = z.object({
  path,
  fromLine: z.number().int().min(1).max(10_000_000).optional().describe('First line to show (1-based); a long file is shown in windows of about 400 lines'),
});
export const writeFileArgs = z.object({ path, content: z.string() });
export const editFileArgs = z.object({
  path,
  edits: z
    .array(
      z.object({
        search: z.string().min(1).max(20_000).describe('Exact text of the file to replace, with enough lines around it to match once'),
        replace: z.string().max(100_000).describe('The text to put in its place'),
      }),
    )
    .min(1)
    .max(50),
});
export const runCommandArgs = z.object({ command: z.string().trim().min(1).max(4000) });
export const finishArgs = z.object({ summary: z.string().max(4000) });

function spec(name: string, description: string, schema: z.ZodType): ToolSpec {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(schema) as Record<string, unknown>;
  return { name, description, parameters };
}

export const SUBMIT_PLAN = spec('submit_plan', 'Submit the plan: a summary and the ordered coding tasks.', submitPlanArgs);
export const SUBMIT_ARCHITECTURE = spec('submit_architecture', 'Submit the stack, the file layout and the install/test/start commands.', submitArchitectureArgs);

/** The coder's and the fixer's tools, with the schema that validates each one's arguments. */
export const WORKSPACE_TOOLS = {
  list_files: { schema: listFilesArgs, spec: spec('list_files', 'List the files of the workspace.', listFilesArgs) },
  read_file: { schema: readFileArgs, spec: spec('read_file', 'Read a text file of the workspace.', readFileArgs) },
  write_file: { schema: writeFileArgs, spec: spec('write_file', 'Create a new file of the workspace with its whole content. To change an existing file, use edit_file.', writeFileArgs) },
  edit_file: {
    schema: editFileArgs,
    spec: spec('edit_file', 'Change an existing file: each edit replaces the one place where `search` matches with `replace`. All edits apply, or none.', editFileArgs),
  },
  run_command: { schema: runCommandArgs, spec: spec('run_command', 'Run a shell command in the project sandbox (workspace at /workspace). No network, except a package install on its own (npm install|ci|add, pnpm, yarn), which reaches the package registry.', runCommandArgs) },
  finish: { schema: finishArgs, spec: spec('finish', 'End this task with a short summary of what was done.', finishArgs) },
} as const;
export type WorkspaceToolName = keyof typeof WORKSPACE_TOOLS;
export const WORKSPACE_TOOL_SPECS: ToolSpec[] = Object.values(WORKSPACE_TOOLS).map((t) => t.spec);

export const searchArgs = z.object({
  query: z.string().min(1).max(200).describe('Plain text to look for (not a regular expression); case-insensitive unless it has an upper-case letter'),
  under: path.optional().describe('Only files under this folder, e.g. src'),
});

/** The project chat's tools: read-only (chat never changes the workspace). */
export const CHAT_TOOLS = {
  list_files: WORKSPACE_TOOLS.list_files,
  read_file: WORKSPACE_TOOLS.read_file,
  search: { schema: searchArgs, spec: spec('search', "Find the lines of the workspace's text files that contain a text, as path:line: text.", searchArgs) },
} as const;
export type ChatToolName = keyof typeof CHAT_TOOLS;
export const CHAT_TOOL_SPECS: ToolSpec[] = Object.values(CHAT_TOOLS).map((t) => t.spec);

/**
 * Parses a tool call's raw JSON arguments against its schema. The message is for the model: it
 * names what is wrong (bad JSON, the missing or invalid field) and never carries a stack trace.
 */
export function parseToolArgs<T>(schema: z.ZodType<T>, raw: string): { ok: true; value: T } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (err) {
    return { ok: false, error: `The arguments are not valid JSON (${(err as Error).message}). Send one JSON object.` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`);
  return { ok: false, error: `Invalid arguments: ${issues.join('; ')}` };
}
