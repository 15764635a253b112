// `samokoder build` end to end: the compiled CLI runs the pipeline in-process against the fake LLM
// server, writes a ZIP, and the unzipped project's own tests pass.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { todoAppScript } from '../web/fake-app.js';
import { extractZip } from '../web/zip.js';
import { ensureCliBuilt, runCli } from './cli.js';

let fake: FakeLlm;
let dir: string;
const sandboxEnv = { SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest', LOG_LEVEL: undefined, DATABASE_URL: undefined };

beforeAll(async () => {
  ensureCliBuilt();
  fake = await startFakeLlm({ script: todoAppScript() });
  dir = await mkdtemp(path.join(os.tmpdir(), 'samokoder-cli-'));
}, 120_000);
afterAll(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('build writes a ZIP whose tests pass when unzipped and run', async () => {
  const out = path.join(dir, 'app.zip');
  const secret = 'sk-cli-secret-never-printed-9876';
  const res = await runCli(['build', 'A tiny todo list library with tests', '--base-url', fake.baseUrls['openai-compatible'], '--model', 'fake-model', '--key-env', 'FAKE_KEY', '--out', out], { ...sandboxEnv, FAKE_KEY: secret });
  expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
  // Plain progress lines when stdout is not a TTY: every step, then the summary.
  for (const line of ['▶ planner', '✓ planner', '✓ architect', '✓ coder core', '✓ coder tests', '✓ verify', 'wrote src/todo.js', '✓ done:']) expect(res.stdout).toContain(line);
  expect(res.stdout).not.toContain(secret);
  expect(res.stdout).not.toContain('\u001b['); // no terminal control codes in a pipe
  // The key reached the model server, so it was used but never shown.
  expect(fake.requests.some((r) => r.apiKey === secret)).toBe(true);

  const project = path.join(dir, 'app');
  const names = await extractZip(await readFile(out), project);
  expect(names).toEqual(expect.arrayContaining(['package.json', 'src/todo.js', 'test/todo.test.js']));
  const tests = spawnSync(process.execPath, ['--test'], { cwd: project, encoding: 'utf8' });
  expect({ status: tests.status, out: tests.stdout.slice(-400) }).toMatchObject({ status: 0 });
  expect(tests.stdout).toMatch(/# pass 3/);
}, 240_000);

test('without a Docker engine it fails at once: one line with the fix and the log file, no log lines on the terminal', async () => {
  const requestsBefore = fake.requests.length;
  const out = path.join(dir, 'no-sandbox.zip');
  const res = await runCli(['build', 'A tiny todo list library with tests', '--base-url', fake.baseUrls['openai-compatible'], '--model', 'fake-model', '--out', out], { ...sandboxEnv, DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  expect(res.code).toBe(1);
  const errLines = res.stderr.trim().split('\n');
  expect(errLines).toHaveLength(1);
  expect(errLines[0]).toMatch(/^samokoder: No Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock \(ENOENT\)\. Fix: start Docker: sudo node scripts\/ensure-docker\.mjs\. \(E_SANDBOX_UNAVAILABLE\) \(service log: (\S+\.log)\)$/);
  // No JSON log line reached the terminal; they are in the file the message names.
  for (const line of `${res.stdout}\n${res.stderr}`.split('\n')) expect(line.trimStart().startsWith('{')).toBe(false);
  const logFile = /\(service log: (\S+\.log)\)$/.exec(errLines[0]!)![1]!;
  expect(existsSync(logFile)).toBe(true);
  expect(await readFile(logFile, 'utf8')).toContain('sandbox unavailable: No Docker engine answers');
  await rm(logFile, { force: true });
  // Refused before any run: the model was never called and no ZIP was written.
  expect(fake.requests.length).toBe(requestsBefore);
  expect(existsSync(out)).toBe(false);
}, 300_000);

test('bad input exits 2 with a message', async () => {
  const noPrompt = await runCli(['build', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm']);
  expect(noPrompt.code).toBe(2);
  expect(noPrompt.stderr).toMatch(/what should it build/);
  const noKey = await runCli(['build', 'x', '--provider', 'anthropic', '--key-env', 'SAMOKODER_TEST_UNSET_VAR']);
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toMatch(/SAMOKODER_TEST_UNSET_VAR is not set/);
  const badBudget = await runCli(['build', 'x', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--max-tokens', 'lots']);
  expect(badBudget.code).toBe(2);
  expect(badBudget.stderr).toMatch(/--max-tokens must be a whole number above 0, e\.g\. --max-tokens 200000 \(got "lots"\)/);
  const freeBudget = await runCli(['build', 'x', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--max-cost', '0']);
  expect(freeBudget.code).toBe(2);
  expect(freeBudget.stderr).toMatch(/--max-cost must be a dollar amount above 0/);
  const unknown = await runCli(['build', 'x', '--nope']);
  expect(unknown.code).toBe(2);
  expect((await runCli(['frobnicate'])).code).toBe(2);
});
