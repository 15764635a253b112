// Shared by the acceptance tests of the suite's servers (copied beside them by the judge):
// starts `node server.js` on a free port with PORT and HOST set, and waits until it answers.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(entry = 'server.js') {
  const port = await freePort();
  const child = spawn(process.execPath, [path.resolve(entry)], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode} before listening:\n${output}`);
    try {
      await fetch(base);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${entry} did not listen on PORT=${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { base, stop: () => child.kill() };
}

export async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
}
