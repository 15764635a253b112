import { AppError } from '../../core/errors.js';
import { parseSafePath, type WorkspaceFiles } from '../../workspaces/index.js';

/**
 * The read-only workspace tools, shared by the coder/fixer (tool-executor.ts) and the project
 * chat (agents/chat/): what each returns to the model, with bounded output so one call cannot
 * flood the prompt.
 */

/** One read_file result at most: about 400 lines of code, 4,000 tokens. */
export const READ_CAP_CHARS = 16_000;
export const LIST_CAP = 500;

/** `list_files`: one line per file with its size, cut at LIST_CAP entries. */
export async function listFilesText(files: WorkspaceFiles): Promise<string> {
  const tree = await files.tree({ maxEntries: LIST_CAP });
  const lines = tree.entries.filter((e) => e.type !== 'dir').map((e) => (e.type === 'file' ? `${e.path} (${e.size} bytes)` : `${e.path} (symlink)`));
  return lines.length ? lines.join('\n') + (tree.truncated ? `\n… (listing cut at ${LIST_CAP} entries)` : '') : '(the workspace is empty)';
}

/**
 * `read_file`: the text, from line `fromLine` on; a binary file is named, not shown. The git
 * repository's internals (`.git/`, e.g. its config) are not the project's files and are refused.
 */
export async function readFileText(files: WorkspaceFiles, rawPath: string, fromLine = 1): Promise<string> {
  const { rel: p, segments } = parseSafePath(rawPath);
  if (segments[0] === '.git') throw new AppError('E_PATH_UNSAFE', `${p} is inside the git repository's internals, not a project file.`);
  const file = await files.readFile(p);
  if (file.binary) return `${p} is a binary file of ${file.size} bytes.`;
  return readWindow(p, file.content, fromLine);
}

/**
 * What one read shows: whole lines from `fromLine` (1-based) up to READ_CAP_CHARS, and where to
 * read on. Every result stays in the prompt for a while (history-compaction.ts), so one read is
 * bounded well below the history's verbatim budget; a longer file is read in windows.
 */
export function readWindow(path: string, content: string, fromLine = 1): string {
  if (fromLine === 1 && content.length <= READ_CAP_CHARS) return content;
  const lines = content.split('\n');
  if (content.endsWith('\n')) lines.pop();
  const total = lines.length;
  if (fromLine > total) throw new AppError('E_VALIDATION', `${path} has ${total} lines; fromLine ${fromLine} is past its end.`);
  let end = fromLine - 1;
  let chars = 0;
  while (end < total && chars + lines[end]!.length + 1 <= READ_CAP_CHARS) chars += lines[end++]!.length + 1;
  if (end === fromLine - 1) {
    const line = lines[end]!;
    return `${line.slice(0, READ_CAP_CHARS)}\n… (line ${fromLine} of ${path} is ${line.length} characters long, cut at ${READ_CAP_CHARS}: a generated or minified file; look into it with run_command, e.g. grep -o)`;
  }
  const next = end < total ? `read on with fromLine: ${end + 1}` : 'the end of the file';
  return `${lines.slice(fromLine - 1, end).join('\n')}\n… (${path}: lines ${fromLine}–${end} of ${total} shown; ${next})`;
}

/** Bounds of one `search` call: files looked at, bytes per file, matching lines and characters returned. */
export const SEARCH_LIMITS = { files: 2000, fileBytes: 512 * 1024, matches: 100, lineChars: 200, outputChars: 16_000 } as const;
const READ_BATCH = 32;

/**
 * `search`: the lines of the workspace's text files that contain `query` (plain text, not a
 * regular expression — a model's pattern cannot make it backtrack for minutes), case-insensitive
 * unless the query has an upper-case letter, as `path:line: text`. Only files under `under` when
 * given; binary files and files over SEARCH_LIMITS.fileBytes are skipped; the output says where it
 * was cut.
 */
export async function searchText(files: WorkspaceFiles, query: string, under?: string): Promise<string> {
  const prefix = under ? `${parseSafePath(under).rel}/` : '';
  const caseSensitive = query !== query.toLowerCase();
  const needle = caseSensitive ? query : query.toLowerCase();
  const tree = await files.tree({ maxEntries: SEARCH_LIMITS.files });
  const out: string[] = [];
  let chars = 0;
  let cut = tree.truncated ? `the search looked at the first ${SEARCH_LIMITS.files} entries only` : '';
  const candidates = tree.entries.filter((e) => e.type === 'file' && e.size <= SEARCH_LIMITS.fileBytes && (!prefix || e.path.startsWith(prefix)));
  const matching = (text: string) => (caseSensitive ? text : text.toLowerCase()).includes(needle);
  scan: for (let b = 0; b < candidates.length; b += READ_BATCH) {
    // A batch is read at once (each checked read is several syscalls), then scanned in order.
    const batch = await Promise.all(candidates.slice(b, b + READ_BATCH).map((e) => files.readFile(e.path, { maxBytes: SEARCH_LIMITS.fileBytes }).catch(() => undefined)));
    for (const file of batch) {
      if (!file || file.binary || !matching(file.content)) continue;
      for (const [n, line] of file.content.split('\n').entries()) {
        if (!matching(line)) continue;
        const text = line.length > SEARCH_LIMITS.lineChars ? `${line.slice(0, SEARCH_LIMITS.lineChars)}…` : line;
        const entry = `${file.path}:${n + 1}: ${text.trim()}`;
        if (out.length === SEARCH_LIMITS.matches || chars + entry.length > SEARCH_LIMITS.outputChars) {
          cut = `results cut at ${out.length} matches; search for something more specific or pass "under"`;
          break scan;
        }
        out.push(entry);
        chars += entry.length + 1;
      }
    }
  }
  const body = out.length ? out.join('\n') : `No line contains "${query}"${prefix ? ` under ${prefix}` : ''}.`;
  return cut ? `${body}\n… (${cut})` : body;
}
