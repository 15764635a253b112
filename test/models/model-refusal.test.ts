// A run, a role, a chat turn or an estimate naming a retired model (or, on a provider with a closed
// model list, a name the user's key did not list) is refused at once with a stable code: nothing is
// stored, reserved or sent to the provider. Through the real HTTP API and the CLI.
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { fakeSecret } from '../keys/fixtures.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { ensureCliBuilt, runCli } from '../cli/cli.js';

let server: TestServer;
let fake: FakeLlm;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  ensureCliBuilt();
  fake = await startFakeLlm();
  server = await startTestServer('pglite', {
    SAMOKODER_SANDBOX: 'off',
    SAMOKODER_RUN_WORKER: false,
    SAMOKODER_LLM_MAX_RETRIES: 0,
    SAMOKODER_OPENAI_BASE_URL: fake.baseUrls.openai,
  });
  api = apiClient(server.url);
  // The operator retires a model (as the admin route or a newer seed file does).
  await server.ctx.llm.catalogue.edit({ provider: 'openai', model: 'gpt-4o', retired: true });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

/** A user with a validated OpenAI key (its provider listed `listed`), an openai-compatible key and a project. */
async function tenant(listed: string[]): Promise<{ token: string; projectId: string; openaiKey: string; compatKey: string }> {
  const user = await registerUser(api);
  fake.setScript({ models: listed });
  const openai = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: fakeSecret(), validate: true } });
  expect(openai.status).toBe(201);
  fake.setScript({});
  const compat = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai-compatible', apiKey: fakeSecret(), baseUrl: fake.baseUrls['openai-compatible'] } });
  expect(compat.status).toBe(201);
  const project = await api('POST', '/api/projects', { token: user.token, body: { name: 'Todo', prompt: 'a todo app' } });
  expect(project.status).toBe(201);
  return { token: user.token, projectId: project.body.project.id, openaiKey: openai.body.id, compatKey: compat.body.id };
}

async function countRows(table: string, projectId: string): Promise<number> {
  const res = await server.ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [projectId]);
  return res.rows[0]!.n;
}

test('a retired model is refused for a run, a role, a chat turn and an estimate, naming the replacement; nothing is stored or called', async () => {
  const t = await tenant(['gpt-4o', 'gpt-4o-mini', 'gpt-5']);
  const requestsBefore = fake.requests.length;
  const start = (body: Record<string, unknown>) => api('POST', `/api/projects/${t.projectId}/generate`, { token: t.token, body: { provider: 'openai', keyId: t.openaiKey, ...body } });

  const run = await start({ model: 'gpt-4o' });
  expect(run.status).toBe(400);
  expect(run.body.error.code).toBe('E_MODEL_RETIRED');
  expect(run.body.error.message).toMatch(/^The model openai\/gpt-4o was retired on \d{4}-\d{2}-\d{2}: use gpt-5 instead, or pick another from GET \/api\/models\.$/);
  // A dated snapshot of the retired family is retired too, even though the key's list still names the family.
  expect((await start({ model: 'gpt-4o-2024-08-06' })).body.error.code).toBe('E_MODEL_RETIRED');
  // A role naming it: on the run's provider, and on a role's own provider.
  const role = await start({ model: 'gpt-5', models: { fixer: { model: 'gpt-4o' } } });
  expect(role.status).toBe(400);
  expect(role.body.error.code).toBe('E_MODEL_RETIRED');
  const otherProvider = await api('POST', `/api/projects/${t.projectId}/generate`, {
    token: t.token,
    body: { provider: 'openai-compatible', model: 'fake-model', keyId: t.compatKey, models: { planner: { provider: 'openai', model: 'gpt-4o' } } },
  });
  expect(otherProvider.body.error.code).toBe('E_MODEL_RETIRED');

  const chat = await api('POST', `/api/projects/${t.projectId}/chat`, { token: t.token, body: { message: 'What does it do?', provider: 'openai', model: 'gpt-4o', keyId: t.openaiKey } });
  expect(chat.status).toBe(400);
  expect(chat.body.error.code).toBe('E_MODEL_RETIRED');

  const estimate = await api('POST', `/api/projects/${t.projectId}/estimate`, { token: t.token, body: { prompt: 'a todo app', provider: 'openai', model: 'gpt-5', models: { coder: { model: 'gpt-4o' } } } });
  expect(estimate.status).toBe(400);
  expect(estimate.body.error.code).toBe('E_MODEL_RETIRED');

  expect(await countRows('runs', t.projectId)).toBe(0);
  expect(await countRows('chat_turns', t.projectId)).toBe(0);
  expect(fake.requests.length).toBe(requestsBefore);

  // The CLI shows the service's message and exits as for bad input.
  const cli = await runCli(['chat', t.projectId, 'What does it do?', '--provider', 'openai', '--model', 'gpt-4o', '--key-id', t.openaiKey], { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: t.token });
  expect(cli.code).toBe(2);
  expect(cli.stderr).toContain('The model openai/gpt-4o was retired on');
  expect(cli.stderr).toContain('use gpt-5 instead');

  // Not retired: the same run is accepted.
  expect((await start({ model: 'gpt-5', models: { fixer: { model: 'gpt-4o-mini' } } })).status).toBe(202);
}, 120_000);

test("an unknown model: refused on a closed list the user's key listed, allowed on open lists and without a list", async () => {
  const t = await tenant(['gpt-5', 'ft:gpt-4o-mini:acme']);
  const estimate = (body: Record<string, unknown>) => api('POST', `/api/projects/${t.projectId}/estimate`, { token: t.token, body: { prompt: 'a todo app', ...body } });

  const unknown = await api('POST', `/api/projects/${t.projectId}/generate`, { token: t.token, body: { provider: 'openai', model: 'gpt-imaginary', keyId: t.openaiKey } });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.code).toBe('E_MODEL_UNKNOWN');
  expect(unknown.body.error.message).toContain('openai/gpt-imaginary');
  expect(unknown.body.error.message).toContain('POST /api/user/api-keys/:id/models');
  expect((await estimate({ provider: 'openai', model: 'gpt-5', models: { coder: { model: 'gpt-imaginary' } } })).body.error.code).toBe('E_MODEL_UNKNOWN');
  expect(await countRows('runs', t.projectId)).toBe(0);

  // What the key listed (a fine-tune the catalogue does not know) and the catalogue's own models pass.
  expect((await estimate({ provider: 'openai', model: 'ft:gpt-4o-mini:acme' })).status).toBe(200);
  expect((await estimate({ provider: 'openai', model: 'gpt-4.1' })).status).toBe(200);
  // Open model lists take any name.
  expect((await estimate({ provider: 'openai-compatible', model: 'qwen2.5-coder:7b' })).status).toBe(200);
  expect((await estimate({ provider: 'openrouter', model: 'some-lab/new-model' })).status).toBe(200);
  // No list to check against (this user has no Anthropic key that listed models): let through.
  expect((await estimate({ provider: 'anthropic', model: 'claude-from-the-future' })).status).toBe(200);

  const run = await api('POST', `/api/projects/${t.projectId}/generate`, {
    token: t.token,
    body: { provider: 'openai', model: 'ft:gpt-4o-mini:acme', keyId: t.openaiKey, models: { coder: { provider: 'openai-compatible', model: 'local-coder' } } },
  });
  expect(run.status).toBe(202);
}, 120_000);
