import { randomUUID } from 'node:crypto';
import { EventsRepo } from '../../events/event-log.js';
import { parseEventData } from '../../protocol/event-catalogue.js';
import { startFakeLlm, type FakeLlm, type FakeTurn, type RecordedRequest } from '../../scripts/fake-llm/server.js';
import { ChatRepo } from '../../chat/chat-repo.js';
import { eventually } from '../helpers/eventually.js';
import { TestSocket } from '../api/ws-client.js';
import { NO_WORKER } from '../api/fixtures.js';
import { fakeSecret } from '../keys/fixtures.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The project chat end to end: real HTTP and WebSocket, the official OpenAI SDK against the fake
 * LLM server, PGlite, real git. Chat must answer from the workspace and never change it.
 */
let server: TestServer;
let fake: FakeLlm;
let api: ReturnType<typeof apiClient>;

interface ChatUser {
  token: string;
  userId: string;
  apiKey: string;
  keyId: string;
  projectId: string;
}

beforeAll(async () => {
  fake = await startFakeLlm();
  server = await startTestServer('pglite', { ...NO_WORKER, SAMOKODER_SANDBOX: 'off', SAMOKODER_LLM_MAX_RETRIES: 0, SAMOKODER_ANTHROPIC_BASE_URL: fake.baseUrls.anthropic });
  api = apiClient(server.url);
}, 120_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});
afterEach(() => expect(TestSocket.takeProtocolErrors()).toEqual([]));

async function newChatUser(planId = 'unlimited'): Promise<ChatUser> {
  const user = await registerUser(api);
  await server.ctx.db.query('UPDATE users SET plan_id = $2 WHERE id = $1', [user.userId, planId]);
  const apiKey = fakeSecret();
  const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: fake.baseUrls['openai-compatible'] } });
  expect(key.status).toBe(201);
  const project = await api('POST', '/api/projects', { token: user.token, body: { name: 'Todo App', prompt: 'a todo app' } });
  expect(project.status).toBe(201);
  const projectId: string = project.body.project.id;
  const ws = await server.ctx.workspaces.open(projectId);
  await ws.files.writeFile('src/index.ts', 'export const answer = 42;\n');
  await ws.files.writeFile('src/todo.ts', 'export function addTodo(title: string) {\n  return { title, done: false };\n}\n');
  await ws.files.writeFile('README.md', '# todo\n');
  await ws.history.commitAll('coder: first files');
  return { ...user, apiKey, keyId: key.body.id, projectId };
}

function script(u: ChatUser, turns: FakeTurn[]): void {
  fake.setScript({ turns: turns.map((t) => ({ ...t, match: { apiKey: u.apiKey } })) });
}

const ask = (u: ChatUser, message: string, extra: Record<string, unknown> = {}) =>
  api('POST', `/api/projects/${u.projectId}/chat`, { token: u.token, body: { message, provider: 'openai-compatible', model: 'fake-model', keyId: u.keyId, ...extra } });

const requestsOf = (u: ChatUser): RecordedRequest[] => fake.requests.filter((r) => r.apiKey === u.apiKey && r.path.endsWith('/chat/completions'));

/** Everything chat could have changed in the workspace: its commits and its files with their contents. */
async function workspaceState(projectId: string): Promise<string> {
  const ws = await server.ctx.workspaces.open(projectId);
  const tree = await ws.files.tree();
  const files = await Promise.all(tree.entries.filter((e) => e.type === 'file').map(async (e) => [e.path, await ws.files.readFile(e.path)]));
  return JSON.stringify({ head: await ws.history.headSha(), commits: (await ws.history.history({ limit: 1000 })).length, files });
}

