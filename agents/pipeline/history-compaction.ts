import type { Message, ToolCall } from '../../llm/providers/port.js';

/**
 * How much of a tool loop's past the prompt carries. Every turn resends the whole conversation,
 * so without a bound a 30-turn loop that reads a file per turn sends each file up to 30 times.
 */
export interface CompactionLimits {
  /** Tool results, newest first, stay whole while their total is at most this; the newest always does. */
  verbatimChars: number;
  /** Tool-call turns older than the whole ones that are kept shortened; older ones are dropped. */
  shortenedTurns: number;
  /** Dropped calls listed by name and arguments (the newest ones); older ones are only counted. */
  listedDropped: number;
}

/** The coder's, the fixer's and the chat's loops (bench/edits.ts measures the prompt they give). */
export const LOOP_HISTORY: CompactionLimits = { verbatimChars: 24_000, shortenedTurns: 6, listedDropped: 30 };

/** A shortened tool result keeps this many characters from its start. */
const OLD_TEXT_CHARS = 400;
/** A string argument longer than this is replaced by a note (a file's content, a long command). */
const ARG_STRING_CHARS = 200;
/** A dropped call's line shows this much of its (shortened) arguments. */
const LISTED_ARGS_CHARS = 120;
/** Ends a shortened result (which is then never shortened again: compaction runs every turn). */
const SHORTENED = '; shortened — call the tool again if you need them)';
const DROPPED_HEADING = '## Earlier tool calls of this task (results no longer shown: call the tool again if you need one)';

/**
 * Keeps a tool loop's prompt bounded whatever the number of turns, in three tiers counted from the
 * newest tool-call turn back: turns whose results fit in `verbatimChars` stay whole (what the model
 * is working on); the next `shortenedTurns` keep the start of each result and the short fields of
 * each call; older turns leave the conversation and are listed, one line per call, under the user
 * message before them, so the model still knows what it tried. The workspace holds the real
 * content: the model reads a file again when it needs it. Messages that are not tool-call turns
 * (the task, earlier chat questions and answers, notes to the model) are never removed.
 */
export function compactHistory(messages: Message[], limits: CompactionLimits = LOOP_HISTORY): void {
  const turns = toolTurns(messages);
  let used = 0;
  let whole = true;
  let shortened = 0;
  const dropped: Turn[] = [];
  for (let t = turns.length - 1; t >= 0; t--) {
    const turn = turns[t]!;
    const size = resultChars(messages, turn);
    if (whole && (t === turns.length - 1 || used + size <= limits.verbatimChars)) {
      used += size;
      continue;
    }
    whole = false;
    if (shortened < limits.shortenedTurns) {
      shortened++;
      shorten(messages, turn);
    } else dropped.push(turn);
  }
  if (dropped.length) dropTurns(messages, new Map(dropped.map((t) => [t.start, t])), limits.listedDropped);
}

/** An assistant message with tool calls and the tool results after it: [start, end). */
interface Turn {
  start: number;
  end: number;
}

function toolTurns(messages: Message[]): Turn[] {
  const turns: Turn[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== 'assistant' || !m.toolCalls?.length) continue;
    let end = i + 1;
    while (end < messages.length && messages[end]!.role === 'tool') end++;
    turns.push({ start: i, end });
    i = end - 1;
  }
  return turns;
}

function resultChars(messages: Message[], turn: Turn): number {
  let n = 0;
  for (let i = turn.start + 1; i < turn.end; i++) n += (messages[i] as Extract<Message, { role: 'tool' }>).content.length;
  return n;
}

function shorten(messages: Message[], turn: Turn): void {
  const a = messages[turn.start] as Extract<Message, { role: 'assistant' }>;
  const longArgs = a.toolCalls!.some((c) => c.arguments.length > ARG_STRING_CHARS);
  // Kept as a (short) string: DeepSeek refuses a tool-call turn without its reasoning_content.
  const longReasoning = a.reasoning !== undefined && a.reasoning.length > OLD_TEXT_CHARS;
  if (longArgs || longReasoning) {
    messages[turn.start] = {
      ...a,
      ...(longArgs ? { toolCalls: a.toolCalls!.map(withShortArguments) } : {}),
      ...(longReasoning ? { reasoning: `${a.reasoning!.slice(0, OLD_TEXT_CHARS)} … (shortened)` } : {}),
    };
  }
  for (let i = turn.start + 1; i < turn.end; i++) {
    const m = messages[i] as Extract<Message, { role: 'tool' }>;
    if (m.content.length <= OLD_TEXT_CHARS || m.content.endsWith(SHORTENED)) continue;
    messages[i] = { ...m, content: `${m.content.slice(0, OLD_TEXT_CHARS)}\n… (${m.content.length - OLD_TEXT_CHARS} more characters${SHORTENED}` };
  }
}

