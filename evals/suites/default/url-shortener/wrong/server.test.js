import test from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from './server.js';

test('shortens', async () => {
  const app = createApp().listen(0, '127.0.0.1');
  await new Promise((r) => app.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${app.address().port}/api/links`, { method: 'POST', body: JSON.stringify({ url: 'https://example.com' }) });
  assert.equal(res.status, 201);
  app.close();
});
