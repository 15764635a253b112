import { AppError, isAppError } from '../../core/errors.js';
import type { LlmCallContext, LlmGateway } from '../../llm/llm-gateway.js';
import type { Message, ToolCall, Usage } from '../../llm/providers/port.js';
import type { WorkspaceFiles } from '../../workspaces/index.js';
import { compactHistory, withShortArguments } from '../pipeline/history-compaction.js';
import { CHAT_PROMPT } from '../prompts/index.js';
import { listFilesText, readFileText, searchText } from '../tools/read-tools.js';
import { CHAT_TOOL_SPECS, CHAT_TOOLS, parseToolArgs, type ChatToolName } from '../tools/schemas.js';

export interface ChatToolEvent {
  name: string;
  ok: boolean;
  path?: string;
  query?: string;
}

export interface ChatLoopInput {
  gateway: LlmGateway;
  /** Who pays and which key (no run: chat calls are on the ledger with the project only). */
  call: Pick<LlmCallContext, 'userId' | 'projectId' | 'provider' | 'keySource' | 'keyId' | 'session'>;
  model: string;
  maxOutputTokens: number;
  /** The plan's model turns for one answer; the last one is asked to answer without tools. */
  maxModelTurns: number;
  files: WorkspaceFiles;
  /** Earlier answered turns of the conversation, oldest first. */
  history: readonly { question: string; answer: string }[];
  question: string;
  signal: AbortSignal;
  onDelta(text: string): void;
  onTool(event: ChatToolEvent): void;
  /** The totals so far, after each settled call and tool call (what a failed answer still spent). */
  onUsage(totals: Usage & { toolCalls: number }): void;
}

export interface ChatLoopResult {
  answer: string;
  usage: Usage;
  toolCalls: number;
}

/** An earlier answer is resent at most this long: the conversation's context, not its archive. */
const HISTORY_ANSWER_CHARS = 4000;
/** Workspace errors the model can fix by changing its call. */
const MODEL_FIXABLE = new Set(['E_PATH_UNSAFE', 'E_FILE_TOO_LARGE', 'E_NOT_FOUND', 'E_VALIDATION']);

/**
 * The project chat's agent loop: the gateway (plan check, reservation, ledger) with the read-only
 * tools only, until the model answers without a tool call. A call to any other tool (write_file,
 * edit_file, run_command, …) is answered "not available": nothing here can write. The answer is
 * the text of every turn, streamed through onDelta as it comes. A plan limit (E_LIMIT), an abort
 * and provider errors propagate; so does E_LIMIT when the model still calls tools on its last
 * allowed turn and has said nothing.
 */
export async function runChatLoop(input: ChatLoopInput): Promise<ChatLoopResult> {
  const messages: Message[] = [];
  for (const h of input.history) {
    const answer = h.answer.length > HISTORY_ANSWER_CHARS ? `${h.answer.slice(0, HISTORY_ANSWER_CHARS)}\n… (cut)` : h.answer;
    messages.push({ role: 'user', content: h.question }, { role: 'assistant', content: answer });
  }
  messages.push({ role: 'user', content: input.question });
  // The answer is exactly what was streamed (turns' texts joined by a blank line), so a client
  // that followed the deltas has the answer without reading it again.
  let answer = '';
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let toolCalls = 0;
  for (let turn = 1; turn <= input.maxModelTurns; turn++) {
    compactHistory(messages);
    const last = turn === input.maxModelTurns;
    const system = last ? `${CHAT_PROMPT.text}\n\nThis is your last turn: answer now from what you have read, with no tool call.` : CHAT_PROMPT.text;
    let text = '';
    const calls: ToolCall[] = [];
    let callUsage: Usage = { inputTokens: 0, outputTokens: 0 };
    const stream = input.gateway.stream(
      { model: input.model, system, messages, tools: CHAT_TOOL_SPECS, toolChoice: 'auto', maxOutputTokens: input.maxOutputTokens, signal: input.signal },
      input.call,
    );
    for await (const part of stream) {
      if (part.type === 'text-delta') {
        const piece = text === '' && answer.trim() !== '' ? `\n\n${part.text}` : part.text;
        text += part.text;
        answer += piece;
        input.onDelta(piece);
      } else if (part.type === 'tool-call') calls.push(part.call);
      else if (part.type === 'usage') callUsage = part.usage;
    }
    usage = { inputTokens: usage.inputTokens + callUsage.inputTokens, outputTokens: usage.outputTokens + callUsage.outputTokens };
    input.onUsage({ ...usage, toolCalls });
    if (calls.length === 0) break;
    if (last) {
      if (answer.trim() !== '') break;
      throw new AppError('E_LIMIT', `limit_exceeded: the answer needed more than the plan's ${input.maxModelTurns} model turns (chat_max_model_turns). Ask a narrower question, naming the files.`, {
        details: { limit: 'chat_max_model_turns', max: input.maxModelTurns },
      });
    }
    const assistant: Message = { role: 'assistant', content: text, toolCalls: calls };
    messages.push(assistant);
    for (const [i, call] of calls.entries()) {
      toolCalls++;
      const r = await runChatTool(input.files, call);
      if (r.isError) assistant.toolCalls![i] = withShortArguments(call);
      messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: r.content, isError: r.isError });
      input.onTool({ name: call.name.slice(0, 100), ok: !r.isError, ...argsOf(call) });
      input.onUsage({ ...usage, toolCalls });
    }
  }
  return { answer: answer.trim(), usage, toolCalls };
}

/** One read-only tool call; every failure is a message the model can act on. */
async function runChatTool(files: WorkspaceFiles, call: ToolCall): Promise<{ content: string; isError: boolean }> {
  if (!Object.hasOwn(CHAT_TOOLS, call.name)) {
    return {
      content: `Tool "${call.name}" is not available: the project chat is read-only and cannot change the workspace. The tools are: ${Object.keys(CHAT_TOOLS).join(', ')}.`,
      isError: true,
    };
  }
  const name = call.name as ChatToolName;
  const parsed = parseToolArgs<Record<string, unknown>>(CHAT_TOOLS[name].schema as never, call.arguments);
  if (!parsed.ok) return { content: parsed.error, isError: true };
  const args = parsed.value;
  try {
    switch (name) {
      case 'list_files':
        return { content: await listFilesText(files), isError: false };
      case 'read_file':
        return { content: await readFileText(files, String(args.path), args.fromLine as number | undefined), isError: false };
      case 'search':
        return { content: await searchText(files, String(args.query), args.under === undefined ? undefined : String(args.under)), isError: false };
    }
  } catch (err) {
    if (isAppError(err) && MODEL_FIXABLE.has(err.code)) return { content: err.message, isError: true };
    throw err;
  }
}

/** The path or query a call named, for the chat.tool event (never file contents). */
function argsOf(call: ToolCall): { path?: string; query?: string } {
  try {
    const a = JSON.parse(call.arguments) as { path?: unknown; query?: unknown };
    return {
      ...(typeof a.path === 'string' ? { path: a.path.slice(0, 512) } : {}),
      ...(typeof a.query === 'string' ? { query: a.query.slice(0, 512) } : {}),
    };
  } catch {
    return {};
  }
}