/** One line per call of a turn: what was called, and what came back (its size, or the error). */
function turnLines(messages: Message[], turn: Turn): string[] {
  const a = messages[turn.start] as Extract<Message, { role: 'assistant' }>;
  const results = new Map<string, Extract<Message, { role: 'tool' }>>();
  for (let i = turn.start + 1; i < turn.end; i++) {
    const m = messages[i] as Extract<Message, { role: 'tool' }>;
    results.set(m.toolCallId, m);
  }
  return a.toolCalls!.map((call) => {
    const args = withShortArguments(call).arguments;
    const r = results.get(call.id);
    const outcome = !r ? 'no result' : r.isError ? `error: ${r.content.split('\n')[0]!.slice(0, 120)}` : `${r.content.length} characters`;
    return `- ${call.name} ${args.length > LISTED_ARGS_CHARS ? `${args.slice(0, LISTED_ARGS_CHARS)}…` : args} → ${outcome}`;
  });
}

/**
 * Removes `turns` (by their start), listing their calls under the user message before each
 * (the task, or the chat question). Turns already listed there are older than any dropped now,
 * so the list stays in order: the newest `max` calls by name, the older ones counted.
 */
function dropTurns(messages: Message[], turns: Map<number, Turn>, max: number): void {
  const kept: Message[] = [];
  const added = new Map<number, string[]>();
  let user = -1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const turn = turns.get(i);
    if (turn) {
      if (user >= 0) added.set(user, [...(added.get(user) ?? []), ...turnLines(messages, turn)]);
      i = turn.end - 1;
      continue;
    }
    if (m.role === 'user') user = kept.length;
    kept.push(m);
  }
  for (const [u, lines] of added) kept[u] = withList(kept[u] as Extract<Message, { role: 'user' }>, lines, max);
  messages.splice(0, messages.length, ...kept);
}

function withList(m: Extract<Message, { role: 'user' }>, lines: string[], max: number): Message {
  const cut = m.content.indexOf(`\n\n${DROPPED_HEADING}\n`);
  const body = cut < 0 ? m.content : m.content.slice(0, cut);
  let counted = 0;
  let listed: string[] = [];
  if (cut >= 0) {
    for (const line of m.content.slice(cut + DROPPED_HEADING.length + 3).split('\n')) {
      const more = /^- \((\d+) earlier calls\)$/.exec(line);
      if (more) counted += Number(more[1]);
      else listed.push(line);
    }
  }
  listed.push(...lines);
  if (listed.length > max) {
    counted += listed.length - max;
    listed = listed.slice(-max);
  }
  const list = [...(counted ? [`- (${counted} earlier calls)`] : []), ...listed];
  return { ...m, content: `${body}\n\n${DROPPED_HEADING}\n${list.join('\n')}` };
}

/**
 * The call with every long string argument replaced by a note. Used for old calls and at once for
 * refused ones: a refused 5 MB write_file must not be resent with every later turn.
 */
export function withShortArguments(call: ToolCall): ToolCall {
  if (call.arguments.length <= ARG_STRING_CHARS) return call;
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    return { ...call, arguments: JSON.stringify({ omitted: `${call.arguments.length} characters of arguments that were not valid JSON` }) };
  }
  return { ...call, arguments: JSON.stringify(shortStrings(args)) };
}

function shortStrings(v: unknown): unknown {
  if (typeof v === 'string') return v.length <= ARG_STRING_CHARS ? v : `(${v.length} characters omitted)`;
  if (Array.isArray(v)) return v.map(shortStrings);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shortStrings(x)]));
  return v;
}
