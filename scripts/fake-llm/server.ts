import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderId } from '../../llm/providers/port.js';
import { anthropicError, anthropicModels, anthropicStreamError, emptyContentError, messageEvents, messageJson } from './anthropic-protocol.js';
import { chatCompletionEvents, chatCompletionJson, missingReasoningContent, openAiError, openAiModels, openAiStreamError } from './openai-protocol.js';
import { planTurn, takeTurn, type FakeScript, type FakeTurn, type KeyFault } from './script.js';

export type { FakeScript, FakeTurn, FakeToolCall, FakeUsage, FakeMatch, KeyFault } from './script.js';
export { DEFAULT_TURN } from './script.js';

export interface RecordedRequest {
  provider: ProviderId | undefined;
  method: string;
  path: string;
  /** As received; authorization and x-api-key are kept so tests can check which key was used. */
  headers: http.IncomingHttpHeaders;
  /** The key from `Authorization: Bearer …` or `x-api-key`. */
  apiKey: string | undefined;
  body: unknown;
  /** The status sent (0 until the headers were written). */
  status: number;
  /** The client closed the connection before the response was complete (e.g. an abort). */
  clientClosed: boolean;
  /** The server cut the stream on purpose (cutAfterChunks). */
  cut: boolean;
  /** The usage the answer reported (set once a 200 answer was planned); what a real provider would bill. */
  usage?: { input: number; output: number };
}

/**
 * Answers a chat request from what it contains instead of from the consumed turn list; undefined
 * falls back to the script. A pure function of the request keeps the answers right when a client
 * repeats a call (a resumed run redoes its unfinished step), which a consumed list cannot.
 */
export type FakeResponder = (request: RecordedRequest) => FakeTurn | undefined;

export interface FakeLlm {
  url: string;
  /** The base URL to hand each provider's SDK (anthropic and groq SDKs add /v1 and /openai/v1 themselves). */
  baseUrls: Record<ProviderId, string>;
  requests: RecordedRequest[];
  setScript(script: FakeScript): void;
  close(): Promise<void>;
}

export const FAKE_MODELS = ['fake-model', 'fake-model-large'];

/** Path prefix → the provider whose wire format (and base URL) it stands for. */
const CHAT_ROUTES: Record<string, ProviderId> = {
  '/v1/chat/completions': 'openai',
  '/api/v1/chat/completions': 'openrouter',
  '/openai/v1/chat/completions': 'groq',
  '/compat/v1/chat/completions': 'openai-compatible',
};
const MODEL_ROUTES: Record<string, ProviderId> = {
  '/v1/models': 'openai',
  '/api/v1/models': 'openrouter',
  '/openai/v1/models': 'groq',
  '/compat/v1/models': 'openai-compatible',
};

