import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { postJson } from '../../webhooks/post.js';
import { enqueueWebhook } from '../../webhooks/queue.js';
import { verifyWebhookSignature } from '../../webhooks/sign.js';
import { classifyAddress, guardedLookup, urlRefusal, WebhookTargetRefusedError } from '../../webhooks/target-guard.js';
import { createWebhookWorker } from '../../webhooks/webhook-worker.js';
import { createLogger } from '../../core/logger.js';
import { ProjectsRepo } from '../../db/repos/projects.js';
import { newProject, waitFor } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/** A local receiver that records what it is sent. */
async function receiver(): Promise<{ port: number; received: { body: string; headers: Record<string, string | string[] | undefined> }[]; close: () => void }> {
  const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, received, close: () => server.close() };
}

describe('webhook target guard: address classes', () => {
  test.each([
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['::1', 'private'],
    ['fd12::1', 'private'],
    ['::ffff:7f00:1', 'private'], // IPv4-mapped 127.0.0.1
    ['169.254.169.254', 'reserved'],
    ['::ffff:a9fe:a9fe', 'reserved'], // IPv4-mapped 169.254.169.254
    ['100.100.100.200', 'reserved'],
    ['fd00:ec2::254', 'reserved'],
    ['fe80::1', 'reserved'],
    ['0.0.0.0', 'reserved'],
    ['::', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['ff02::1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'], // NAT64 of 127.0.0.1
    ['::ffff:808:808', 'reserved'], // IPv4-mapped, even of a public address: no AAAA should say that
    ['not-an-ip', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  test('URL spellings of loopback are caught after WHATWG parsing; names are left to delivery time', () => {
    for (const u of ['http://0x7f000001/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/', 'http://localhost./', 'http://api.localhost:8080/']) {
      expect(urlRefusal(new URL(u), false)).toMatch(/SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true/);
      expect(urlRefusal(new URL(u), true)).toBeUndefined();
    }
    expect(urlRefusal(new URL('http://169.254.169.254/latest/meta-data/'), true)).toMatch(/refused even with/);
    expect(urlRefusal(new URL('https://hooks.example.com/x'), false)).toBeUndefined();
  });

  test('a name resolving to loopback is refused when connecting, before any byte is sent', async () => {
    const r = await receiver();
    try {
      const url = new URL(`http://localhost:${r.port}/hook`);
      const send = (allowPrivate: boolean) => postJson(url, { headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(5000), lookup: guardedLookup(allowPrivate) });
      const refused = await send(false).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(WebhookTargetRefusedError);
      expect((refused as Error).message).toMatch(/^E_WEBHOOK_TARGET: .*localhost resolves to 127\.0\.0\.1/);
      expect(r.received).toHaveLength(0);
      expect(await send(true)).toBe(204);
      expect(r.received).toHaveLength(1);
    } finally {
      r.close();
    }
  });
});

describe('webhook deliveries through the guard (worker, pglite)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await t.cleanup();
  });

  /** Stores `url` directly (as if set before the guard, or a name that resolved publicly then), queues one event, runs a worker. */
  async function deliver(url: (port: number) => string, allowPrivate: boolean) {
    const r = await receiver();
    const logs: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
    const { user, projectId } = await newProject(t.db);
    const { secret } = (await new ProjectsRepo(t.db).setWebhook(projectId, user.id, { url: url(r.port) }))!;
    const seq = 1;
    expect(await enqueueWebhook(t.db, { projectId, seq, runId: null, type: 'run.finished', data: { status: 'succeeded' }, at: new Date() }, 5)).toBe(true);
    const worker = createWebhookWorker({ db: t.db, logger, settings: { maxAttempts: 5, retryBaseMs: 100, timeoutMs: 5000, allowPrivate } });
    await worker.start();
    const job = async () => (await t.db.query<{ status: string; attempts: number; last_error: string | null }>('SELECT status, attempts, last_error FROM jobs WHERE singleton_key = $1', [`webhook:${projectId}:${seq}`])).rows[0]!;
    try {
      await waitFor('the delivery to settle', async () => ['done', 'failed'].includes((await job()).status));
      return { job: await job(), received: r.received, logs: logs.join(''), secret: secret! };
    } finally {
      await worker.stop(2000);
      r.close();
    }
  }

  test.each([
    ['a literal loopback IP', (port: number) => `http://127.0.0.1:${port}/secret-path-token`],
    ['localhost', (port: number) => `http://localhost:${port}/secret-path-token`],
  ])('%s stored in the database is refused at delivery: final, one attempt, logged by host only', async (_what, url) => {
    const { job, received, logs } = await deliver(url, false);
    expect(job).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.last_error).toMatch(/^E_WEBHOOK_TARGET: webhook target refused: .*SAMOKODER_WEBHOOK_ALLOW_PRIVATE=true/);
    expect(received).toHaveLength(0);
    expect(logs).toMatch(/webhook delivery refused/);
    expect(logs).not.toMatch(/secret-path-token/);
  });

  test('with SAMOKODER_WEBHOOK_ALLOW_PRIVATE a local receiver gets the signed POST', async () => {
    const { job, received, secret } = await deliver((port) => `http://localhost:${port}/hook`, true);
    expect(job).toMatchObject({ status: 'done', attempts: 1 });
    expect(received).toHaveLength(1);
    const { body, headers } = received[0]!;
    expect(JSON.parse(body)).toMatchObject({ type: 'run.finished', seq: 1, data: { status: 'succeeded' } });
    expect(verifyWebhookSignature(secret, Number(headers['x-samokoder-timestamp']), body, String(headers['x-samokoder-signature']))).toBe(true);
  });
});
