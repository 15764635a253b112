import { runJobKey } from '../../runs/runs-repo.js';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.js';
import { NO_WORKER } from '../api/fixtures.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';
import { newProjectFixture, projectEvents, requestsOf, startHarness, startRun, waitForRun, type Harness } from '../pipeline/harness.js';
import { dumpDatabase, fakeSecret } from './fixtures.js';

/** The fake's openai-compatible base URL with another host (same port: the fake does listen there on 127.0.0.1). */
const onHost = (fake: FakeLlm, host: string): string => {
  const url = new URL(fake.baseUrls['openai-compatible']);
  url.hostname = host;
  return url.toString();
};

describe('POST /api/user/api-keys refuses base URLs on non-public addresses (SSRF)', () => {
  let fake: FakeLlm;
  let strict: TestServer;
  let open: TestServer;
  beforeAll(async () => {
    fake = await startFakeLlm();
    // A hosted deployment's setting, and the default (self-hosters' local model servers allowed).
    [strict, open] = await Promise.all([
      startTestServer('pglite', { ...NO_WORKER, SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: false }),
      startTestServer('pglite', { ...NO_WORKER }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([strict?.close(), open?.close(), fake?.close()]);
  });

  /** Creates a key with validation on (so a request would go out at once if the check came later). */
  async function createKey(server: TestServer, baseUrl: string) {
    const api = apiClient(server.url);
    const user = await registerUser(api);
    const apiKey = fakeSecret();
    const res = await api('POST', '/api/user/api-keys', {
      token: user.token,
      body: { provider: 'openai-compatible', apiKey, baseUrl, validate: true, validateModel: 'fake-model' },
    });
    const keys = await api('GET', '/api/user/api-keys', { token: user.token });
    return { res, keys: keys.body.keys as unknown[], apiKey, sent: fake.requests.filter((r) => r.apiKey === apiKey) };
  }

  const privateHosts = ['127.0.0.1', '[::1]', '0x7f000001', '10.0.0.5', '192.168.1.10', 'localhost', 'localhost.', 'ollama.localhost'];
  const alwaysRefused = ['169.254.169.254', '[::ffff:169.254.169.254]', '0.0.0.0', '[fe80::1]', '100.100.100.200'];

  test.each([...privateHosts, ...alwaysRefused])('with private base URLs disallowed, %s → 400 E_BASE_URL_TARGET naming the variable; nothing stored or sent', async (host) => {
    const { res, keys, apiKey, sent } = await createKey(strict, onHost(fake, host));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('E_BASE_URL_TARGET');
    expect(res.body.error.message).toMatch(/^baseUrl: refused, .*SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=true.*Nothing was stored\.$/);
    expect(res.text).not.toContain(apiKey);
    expect(keys).toEqual([]);
    expect(sent).toEqual([]);
    expect(await dumpDatabase(strict.ctx.db)).not.toContain(apiKey);
  });

  test("a key check connecting to a refused address fails with E_BASE_URL_TARGET, not as an invalid key (the service's own gateway and setting)", async () => {
    // What a name resolving to loopback meets at validation; a literal IP reaches the same check
    // when the route's URL check is bypassed, as here.
    const apiKey = fakeSecret();
    const checked = strict.ctx.llm.gateway.validateKey({ provider: 'openai-compatible', apiKey, baseUrl: fake.baseUrls['openai-compatible'] }, 'fake-model');
    await expect(checked).rejects.toMatchObject({ code: 'E_BASE_URL_TARGET', status: 400 });
    expect(fake.requests.filter((r) => r.apiKey === apiKey)).toEqual([]);
    expect(await open.ctx.llm.gateway.validateKey({ provider: 'openai-compatible', apiKey, baseUrl: fake.baseUrls['openai-compatible'] }, 'fake-model')).toMatchObject({ ok: true, method: 'list' });
  });

  test('by default a model server on loopback is validated and stored; link-local and metadata addresses still are not', async () => {
    const local = await createKey(open, fake.baseUrls['openai-compatible']);
    expect(local.res.status).toBe(201);
    expect(local.res.body.validation).toMatchObject({ ok: true, method: 'list' });
    expect(local.sent).toHaveLength(1);
    for (const host of alwaysRefused) {
      const { res, keys, sent } = await createKey(open, onHost(fake, host));
      expect({ host, status: res.status, code: res.body.error?.code }).toEqual({ host, status: 400, code: 'E_BASE_URL_TARGET' });
      expect(res.body.error.message).toMatch(/refused even with SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=true/);
      expect(keys).toEqual([]);
      expect(sent).toEqual([]);
    }
  });
});

describe('a run whose key points at loopback, on a deployment that disallows it (pglite)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('pglite', { SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS: 'false', SAMOKODER_SANDBOX: 'off' });
  });
  afterAll(async () => {
    await h?.close();
  });

  test('the model call is refused when connecting: the run fails with provider_error at once, nothing reaches the server, no key in the message', async () => {
    // Stored directly: as if stored while the setting allowed it (the API now refuses such a key).
    const fx = await newProjectFixture(h, 'openai-compatible');
    expect(new URL(h.fake.baseUrls['openai-compatible']).hostname).toBe('127.0.0.1');
    const run = await waitForRun(h.server.ctx.db, (await startRun(h, fx)).id);
    expect(run).toMatchObject({ status: 'failed', reason: 'provider_error' });
    const finished = (await projectEvents(h.server.ctx.db, fx)).find((e) => e.runId === run.id && e.type === 'run.finished');
    expect(finished?.data).toMatchObject({ status: 'failed', reason: 'provider_error' });
    const message = String((finished!.data as { message?: unknown }).message);
    expect(message).toMatch(/^E_BASE_URL_TARGET: openai-compatible base URL refused: 127\.0\.0\.1 is a loopback or private-network address; .*SAMOKODER_LLM_ALLOW_PRIVATE_BASE_URLS=true/);
    expect(message).not.toContain(fx.apiKey);
    expect(requestsOf(h, fx)).toEqual([]);
    // Final on the first attempt: not retried by the adapter nor by the run queue.
    const job = await h.server.ctx.db.query<{ attempts: number }>('SELECT attempts FROM jobs WHERE singleton_key = $1', [runJobKey(run.id)]);
    expect(job.rows.map((r) => r.attempts)).toEqual([1]);
  });
});
