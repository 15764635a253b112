import { randomUUID } from 'node:crypto';
import { UsersRepo } from '../../db/repos/users.js';
import { isTerminal } from '../../runs/run-status.js';
import { RunsRepo, type Run } from '../../runs/runs-repo.js';
import { startFakeLlm, type FakeLlm, type FakeTurn } from '../../scripts/fake-llm/server.js';
import { dumpDatabase, fakeSecret } from '../keys/fixtures.js';
import { apiClient, registerUser, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Providers echo the key in their errors ("Incorrect API key provided: sk-…"). Made to do so in each
 * of the shapes it arrives in, over each wire format, the key must appear nowhere: not in the
 * server's log lines, the database (run reason, events, anything), nor any API response.
 */
const ECHO = 'Incorrect API key provided: {apiKey}. You can find your API key at https://example.invalid/keys.';

const MISBEHAVIOURS: [string, FakeTurn][] = [
  ['a 401 JSON error body', { status: 401, errorMessage: ECHO }],
  ['a 400 JSON error body', { status: 400, errorMessage: ECHO }],
  ['an SSE error event after some text', { text: 'Working on the plan for your app now.', chunkSize: 4, streamErrorAfterChunks: 5, status: 401, errorMessage: ECHO }],
  ['a 200 whose body is an error', { errorInOkBody: true, status: 401, errorMessage: ECHO }],
];
const PROVIDERS = ['openai-compatible', 'anthropic', 'groq'] as const;

describe('a provider that echoes the API key', () => {
  let fake: FakeLlm;
  let server: TestServer;
  let api: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    fake = await startFakeLlm();
    server = await startTestServer('pglite', {
      SAMOKODER_ANTHROPIC_BASE_URL: fake.baseUrls.anthropic,
      SAMOKODER_GROQ_BASE_URL: fake.baseUrls.groq,
      SAMOKODER_LLM_MAX_RETRIES: 0,
      SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
    });
    api = apiClient(server.url);
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  describe.each(PROVIDERS)('over the %s wire format', (provider) => {
    test.each(MISBEHAVIOURS)('in %s: the key is in no log line, database row or API response', async (_name, misbehaviour) => {
      const user = await registerUser(api);
      await new UsersRepo(server.ctx.db).setPlan(user.userId, 'unlimited');
      // A shape the logger's pattern net would not catch: only the LLM layer's scrubbing can.
      const apiKey = `${provider}-${randomUUID()}-${fakeSecret('')}`;
      const key = await api('POST', '/api/user/api-keys', {
        token: user.token,
        body: { provider, apiKey, ...(provider === 'openai-compatible' ? { baseUrl: fake.baseUrls['openai-compatible'] } : {}) },
      });
      expect(key.status).toBe(201);
      fake.setScript({ turns: [{ ...misbehaviour, match: { apiKey } }] });
      const project = await api('POST', '/api/projects', { token: user.token, body: { prompt: 'a sum function' } });
      const projectId: string = project.body.project.id;
      const gen = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider, model: 'fake-model', keyId: key.body.id } });
      expect(gen.status).toBe(202);
      const run = await waitForRun(server, gen.body.run.id);
      expect(run.status).toBe('failed');
      if (!misbehaviour.errorInOkBody) {
        // The provider's words reach the user, with the key masked to its last four characters.
        const events = await server.ctx.db.query('SELECT data FROM events WHERE run_id = $1', [run.id]);
        // (The mask keeps a key's well-known prefix, e.g. `sk-…abcd`, and its last four characters.)
        expect(JSON.stringify(events.rows)).toMatch(new RegExp(`Incorrect API key provided: [a-z-]*…${apiKey.slice(-4)}\\.`));
      }
      // The fake was reached with this key and answered as scripted.
      expect(fake.requests.some((r) => r.apiKey === apiKey)).toBe(true);

      const responses = [
        gen.text,
        (await api('GET', `/api/projects/${projectId}/runs/${run.id}`, { token: user.token })).text,
        (await api('GET', `/api/projects/${projectId}/runs`, { token: user.token })).text,
        (await api('GET', `/api/projects/${projectId}`, { token: user.token })).text,
      ];
      expect(responses.join('\n')).toContain(run.id);
      for (const [where, text] of [
        ['log lines', server.logs.join('')],
        ['database', await dumpDatabase(server.ctx.db)],
        ['API responses', responses.join('\n')],
      ] as const) {
        expect({ where, leaked: text.includes(apiKey) }).toEqual({ where, leaked: false });
      }
    });
  });
});

async function waitForRun(server: TestServer, runId: string): Promise<Run> {
  // Far beyond the few seconds a failing first call takes; it only rules out "never finishes".
  const end = Date.now() + 120_000;
  for (;;) {
    const run = await new RunsRepo(server.ctx.db).getById(runId);
    if (run && isTerminal(run.status)) return run;
    if (Date.now() > end) throw new Error(`run ${runId} did not finish (status ${run?.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
