import test from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from './server.js';

test('serves the page', async () => {
  const app = createApp().listen(0, '127.0.0.1');
  await new Promise((r) => app.once('listening', r));
  const res = await fetch(`http://127.0.0.1:${app.address().port}/`);
  assert.match(await res.text(), /id="signup"/);
  app.close();
});
