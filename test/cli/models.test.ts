// `samokoder models` against a running service: the catalogue as a table, as JSON, and bad input.
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { ensureCliBuilt, runCli } from './cli.js';

let server: TestServer;

beforeAll(async () => {
  ensureCliBuilt();
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off' });
}, 120_000);
afterAll(() => server?.close());

test('samokoder models [--provider P] lists models with limits, prices and recommendations', async () => {
  const { token } = await registerUser(apiClient(server.url));
  const env = { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: token };

  const openai = await runCli(['models', '--provider', 'openai'], env);
  expect(openai.code).toBe(0);
  expect(openai.stdout).toMatch(/^PROVIDER\s+MODEL\s+CONTEXT\s+OUTPUT/m);
  // gpt-4o-mini: 128k context, 16.4k output, $0.15 in, $0.075 cached, $0.60 out.
  expect(openai.stdout).toMatch(/^openai\s+gpt-4o-mini\s+128\.0k\s+16\.4k\s+\$0\.15 \/ \$0\.075 \/ \$0\.6\s+yes/m);
  expect(openai.stdout).toMatch(/^openai\s+gpt-5\s.*coder:strong/m);
  expect(openai.stdout).not.toMatch(/^anthropic/m);
  expect(openai.stdout).toMatch(/prices as of \d{4}-\d{2}-\d{2}/);

  const json = await runCli(['models', '--json'], env);
  expect(json.code).toBe(0);
  const catalogue = JSON.parse(json.stdout);
  expect(catalogue.providers.map((p: { id: string }) => p.id)).toEqual(['anthropic', 'openai', 'groq', 'openrouter', 'openai-compatible']);

  const bad = await runCli(['models', '--provider', 'nope'], env);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('unknown provider "nope"');
  expect((await runCli(['models'], { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: undefined })).code).toBe(2);
}, 120_000);
