import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { json, startServer } from './start-server.mjs';

let app;
before(async () => (app = await startServer()));
after(() => app?.stop());

const post = (body) => fetch(`${app.base}/api/links`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('a generated code redirects and counts visits', async () => {
  const r = await post({ url: 'https://example.com/a?b=1' });
  assert.equal(r.status, 201);
  const link = await json(r);
  assert.match(link.code, /^[A-Za-z0-9]{6}$/);
  assert.equal(link.visits, 0);
  for (let i = 0; i < 2; i++) {
    const go = await fetch(`${app.base}/${link.code}`, { redirect: 'manual' });
    assert.equal(go.status, 302);
    assert.equal(go.headers.get('location'), 'https://example.com/a?b=1');
  }
  assert.equal((await json(await fetch(`${app.base}/api/links/${link.code}`))).visits, 2);
});
test('custom codes: valid, taken, invalid', async () => {
  assert.equal((await post({ url: 'http://x.org', code: 'my-code' })).status, 201);
  assert.equal((await post({ url: 'http://y.org', code: 'my-code' })).status, 409);
  for (const code of ['ab', 'Has_Caps', 'x'.repeat(33)]) assert.equal((await post({ url: 'http://x.org', code })).status, 400, code);
});
test('only http(s) URLs; unknown codes are 404 with a JSON error', async () => {
  for (const url of ['javascript:alert(1)', 'ftp://x.org/f', 'not a url', 42]) {
    const r = await post({ url });
    assert.equal(r.status, 400, String(url));
    assert.equal(typeof (await json(r)).error, 'string');
  }
  assert.equal((await fetch(`${app.base}/nope99`, { redirect: 'manual' })).status, 404);
  assert.equal((await fetch(`${app.base}/api/links/nope99`)).status, 404);
});