/** A real HTTP server on 127.0.0.1 that answers like the providers, from a script. */
export async function startFakeLlm(options: { script?: FakeScript; port?: number; responder?: FakeResponder } = {}): Promise<FakeLlm> {
  let script: FakeScript = cloneScript(options.script ?? {});
  const requests: RecordedRequest[] = [];
  let counter = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const record: RecordedRequest = {
        provider: undefined,
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        apiKey: apiKeyOf(req.headers),
        body: parseJson(raw),
        status: 0,
        clientClosed: false,
        cut: false,
      };
      requests.push(record);
      res.on('close', () => {
        if (!res.writableFinished && !record.cut) record.clientClosed = true;
      });
      handle(record, raw.length, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, record, 500, { error: { message: String(err) } });
        else res.destroy();
      });
    });
  });

  async function handle(record: RecordedRequest, bodyLength: number, res: http.ServerResponse): Promise<void> {
    const isAnthropic = record.path === '/v1/messages' || (record.path === '/v1/models' && isAnthropicClient(record.headers));
    record.provider = isAnthropic ? 'anthropic' : (CHAT_ROUTES[record.path] ?? MODEL_ROUTES[record.path]);
    const errorBody = isAnthropic ? anthropicError : openAiError;
    const echo = (message: string | undefined): string | undefined => message?.replaceAll('{apiKey}', record.apiKey ?? '');
    if (!record.provider) return send(res, record, 404, errorBody(404, `fake LLM: no route ${record.method} ${record.path}`));

    const keyFault: KeyFault | undefined = record.apiKey ? script.faultsByKey?.[record.apiKey] : undefined;
    if (keyFault) return sendFault(res, record, keyFault.status, keyFault.retryAfter, echo(keyFault.message), errorBody);

    if (record.method === 'GET' && record.path.endsWith('/models')) {
      if (script.modelsMissing) return send(res, record, 404, errorBody(404, `fake LLM: no model list at ${record.path}`));
      const models = script.models ?? FAKE_MODELS;
      return send(res, record, 200, isAnthropic ? anthropicModels(models) : openAiModels(models));
    }
    if (record.method !== 'POST') return send(res, record, 405, errorBody(405, 'fake LLM: use POST'));

    const body = (record.body ?? {}) as { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
    const model = typeof body.model === 'string' ? body.model : 'fake-model';
    // Requests the real APIs refuse before any model runs: refused here too, taking no turn.
    const refusal = isAnthropic ? emptyContentError(record.body) : script.requireReasoningContent ? missingReasoningContent(record.body) : undefined;
    if (refusal) return send(res, record, 400, errorBody(400, refusal));
    const turn = options.responder?.(record) ?? takeTurn(script, { provider: record.provider, apiKey: record.apiKey ?? '', model });
    if (turn.firstByteDelayMs) await delay(turn.firstByteDelayMs, res);
    if (res.destroyed) return;
    const errorMessage = echo(turn.errorMessage) ?? `fake LLM scripted error ${turn.status ?? 401}`;
    if (turn.errorInOkBody) {
      const okError = { error: { code: turn.status ?? 401, message: errorMessage } };
      if (body.stream !== true || turn.ignoreStream) return send(res, record, 200, okError);
      return streamEvents(res, record, [`data: ${JSON.stringify(okError)}\n\n`], {});
    }
    if (turn.status && turn.status >= 400 && turn.streamErrorAfterChunks === undefined) {
      // The protocol's error body, with the scripted `code` where one is given (OpenAI's error objects carry one).
      const withCode = (status: number, message: string): unknown => {
        const b = errorBody(status, message) as { error: Record<string, unknown> };
        return turn.errorCode === undefined || isAnthropic ? b : { ...b, error: { ...b.error, code: turn.errorCode } };
      };
      return sendFault(res, record, turn.status, turn.retryAfter, errorMessage, withCode);
    }

    const plan = planTurn(turn, bodyLength);
    record.usage = { input: plan.usage.input, output: plan.usage.output };
    const id = `${isAnthropic ? 'msg' : 'chatcmpl'}_fake_${++counter}`;
    if (body.stream !== true || turn.ignoreStream) {
      return send(res, record, 200, isAnthropic ? messageJson(plan, model, id) : chatCompletionJson(plan, { provider: record.provider, model, includeUsage: true }, id));
    }
    const events = isAnthropic
      ? messageEvents(plan, model, id)
      : chatCompletionEvents(plan, { provider: record.provider, model, includeUsage: body.stream_options?.include_usage === true }, id);
    if (turn.streamErrorAfterChunks !== undefined) {
      const streamError = (isAnthropic ? anthropicStreamError : openAiStreamError)(turn.status ?? 401, errorMessage);
      events.splice(turn.streamErrorAfterChunks, events.length, streamError);
    }
    await streamEvents(res, record, events, turn);
  }

  // Node closes an idle keep-alive socket after 5 s, which races a client reusing it at that
  // moment ("other side closed"). The providers keep idle connections for a minute or more, so
  // the fake does too; close() still ends them.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    baseUrls: {
      anthropic: url,
      openai: `${url}/v1`,
      groq: url,
      openrouter: `${url}/api/v1`,
      'openai-compatible': `${url}/compat/v1`,
    },
    requests,
    setScript(next: FakeScript) {
      script = cloneScript(next);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

async function streamEvents(res: http.ServerResponse, record: RecordedRequest, events: string[], turn: FakeTurn): Promise<void> {
  record.status = 200;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let written = 0;
  let flushed: Promise<void> = Promise.resolve();
  for (const event of events) {
    if (turn.cutAfterChunks !== undefined && written >= turn.cutAfterChunks) {
      // A connection lost mid-stream: the client gets what was written, then the socket just goes
      // away, with no terminating chunk. Waiting for the flush keeps destroy() from discarding it.
      await flushed;
      record.cut = true;
      res.destroy();
      return;
    }
    if (turn.chunkDelayMs) await delay(turn.chunkDelayMs, res);
    if (res.destroyed) return;
    flushed = new Promise((resolve) => res.write(event, () => resolve()));
    written++;
  }
  res.end();
}

function sendFault(
  res: http.ServerResponse,
  record: RecordedRequest,
  status: number,
  retryAfter: number | undefined,
  message: string | undefined,
  errorBody: (status: number, message: string) => unknown,
): void {
  const headers: Record<string, string> = retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {};
  send(res, record, status, errorBody(status, message ?? `fake LLM scripted error ${status}`), headers);
}

function send(res: http.ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
  record.status = status;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Waits, but stops early when the client goes away (so an aborted request frees its timer at once). */
function delay(ms: number, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once('close', done);
  });
}

function apiKeyOf(headers: http.IncomingHttpHeaders): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
  const xApiKey = headers['x-api-key'];
  return bearer ?? (typeof xApiKey === 'string' ? xApiKey : undefined);
}

function isAnthropicClient(headers: http.IncomingHttpHeaders): boolean {
  return headers['anthropic-version'] !== undefined || headers['x-api-key'] !== undefined;
}

function parseJson(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** The server consumes turns; copying keeps the caller's script object intact for reuse. */
function cloneScript(script: FakeScript): FakeScript {
  return structuredClone(script);
}
