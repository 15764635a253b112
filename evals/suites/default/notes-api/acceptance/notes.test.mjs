import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { json, startServer } from './start-server.mjs';

let app;
before(async () => (app = await startServer()));
after(() => app?.stop());

const call = (method, p, body) => fetch(app.base + p, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : body && JSON.stringify(body) });

test('create, read, list in order', async () => {
  const r1 = await call('POST', '/notes', { title: 'first', body: 'hello' });
  assert.equal(r1.status, 201);
  const n1 = await json(r1);
  assert.equal(typeof n1.id, 'string');
  assert.equal(n1.title, 'first');
  assert.ok(n1.createdAt);
  const n2 = await json(await call('POST', '/notes', { title: 'second' }));
  const one = await call('GET', `/notes/${n1.id}`);
  assert.equal(one.status, 200);
  assert.equal((await json(one)).body, 'hello');
  const list = await json(await call('GET', '/notes'));
  assert.deepEqual(list.slice(-2).map((n) => n.id), [n1.id, n2.id]);
});
test('patch and delete; then 404', async () => {
  const n = await json(await call('POST', '/notes', { title: 'x' }));
  const p = await call('PATCH', `/notes/${n.id}`, { title: 'y' });
  assert.equal(p.status, 200);
  assert.equal((await json(p)).title, 'y');
  assert.equal((await call('DELETE', `/notes/${n.id}`)).status, 204);
  const gone = await call('GET', `/notes/${n.id}`);
  assert.equal(gone.status, 404);
  assert.equal(typeof (await json(gone)).error, 'string');
});
test('bad bodies are 400 with a JSON error', async () => {
  for (const body of ['{not json', {}, { title: '' }, { title: 42 }]) {
    const r = await call('POST', '/notes', body);
    assert.equal(r.status, 400, `body ${JSON.stringify(body)}`);
    assert.equal(typeof (await json(r)).error, 'string');
  }
});
