/**
 * The edit_file tool's engine: search/replace blocks applied to a file's text, all or none.
 *
 * Each `search` must match exactly once. When it does not match byte for byte, a second pass
 * compares whole lines with their surrounding whitespace ignored (models often get indentation
 * or trailing spaces wrong); the block must still match exactly once. A miss answers with the
 * nearest lines of the file, numbered, so the model can copy the real text; an ambiguous match
 * answers with the lines where it matches, so the model can add context.
 */
export interface Edit {
  search: string;
  replace: string;
}

export type EditOutcome = { ok: true; content: string; whitespaceTolerant: number } | { ok: false; error: string };

/** Lines shown around the nearest match of a missed search. */
const CONTEXT_LINES = 3;

export function applyEdits(original: string, edits: readonly Edit[]): EditOutcome {
  let content = original;
  let whitespaceTolerant = 0;
  for (const [i, edit] of edits.entries()) {
    const which = edits.length > 1 ? `Edit ${i + 1} of ${edits.length}: ` : '';
    if (edit.search === '') return { ok: false, error: `${which}search is empty; give the exact text to replace (use write_file to create a file).` };
    const applied = applyOne(content, edit);
    if (!applied.ok) return { ok: false, error: `${which}${applied.error} No edit was applied.` };
    content = applied.content;
    if (applied.tolerant) whitespaceTolerant++;
  }
  return { ok: true, content, whitespaceTolerant };
}

function applyOne(content: string, edit: Edit): { ok: true; content: string; tolerant: boolean } | { ok: false; error: string } {
  const exact = occurrences(content, edit.search);
  if (exact.length === 1) {
    const at = exact[0]!;
    return { ok: true, content: content.slice(0, at) + edit.replace + content.slice(at + edit.search.length), tolerant: false };
  }
  if (exact.length > 1) {
    return { ok: false, error: `search matches ${exact.length} places (lines ${exact.map((at) => lineOf(content, at)).join(', ')}); include more surrounding lines so it matches once.` };
  }
  const lines = content.split('\n');
  const wanted = trimmedLines(edit.search);
  const spans = lineMatches(lines, wanted);
  if (spans.length === 1) {
    const start = spans[0]!;
    const replaced = [...lines.slice(0, start), ...reindent(edit.replace, lines[start]!, edit.search), ...lines.slice(start + wanted.length)];
    return { ok: true, content: replaced.join('\n'), tolerant: true };
  }
  if (spans.length > 1) {
    return { ok: false, error: `search matches ${spans.length} places when whitespace is ignored (lines ${spans.map((s) => s + 1).join(', ')}); include more surrounding lines so it matches once.` };
  }
  return { ok: false, error: `search was not found. The nearest lines of the file are:\n${nearest(lines, wanted)}\nCopy the text exactly as it is in the file.` };
}

function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

const lineOf = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;

/** The search's lines without surrounding whitespace, without leading and trailing blank lines. */
function trimmedLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** Start indexes where the file's lines, trimmed, equal `wanted`. */
function lineMatches(lines: readonly string[], wanted: readonly string[]): number[] {
  if (wanted.length === 0) return [];
  const starts: number[] = [];
  for (let i = 0; i + wanted.length <= lines.length; i++) {
    if (wanted.every((w, j) => lines[i + j]!.trim() === w)) starts.push(i);
  }
  return starts;
}

/**
 * The replacement's lines, shifted so its first line has the indentation the file's matched line
 * has (the model's block was matched with whitespace ignored, so its indentation may be off).
 */
function reindent(replace: string, fileFirstLine: string, search: string): string[] {
  const fileIndent = /^\s*/.exec(fileFirstLine)![0];
  const searchFirst = search.split('\n').find((l) => l.trim() !== '') ?? '';
  const modelIndent = /^\s*/.exec(searchFirst)![0];
  const lines = replace.replace(/\n$/, '').split('\n');
  return lines.map((l) => (l.trim() === '' ? '' : l.startsWith(modelIndent) ? fileIndent + l.slice(modelIndent.length) : l));
}

/** The window of the file most like the search (shared characters of trimmed lines), numbered. */
function nearest(lines: readonly string[], wanted: readonly string[]): string {
  const first = wanted[0] ?? '';
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < lines.length; i++) {
    const score = similarity(lines[i]!.trim(), first);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  const from = Math.max(0, best - CONTEXT_LINES);
  const to = Math.min(lines.length, best + Math.max(wanted.length, 1) + CONTEXT_LINES);
  return lines.slice(from, to).map((l, k) => `${String(from + k + 1).padStart(5)}| ${l}`).join('\n');
}

/** Dice coefficient of character bigrams: cheap, and good enough to point at the right place. */
function similarity(a: string, b: string): number {
  if (a === '' || b === '') return 0;
  const grams = new Map<string, number>();
  for (let i = 0; i + 1 < a.length; i++) grams.set(a.slice(i, i + 2), (grams.get(a.slice(i, i + 2)) ?? 0) + 1);
  let shared = 0;
  for (let i = 0; i + 1 < b.length; i++) {
    const g = b.slice(i, i + 2);
    const n = grams.get(g) ?? 0;
    if (n > 0) {
      shared++;
      grams.set(g, n - 1);
    }
  }
  return (2 * shared) / Math.max(1, a.length + b.length - 2);
}
