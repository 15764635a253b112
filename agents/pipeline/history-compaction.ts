import type { Message, ToolCall } from '../../llm/providers/port.js';

/** Tool results and argument strings longer than this are shortened once they are old. */
const OLD_TEXT_CHARS = 400;
/** A string argument longer than this is replaced by a note (a file's content, a long command). */
const ARG_STRING_CHARS = 200;

/**
 * Keeps a long tool loop's prompt bounded. Every turn resends the whole conversation, so without
 * this a 30-turn loop that reads and writes files sends each file's content 30 times. The last
 * `keepTurns` assistant turns stay verbatim (what the model is working on); older tool results
 * keep their first lines, older call arguments keep their short fields. The workspace holds the
 * real content: the model reads a file again when it needs it.
 */
export function compactHistory(messages: Message[], keepTurns: number): void {
  let assistants = 0;
  let cut = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'assistant' && ++assistants === keepTurns) {
      cut = i;
      break;
    }
  }
  for (let i = 1; i < cut; i++) {
    const m = messages[i]!;
    if (m.role === 'tool' && m.content.length > OLD_TEXT_CHARS) {
      messages[i] = { ...m, content: `${m.content.slice(0, OLD_TEXT_CHARS)}\n… (${m.content.length - OLD_TEXT_CHARS} more characters; shortened — call the tool again if you need them)` };
    } else if (m.role === 'assistant') {
      const longArgs = m.toolCalls?.some((c) => c.arguments.length > OLD_TEXT_CHARS);
      // Kept as a (short) string: DeepSeek refuses a tool-call turn without its reasoning_content.
      const longReasoning = m.reasoning !== undefined && m.reasoning.length > OLD_TEXT_CHARS;
      if (!longArgs && !longReasoning) continue;
      messages[i] = {
        ...m,
        ...(longArgs ? { toolCalls: m.toolCalls!.map(withShortArguments) } : {}),
        ...(longReasoning ? { reasoning: `${m.reasoning!.slice(0, OLD_TEXT_CHARS)} … (shortened)` } : {}),
      };
    }
  }
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
  return { ...call, arguments: JSON.stringify(shorten(args)) };
}

function shorten(v: unknown): unknown {
  if (typeof v === 'string') return v.length <= ARG_STRING_CHARS ? v : `(${v.length} characters omitted)`;
  if (Array.isArray(v)) return v.map(shorten);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shorten(x)]));
  return v;
}
