import { startTestServer, type TestServer } from '../helpers/server.js';
import { freePort } from '../helpers/ports.js';
import { NO_WORKER } from '../api/fixtures.js';
import { RunsRepo } from '../../runs/runs-repo.js';

/**
 * A tiny node:http app, as the fake LLM's coder would write it: `/` answers message.txt (read at
 * start, so a restart shows a change), `/env` says whether APP_SECRET reached it (without its value),
 * it prints the secret at start (so the output scrubbing is tested), and echoes WebSocket text frames.
 * For the proxy's tests: `/headers` answers the request headers it got, `/hop` answers hop-by-hop
 * headers, POST `/echo` streams the body back (chunked), `/early` sends 103 Early Hints before its
 * answer, `/hang` streams an answer that never ends (a dot every 200 ms) and logs when it is closed.
 */
export const APP_JS = `
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const message = fs.readFileSync('message.txt', 'utf8').trim();
console.log('starting with secret ' + (process.env.APP_SECRET || 'none'));
const server = http.createServer((req, res) => {
  if (req.url === '/env') return res.end(process.env.APP_SECRET ? 'secret:set' : 'secret:missing');
  if (req.url === '/cookies') return res.end('cookies:' + (req.headers.cookie || ''));
  if (req.url === '/headers') return res.end(JSON.stringify(req.headers));
  if (req.url === '/hop') {
    res.writeHead(200, { connection: 'x-app-hop', 'x-app-hop': '1', 'keep-alive': 'timeout=99', 'x-app-kept': '1' });
    return res.end('hop');
  }
  if (req.url === '/echo' && req.method === 'POST') return req.pipe(res);
  if (req.url === '/early') {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    return res.end('after hints');
  }
  if (req.url === '/hang') {
    console.log('hang: request in');
    res.writeHead(200, { 'content-type': 'text/plain' });
    const dots = setInterval(() => res.write('.'), 200);
    return res.on('close', () => { clearInterval(dots); console.log('hang: request closed'); });
  }
  res.setHeader('content-type', 'text/html');
  res.end('<h1>' + message + '</h1>');
});
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');
  socket.on('data', (buf) => {
    const len = buf[1] & 127, mask = buf.subarray(2, 6), data = Buffer.from(buf.subarray(6, 6 + len));
    for (let i = 0; i < data.length; i++) data[i] ^= mask[i % 4];
    if ((buf[0] & 15) !== 1) return socket.end();
    const out = Buffer.from('echo:' + data.toString());
    socket.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
  });
});
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.PORT));
`;

export const ARCHITECTURE = {
  stack: 'node',
  files: [{ path: 'server.js', purpose: 'the app' }],
  commands: { install: '', test: 'node --test', start: 'node server.js' },
};

/** Writes the app with `message` and commits it; the run gets the architecture (its start command). */
export async function seedApp(server: TestServer, projectId: string, runId: string, message: string): Promise<string> {
  const ws = await server.ctx.workspaces.open(projectId);
  await ws.files.writeFile('server.js', APP_JS);
  await ws.files.writeFile('message.txt', `${message}\n`);
  const sha = await ws.history.commitAll('coder: the app');
  await new RunsRepo(server.ctx.db).setArchitecture(runId, ARCHITECTURE);
  return sha;
}

export async function commitMessage(server: TestServer, projectId: string, message: string): Promise<string> {
  const ws = await server.ctx.workspaces.open(projectId);
  await ws.files.writeFile('message.txt', `${message}\n`);
  return ws.history.commitAll(`coder: ${message}`);
}

/**
 * A test server whose previews run in the sandbox under `namespace` (the afterAll checks that no
 * container of it is left) and are served on a free port of their own, `http://*.localhost:<port>`.
 */
export async function startPreviewServer(namespace: string, settings: Record<string, string | number | boolean>): Promise<{ server: TestServer; port: number }> {
  const port = await freePort();
  const server = await startTestServer('pglite', {
    ...NO_WORKER,
    SAMOKODER_SANDBOX_IMAGE: process.env.SAMOKODER_SANDBOX_IMAGE ?? 'samokoder-sandbox:latest',
    SAMOKODER_SANDBOX_NAMESPACE: namespace,
    SAMOKODER_PREVIEW_PORT: port,
    SAMOKODER_PREVIEW_ORIGIN: `http://*.localhost:${port}`,
    ...settings,
  });
  return { server, port };
}
