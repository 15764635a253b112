import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { json, startServer } from './start-server.mjs';

let app;
before(async () => (app = await startServer()));
after(() => app?.stop());

const signup = (body) => fetch(`${app.base}/api/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('the page has the named form elements', async () => {
  const res = await fetch(`${app.base}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  for (const id of ['signup', 'name', 'email', 'submit', 'result']) assert.match(html, new RegExp(`id=["']${id}["']`), `#${id}`);
  assert.doesNotMatch(html, /<script[^>]+src=["']https?:/i, 'no scripts from other origins');
});
test('a valid sign-up is welcomed', async () => {
  const r = await signup({ name: 'Ada', email: 'ada@example.com' });
  assert.equal(r.status, 201);
  assert.equal((await json(r)).message, 'Welcome, Ada!');
});
test('an empty name or an email without @ is a 400 with an error', async () => {
  for (const body of [{ name: '', email: 'a@b.c' }, { name: 'Bob', email: 'bob.example.com' }]) {
    const r = await signup(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(typeof (await json(r)).error, 'string');
  }
});
