import type { ProviderId } from '../../llm/providers/port.js';

/**
 * The fake LLM's script. It is a scripted model: it does not read prompts, it answers each request
 * with the next turn of the script whose `match` fits (provider, API key, model), and with
 * DEFAULT_TURN when none is left.
 */
export interface FakeScript {
  turns?: FakeTurn[];
  /** Faults tied to an API key, applied to every request made with it (also /models): e.g. a revoked or busy key. */
  faultsByKey?: Record<string, KeyFault>;
  /** Answer when no turn matches; DEFAULT_TURN if unset. */
  defaultTurn?: FakeTurn;
  /** What GET …/models lists, in each protocol's shape (default FAKE_MODELS). */
  models?: string[];
  /** GET …/models answers 404, as servers without a model list do. */
  modelsMissing?: boolean;
  /**
   * DeepSeek's thinking mode with tools: a chat request whose assistant tool-call message lacks
   * `reasoning_content` is answered 400, as DeepSeek does.
   */
  requireReasoningContent?: boolean;
}

export interface FakeMatch {
  provider?: ProviderId;
  apiKey?: string;
  model?: string;
}

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object is serialised; a string is sent as it is (so it can be malformed JSON). */
  arguments: string | Record<string, unknown>;
}

/** Numbers are put on the wire as they are, in each protocol's own fields (Anthropic's input excludes cache tokens). */
export interface FakeUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface KeyFault {
  status: number;
  /** Seconds, sent as the retry-after header. */
  retryAfter?: number;
  /** `{apiKey}` is replaced by the request's key, as providers that echo it do. */
  message?: string;
}

export interface FakeTurn {
  /** Which requests may take this turn; every field given must equal the request's. */
  match?: FakeMatch;
  text?: string;
  toolCalls?: FakeToolCall[];
  usage?: FakeUsage;
  /** Defaults to tool calls' reason when there are tool calls, else a normal stop. */
  finishReason?: 'stop' | 'tool_calls' | 'length';
  /** Characters per streamed text delta and per tool-argument fragment (default 8). */
  chunkSize?: number;
  /** Delay before the response headers. */
  firstByteDelayMs?: number;
  /** Delay before each streamed event. */
  chunkDelayMs?: number;
  /** Answer with this HTTP error status instead (e.g. 401, 429, 500). */
  status?: number;
  /** Seconds, sent as retry-after with an error status. */
  retryAfter?: number;
  /**
   * The message of an error answer (status, streamErrorAfterChunks, errorInOkBody). `{apiKey}` is
   * replaced by the request's key: "Incorrect API key provided: {apiKey}" is how OpenAI echoes it.
   */
  errorMessage?: string;
  /**
   * Streaming only: after this many SSE events, send the protocol's own error event (OpenAI:
   * `data: {"error":{…}}`; Anthropic: `event: error`) and end the stream. Its type follows `status` (default 401).
   */
  streamErrorAfterChunks?: number;
  /**
   * Answer 200 with an error for a body, as some OpenAI-compatible gateways do:
   * `{"error":{"code":<status, default 401>,"message":…}}` (as the only SSE event when streaming).
   */
  errorInOkBody?: boolean;
  /** Chat completions: the `code` of the error object sent with `status` (e.g. 429 with `insufficient_quota`, as OpenAI does). */
  errorCode?: string;
  /** Streaming only: destroy the socket after this many SSE events were written. */
  cutAfterChunks?: number;
  /**
   * Report no usage at all, as many OpenAI-compatible servers (older Ollama, some proxies) do:
   * no usage chunk even when asked for one, no `x_groq.usage`; on Anthropic no `usage` in
   * `message_start` nor in `message_delta`.
   */
  omitUsage?: boolean;
  /**
   * Answer a streaming request with one JSON body (content-type application/json) instead of
   * server-sent events: the error of `errorInOkBody`, or else the whole completion.
   */
  ignoreStream?: boolean;
  /** OpenAI wire: stream every tool call with `index: 0` (distinct ids), as Ollama, LiteLLM and Gemini bridges do. */
  sameToolCallIndex?: boolean;
  /** OpenAI wire: DeepSeek's thinking, streamed as `reasoning_content` deltas before the text. */
  reasoning?: string;
}

export const DEFAULT_TURN: FakeTurn = {
  text:
    'This is the Samokoder fake LLM, a scripted model that does not understand prompts. ' +
    'Its script has no turn left for this request.',
};

/** The turn list is consumed: the first matching turn is taken out. */
export function takeTurn(script: FakeScript, request: Required<FakeMatch>): FakeTurn {
  const turns = script.turns ?? [];
  const index = turns.findIndex((t) => matches(t.match, request));
  if (index < 0) return script.defaultTurn ?? DEFAULT_TURN;
  const [turn] = turns.splice(index, 1);
  return turn!;
}

function matches(match: FakeMatch | undefined, request: Required<FakeMatch>): boolean {
  if (!match) return true;
  return (Object.keys(match) as (keyof FakeMatch)[]).every((k) => match[k] === undefined || match[k] === request[k]);
}

/** Splits text into pieces of `size` characters (at least one piece, possibly empty). */
export function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** What a turn streams, protocol-neutral: the protocols render it. */
export interface TurnPlan {
  reasoningPieces: string[];
  textPieces: string[];
  toolCalls: { id: string; name: string; argumentPieces: string[]; arguments: string }[];
  finishReason: 'stop' | 'tool_calls' | 'length';
  /** What the answer costs (recorded by the server even when the wire does not carry it). */
  usage: Required<Pick<FakeUsage, 'input' | 'output'>> & Pick<FakeUsage, 'cacheRead' | 'cacheWrite'>;
  /** Whether the wire carries the usage (omitUsage). */
  reportUsage: boolean;
  sameToolCallIndex: boolean;
}

let nextId = 1;

export function planTurn(turn: FakeTurn, requestBodyLength: number): TurnPlan {
  const size = Math.max(1, turn.chunkSize ?? 8);
  const textPieces = turn.text ? split(turn.text, size) : [];
  const reasoningPieces = turn.reasoning ? split(turn.reasoning, size) : [];
  const toolCalls = (turn.toolCalls ?? []).map((c) => {
    const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments);
    return { id: c.id ?? `call_fake_${nextId++}`, name: c.name, arguments: args, argumentPieces: split(args, size) };
  });
  const pieces = reasoningPieces.length + textPieces.length + toolCalls.reduce((n, c) => n + c.argumentPieces.length, 0);
  return {
    reasoningPieces,
    textPieces,
    toolCalls,
    finishReason: turn.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
    reportUsage: turn.omitUsage !== true,
    sameToolCallIndex: turn.sameToolCallIndex === true,
    usage: {
      // Rough, but deterministic: about four characters a token.
      input: turn.usage?.input ?? Math.ceil(requestBodyLength / 4),
      output: turn.usage?.output ?? pieces,
      ...(turn.usage?.cacheRead !== undefined ? { cacheRead: turn.usage.cacheRead } : {}),
      ...(turn.usage?.cacheWrite !== undefined ? { cacheWrite: turn.usage.cacheWrite } : {}),
    },
  };
}
