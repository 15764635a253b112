// `samokoder login`, `keys add|list|rm` and `usage` against a running service.
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ensureCliBuilt, runCli } from './cli.js';

let server: TestServer;

beforeAll(async () => {
  ensureCliBuilt();
  server = await startTestServer('pglite', { SAMOKODER_SANDBOX: 'off' });
}, 120_000);
afterAll(() => server?.close());

test('login, keys add/list/rm and usage', async () => {
  const base = { SAMOKODER_URL: server.url, SAMOKODER_TOKEN: undefined };
  const login = await runCli(['login', '--email', 'cli@example.com', '--register'], { ...base, SAMOKODER_PASSWORD: 'correct horse battery' });
  expect(login.code).toBe(0);
  const token = /^export SAMOKODER_TOKEN=(\S+)$/m.exec(login.stdout)?.[1];
  expect(token).toBeDefined();
  const env = { ...base, SAMOKODER_TOKEN: token };

  const secret = 'sk-cli-remote-secret-abcd1234';
  const add = await runCli(['keys', 'add', '--provider', 'openai-compatible', '--base-url', 'http://127.0.0.1:11434/v1', '--key-env', 'MY_KEY', '--label', 'ollama'], { ...env, MY_KEY: secret });
  expect(add.code).toBe(0);
  expect(add.stdout).toMatch(/stored openai-compatible key \S+ as [0-9a-f-]{36}/);
  expect(add.stdout + add.stderr).not.toContain(secret);
  const id = /as ([0-9a-f-]{36})/.exec(add.stdout)![1]!;

  const list = await runCli(['keys', 'list'], env);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain(id);
  expect(list.stdout).toContain('http://127.0.0.1:11434/v1');
  expect(list.stdout).not.toContain(secret);
  const listJson = await runCli(['keys', 'list', '--json'], env);
  expect(JSON.parse(listJson.stdout)).toEqual([expect.objectContaining({ id, provider: 'openai-compatible', label: 'ollama' })]);

  const usage = await runCli(['usage'], env);
  expect(usage.code).toBe(0);
  expect(usage.stdout).toMatch(/plan/);
  expect(usage.stdout).toMatch(/tokens\s+\[/);

  expect((await runCli(['keys', 'rm', id], env)).code).toBe(0);
  expect((await runCli(['keys', 'list'], env)).stdout).toContain('no keys stored');
  // A missing key is bad input; no token is bad input; a wrong token is an auth error (bad input).
  expect((await runCli(['keys', 'rm', id], env)).code).toBe(2);
  expect((await runCli(['usage'], base)).code).toBe(2);
  expect((await runCli(['usage'], { ...base, SAMOKODER_TOKEN: 'nope' })).code).toBe(2);
}, 120_000);
