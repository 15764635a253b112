// `samokoder chat` against a running service, with the fake LLM behind the official OpenAI SDK.
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { ensureCliBuilt, runCli } from './cli.js';

let server: TestServer;
let fake: FakeLlm;

beforeAll(async () => {
  ensureCliBuilt();
  fake = await startFakeLlm();
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off', SAMOKODER_RUN_WORKER: false, SAMOKODER_LLM_MAX_RETRIES: 0 });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

test('chat: a streamed answer, the history, the export, a change request, clear', async () => {
  const api = apiClient(server.url);
  const user = await registerUser(api);
  const apiKey = fakeSecret();
  const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey, baseUrl: fake.baseUrls['openai-compatible'] } });
  const project = await api('POST', '/api/projects', { token: user.token, body: { name: 'Todo', prompt: 'a todo app' } });
  const projectId: string = project.body.project.id;
  const ws = await server.ctx.workspaces.open(projectId);
  await ws.files.writeFile('src/index.ts', 'export const answer = 42;\n');
  await ws.history.commitAll('coder: first files');
  const answer = 'It exports answer = 42 from src/index.ts; nothing else.';
  fake.setScript({
    turns: [
      { match: { apiKey }, toolCalls: [{ name: 'read_file', arguments: { path: 'src/index.ts' } }] },
      // Small pieces, slowly: the answer reaches the terminal over the WebSocket, piece by piece.
      { match: { apiKey }, text: answer, chunkSize: 4, chunkDelayMs: 5 },
    ],
  });
  const env = { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: user.token };
  const model = ['--provider', 'openai-compatible', '--model', 'fake-model', '--key-id', key.body.id];

  const asked = await runCli(['chat', projectId, 'What does it export?', ...model], env);
  expect(asked.code).toBe(0);
  expect(asked.stdout).toBe(`${answer}\n`);
  expect(asked.stderr).toMatch(/turn [0-9a-f-]{36}: \d+ tokens, 1 file lookups/);
  const turnId = /turn ([0-9a-f-]{36})/.exec(asked.stderr)![1]!;

  const history = await runCli(['chat', projectId, '--history'], env);
  expect(history.stdout).toContain(turnId);
  expect(history.stdout).toContain('Q: What does it export?');
  const md = await runCli(['chat', projectId, '--export', 'md'], env);
  expect(md.stdout).toMatch(/^# Chat: Todo/);
  expect(md.stdout).toContain(answer);

  const change = await runCli(['chat', projectId, '--change', turnId, ...model], env);
  expect(change.code).toBe(0);
  const runId = /run ([0-9a-f-]{36})/.exec(change.stdout)![1]!;
  const run = await api('GET', `/api/projects/${projectId}/runs/${runId}`, { token: user.token });
  expect(run.body.run.prompt).toContain(answer);

  expect((await runCli(['chat', projectId, '--clear'], env)).stdout).toContain('deleted 1 chat turn');
  // Bad input and a missing project are exit code 2; a question needs a provider.
  expect((await runCli(['chat', projectId, 'hi', '--model', 'm'], env)).code).toBe(2);
  expect((await runCli(['chat', '00000000-0000-4000-8000-000000000000', 'hi', ...model], env)).code).toBe(2);
}, 120_000);