test('answers with read-only tools, streams on the WebSocket, refuses writes, leaves the workspace as it was, and is on the ledger', async () => {
  const u = await newChatUser();
  const before = await workspaceState(u.projectId);
  const usage = { input: 50, output: 10 };
  script(u, [
    { toolCalls: [{ name: 'list_files', arguments: {} }], usage },
    { text: 'Let me read it. ', toolCalls: [{ name: 'read_file', arguments: { path: 'src/index.ts' } }, { name: 'search', arguments: { query: 'addTodo' } }], usage },
    { toolCalls: [{ name: 'write_file', arguments: { path: 'src/index.ts', content: 'hacked' } }, { name: 'edit_file', arguments: { path: 'README.md', edits: [{ search: '# todo', replace: '# pwned' }] } }], usage },
    { toolCalls: [{ name: 'run_command', arguments: { command: 'rm -rf /workspace/src' } }, { name: 'read_file', arguments: { path: '../../etc/passwd' } }, { name: 'read_file', arguments: { path: '.git/config' } }], usage },
    { text: 'The project exports `answer = 42` from src/index.ts, and src/todo.ts has addTodo.', usage },
  ]);
  const socket = await TestSocket.open(server.url, { token: u.token });
  socket.send({ type: 'subscribe', projectId: u.projectId, since: 0 });
  await socket.next((f) => f.type === 'subscribed');

  const turnId = randomUUID();
  const res = await ask(u, 'What does this project export?', { turnId });
  expect(res.status).toBe(200);
  expect(res.body.turn).toMatchObject({
    id: turnId,
    status: 'answered',
    question: 'What does this project export?',
    answer: 'Let me read it. \n\nThe project exports `answer = 42` from src/index.ts, and src/todo.ts has addTodo.',
    usage: { inputTokens: 250, outputTokens: 50, toolCalls: 8 },
  });

  // The stream: chat.started, the deltas and tool calls of this turn, chat.answered.
  await socket.next((f) => f.type === 'chat.answered');
  const frames = socket.frames.filter((f) => f.type.startsWith('chat.'));
  expect(frames[0]).toMatchObject({ type: 'chat.started', runId: null, data: { turnId, question: 'What does this project export?' } });
  const streamed = frames.filter((f) => f.type === 'chat.delta').map((f) => (f.data as { text: string }).text).join('');
  expect(streamed).toBe(res.body.turn.answer);
  const tools = frames.filter((f) => f.type === 'chat.tool').map((f) => f.data as { name: string; ok: boolean });
  expect(tools.map((t) => [t.name, t.ok])).toEqual([
    ['list_files', true], ['read_file', true], ['search', true], ['write_file', false], ['edit_file', false], ['run_command', false], ['read_file', false], ['read_file', false],
  ]);
  expect(frames.at(-1)).toMatchObject({ type: 'chat.answered', data: { turnId, inputTokens: 250, outputTokens: 50, toolCalls: 8 } });
  await socket.close();

  // What the model was offered and told.
  const reqs = requestsOf(u);
  expect(reqs).toHaveLength(5);
  for (const r of reqs) {
    const names = ((r.body as { tools: { function: { name: string } }[] }).tools).map((t) => t.function.name);
    expect(names.sort()).toEqual(['list_files', 'read_file', 'search']);
    // The key pays for the call in its header; it is never in what the model reads.
    expect(JSON.stringify(r.body)).not.toContain(u.apiKey);
  }
  const toolResults = (r: RecordedRequest) => (r.body as { messages: { role: string; content: string }[] }).messages.filter((m) => m.role === 'tool').map((m) => m.content);
  expect(toolResults(reqs[1]!)[0]).toContain('src/todo.ts');
  expect(toolResults(reqs[2]!)).toEqual(expect.arrayContaining([expect.stringContaining('export const answer = 42;'), expect.stringContaining('src/todo.ts:1: export function addTodo')]));
  const refused = toolResults(reqs[3]!).slice(-2);
  for (const t of refused) expect(t).toMatch(/is not available: the project chat is read-only/);
  const last = toolResults(reqs[4]!).slice(-3);
  expect(last[0]).toMatch(/Tool "run_command" is not available/);
  expect(last[1]).toMatch(/path|\.\./i);
  expect(last[2]).toMatch(/\.git\/config is inside the git repository's internals/);

  // Nothing changed: same commits, same files, same contents.
  expect(await workspaceState(u.projectId)).toBe(before);

  // Usage: one settled ledger row per model call, with the project and no run; in GET /api/usage too.
  const ledger = await server.ctx.db.query<{ n: number; input: number; output: number; runs: number }>(
    `SELECT count(*)::int AS n, sum(input_tokens)::int AS input, sum(output_tokens)::int AS output, count(run_id)::int AS runs
     FROM usage_ledger WHERE user_id = $1 AND project_id = $2 AND status = 'settled'`,
    [u.userId, u.projectId],
  );
  expect(ledger.rows[0]).toEqual({ n: 5, input: 250, output: 50, runs: 0 });
  const month = await api('GET', '/api/usage', { token: u.token });
  expect(month.body.usedTokens).toBe(300);

  // Every stored chat event parses with the catalogue.
  const events = await new EventsRepo(server.ctx.db).listSince(u.projectId, u.userId, 0);
  const chatEvents = events.filter((e) => e.type.startsWith('chat.'));
  expect(chatEvents.map((e) => e.type)).toEqual(['chat.started', 'chat.answered']);
  for (const e of chatEvents) expect(parseEventData(e.type, e.data)).toMatchObject({ ok: true });
}, 60_000);

test('history is paged, resent as context, exportable as Markdown and JSON, and cleared', async () => {
  const u = await newChatUser();
  script(u, [{ text: 'First answer.' }, { text: 'Second answer.' }, { text: 'Third answer.' }]);
  for (const q of ['one?', 'two?', 'three?']) expect((await ask(u, q)).status).toBe(200);
  // The third question continued the conversation: the earlier turns went with it.
  const third = requestsOf(u).at(-1)!;
  const msgs = (third.body as { messages: { role: string; content: string }[] }).messages.filter((m) => m.role !== 'system').map((m) => m.content);
  expect(msgs).toEqual(['one?', 'First answer.', 'two?', 'Second answer.', 'three?']);

  const page1 = await api('GET', `/api/projects/${u.projectId}/chat?limit=2`, { token: u.token });
  expect(page1.status).toBe(200);
  expect(page1.body.turns.map((t: { question: string }) => t.question)).toEqual(['three?', 'two?']);
  expect(page1.body.nextCursor).toEqual(expect.any(String));
  const page2 = await api('GET', `/api/projects/${u.projectId}/chat?limit=2&cursor=${page1.body.nextCursor}`, { token: u.token });
  expect(page2.body.turns.map((t: { question: string }) => t.question)).toEqual(['one?']);
  expect(page2.body.nextCursor).toBeNull();
  expect((await api('GET', `/api/projects/${u.projectId}/chat?cursor=nope`, { token: u.token })).body.error.code).toBe('E_VALIDATION');

  const md = await api('GET', `/api/projects/${u.projectId}/chat/export?format=md`, { token: u.token });
  expect(md.status).toBe(200);
  expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
  expect(md.headers.get('content-disposition')).toMatch(/attachment; filename="todo-app[^"]*-chat\.md"/);
  expect(md.text).toMatch(/^# Chat: Todo App/);
  expect(md.text.indexOf('> one?')).toBeLessThan(md.text.indexOf('Second answer.'));
  const json = await api('GET', `/api/projects/${u.projectId}/chat/export?format=json`, { token: u.token });
  expect(json.body.turns.map((t: { answer: string }) => t.answer)).toEqual(['First answer.', 'Second answer.', 'Third answer.']);
  expect((await api('GET', `/api/projects/${u.projectId}/chat/export?format=pdf`, { token: u.token })).body.error.code).toBe('E_VALIDATION');

  // Another user sees none of it.
  const other = await newChatUser();
  expect((await api('GET', `/api/projects/${u.projectId}/chat`, { token: other.token })).status).toBe(404);
  expect((await api('GET', `/api/projects/${u.projectId}/chat/export`, { token: other.token })).status).toBe(404);
  expect((await api('DELETE', `/api/projects/${u.projectId}/chat`, { token: other.token })).status).toBe(404);
  expect((await ask({ ...u, token: other.token, keyId: other.keyId }, 'hi')).status).toBe(404);

  const cleared = await api('DELETE', `/api/projects/${u.projectId}/chat`, { token: u.token });
  expect(cleared.body).toEqual({ deleted: 3 });
  expect((await api('GET', `/api/projects/${u.projectId}/chat`, { token: u.token })).body.turns).toEqual([]);
  const events = await new EventsRepo(server.ctx.db).listSince(u.projectId, u.userId, 0);
  expect(events.at(-1)).toMatchObject({ type: 'chat.cleared', data: { turns: 3 } });
}, 60_000);

test('bounded by the plan: question length, monthly tokens and model turns', async () => {
  const u = await newChatUser('free');
  const long = await ask(u, 'x'.repeat(2001));
  expect(long.status).toBe(400);
  expect(long.body.error.code).toBe('E_VALIDATION');
  expect(long.body.error.message).toMatch(/at most 2000 characters on the Free plan/);

  // Model turns: the free plan's 6, the last one asked to answer; a model that only calls tools is stopped.
  script(u, Array.from({ length: 6 }, () => ({ toolCalls: [{ name: 'list_files', arguments: {} }] })));
  const turns = await ask(u, 'loop forever');
  expect(turns.status).toBe(402);
  expect(turns.body.error).toMatchObject({ code: 'E_LIMIT', details: { limit: 'chat_max_model_turns', max: 6 } });
  expect(requestsOf(u)).toHaveLength(6);
  expect(JSON.stringify(requestsOf(u).at(-1)!.body)).toContain('This is your last turn');

  // Monthly tokens: nothing is sent when the call's worst case does not fit.
  await server.ctx.db.query("UPDATE plans SET monthly_token_limit = 10 WHERE id = 'free'");
  try {
    const sent = requestsOf(u).length;
    const over = await ask(u, 'anything?');
    expect(over.status).toBe(402);
    expect(over.body.error.code).toBe('E_LIMIT');
    expect(requestsOf(u)).toHaveLength(sent);
  } finally {
    await server.ctx.db.query("UPDATE plans SET monthly_token_limit = 200000 WHERE id = 'free'");
  }
  const history = await api('GET', `/api/projects/${u.projectId}/chat`, { token: u.token });
  expect(history.body.turns.map((t: { status: string; error: string }) => [t.status, t.error.slice(0, 14)])).toEqual([
    ['failed', 'limit_exceeded'],
    ['failed', 'limit_exceeded'],
  ]);
}, 60_000);

test('an answer becomes a change request with one call', async () => {
  const u = await newChatUser();
  script(u, [{ text: 'Add a `priority` field to addTodo in src/todo.ts.' }]);
  const turn = (await ask(u, 'How would I add priorities?')).body.turn;
  const gen = await api('POST', `/api/projects/${u.projectId}/generate`, { token: u.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: u.keyId, fromChatTurn: turn.id } });
  expect(gen.status).toBe(202);
  expect(gen.body.run.prompt).toContain('How would I add priorities?');
  expect(gen.body.run.prompt).toContain('Add a `priority` field to addTodo in src/todo.ts.');

  const other = await newChatUser();
  const foreign = await api('POST', `/api/projects/${other.projectId}/generate`, { token: other.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: other.keyId, fromChatTurn: turn.id } });
  expect(foreign.status).toBe(404);

  // A failed turn has no answer to build from.
  await server.ctx.db.query("UPDATE plans SET monthly_token_limit = 10 WHERE id = 'starter'");
  await server.ctx.db.query("UPDATE users SET plan_id = 'starter' WHERE id = $1", [other.userId]);
  try {
    const failed = (await ask(other, 'anything?')).body;
    expect(failed.error.code).toBe('E_LIMIT');
    const [t] = (await api('GET', `/api/projects/${other.projectId}/chat`, { token: other.token })).body.turns;
    const refused = await api('POST', `/api/projects/${other.projectId}/generate`, { token: other.token, body: { provider: 'openai-compatible', model: 'fake-model', keyId: other.keyId, fromChatTurn: t.id } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/fromChatTurn: .*failed/);
  } finally {
    await server.ctx.db.query("UPDATE plans SET monthly_token_limit = 2000000 WHERE id = 'starter'");
  }
}, 60_000);

test('a client that goes away cancels the answer; a turn a dead process left unanswered is failed', async () => {
  const u = await newChatUser();
  // A slow model: the client leaves while it is still streaming.
  script(u, [{ text: 'a very slow answer that nobody waits for', chunkSize: 2, chunkDelayMs: 200 }]);
  const abort = new AbortController();
  const pending = fetch(`${server.url}/api/projects/${u.projectId}/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'slow?', provider: 'openai-compatible', model: 'fake-model', keyId: u.keyId }),
    signal: abort.signal,
  }).catch((err: unknown) => err);
  const status = async () => (await server.ctx.db.query<{ status: string }>('SELECT status FROM chat_turns WHERE project_id = $1', [u.projectId])).rows[0]?.status;
  expect(await eventually(status, 'answering', 10_000)).toBe('answering');
  await new Promise((r) => setTimeout(r, 500));
  abort.abort();
  await pending;
  expect(await eventually(status, 'failed', 10_000)).toBe('failed');
  const events = await new EventsRepo(server.ctx.db).listSince(u.projectId, u.userId, 0);
  expect(events.at(-1)).toMatchObject({ type: 'chat.failed', data: { code: 'E_CANCELLED' } });
  // The provider's stream was closed too, not left running.
  expect(await eventually(async () => requestsOf(u).at(-1)?.clientClosed, true, 10_000)).toBe(true);

  // A turn still "answering" an hour after it was asked belongs to a process that died.
  await server.ctx.db.query(
    "INSERT INTO chat_turns (project_id, user_id, question, provider, model, created_at) VALUES ($1, $2, 'lost?', 'openai', 'm', now() - interval '2 hours'), ($1, $2, 'live?', 'openai', 'm', now())",
    [u.projectId, u.userId],
  );
  expect(await new ChatRepo(server.ctx.db).failAbandoned(60 * 60_000)).toBe(1);
  const turns = (await api('GET', `/api/projects/${u.projectId}/chat`, { token: u.token })).body.turns as { question: string; status: string }[];
  expect(turns.map((t) => [t.question, t.status])).toEqual([['live?', 'answering'], ['slow?', 'failed'], ['lost?', 'failed']]);
}, 60_000);

test("the same loop over Anthropic's wire protocol (the official SDK, tool_use and tool_result blocks)", async () => {
  const u = await newChatUser();
  const apiKey = fakeSecret('sk-ant-');
  const key = await api('POST', '/api/user/api-keys', { token: u.token, body: { provider: 'anthropic', apiKey } });
  expect(key.status).toBe(201);
  fake.setScript({
    turns: [
      { match: { apiKey }, toolCalls: [{ name: 'search', arguments: { query: 'answer', under: 'src' } }], usage: { input: 40, output: 5 } },
      { match: { apiKey }, text: 'src/index.ts exports answer.', usage: { input: 60, output: 7 } },
    ],
  });
  const res = await api('POST', `/api/projects/${u.projectId}/chat`, { token: u.token, body: { message: 'What is exported?', provider: 'anthropic', model: 'claude-test', keyId: key.body.id } });
  expect(res.status).toBe(200);
  expect(res.body.turn).toMatchObject({ status: 'answered', answer: 'src/index.ts exports answer.', usage: { inputTokens: 100, outputTokens: 12, toolCalls: 1 } });
  const reqs = fake.requests.filter((r) => r.apiKey === apiKey && r.path.endsWith('/messages'));
  expect(reqs).toHaveLength(2);
  const second = JSON.stringify(reqs[1]!.body);
  expect(second).toContain('tool_result');
  expect(second).toContain('src/index.ts:1: export const answer = 42;');
  expect(second).not.toContain(apiKey);
}, 60_000);
