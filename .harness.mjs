import http from 'node:http';
import { spawn } from 'node:child_process';
import { createProxyServer } from 'http-proxy-3';
const APP = `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/html'); s.end('<h1>hello</h1>'); }).listen(39123, '127.0.0.1', () => console.log('up'));`;

const app = spawn(process.execPath, ['-e', APP], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => app.kill());
await new Promise((r) => app.stdout.once('data', r));
const target = 'http://127.0.0.1:39123';
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const variant = process.argv[2];
let handler;
if (variant === 'bare') { handler = (q, s) => { s.setHeader('content-type', 'text/html'); s.end('<h1>hello</h1>'); }; } else if (variant === 'hp3') {
  const proxy = createProxyServer({ xfwd: true, agent });
  proxy.on('proxyReq', (r) => r.setNoDelay(true));
  handler = (req, res) => proxy.web(req, res, { target });
} else if (variant === 'lean') {
  const HOP = new Set(['connection','keep-alive','proxy-connection','transfer-encoding','te','trailer','upgrade','proxy-authorization','proxy-authenticate']);
  handler = (req, res) => {
    const headers = {};
    for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
    headers['x-forwarded-for'] = req.socket.remoteAddress;
    const up = http.request({ host: '127.0.0.1', port: 39123, method: req.method, path: req.url, headers, agent }, (ur) => {
      const h = {};
      for (const k in ur.headers) if (!HOP.has(k)) h[k] = ur.headers[k];
      res.writeHead(ur.statusCode, h);
      ur.pipe(res);
    });
    up.setNoDelay(true);
    up.on('error', () => { res.statusCode = 502; res.end(); });
    req.pipe(up);
  };
} else if (variant === 'undici') {
  const { Pool } = await import('undici');
  const pool = new Pool(target, { connections: 64, pipelining: 1 });
  const HOP = new Set(['connection','keep-alive','proxy-connection','transfer-encoding','te','trailer','upgrade','proxy-authorization','proxy-authenticate','host']);
  handler = (req, res) => {
    const headers = {};
    for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
    pool.stream({ method: req.method, path: req.url, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req }, ({ statusCode, headers: h }) => {
      const out = {}; for (const k in h) if (!HOP.has(k)) out[k] = h[k];
      res.writeHead(statusCode, out); return res; }).catch(() => { res.statusCode = 502; res.end(); });
  };
}
let url = target + '/';
let srv;
if (handler) {
  srv = http.createServer(handler);
  await new Promise((r) => srv.listen(39124, '127.0.0.1', r));
  url = 'http://127.0.0.1:39124/';
}
const c0 = process.cpuUsage();
const ac = spawn(process.execPath, ['/work/wt/proxy/node_modules/autocannon/autocannon.js', '-j', '-d', process.env.D ?? '5', '-c', '20', url], { stdio: ['ignore', 'pipe', 'ignore'] });
let out = ''; ac.stdout.on('data', (c) => (out += c));
await new Promise((r) => ac.on('exit', r));
const c = process.cpuUsage(c0);
const r = JSON.parse(out);
const n = r.requests.total;
console.log(variant ?? 'direct', 'rps', Math.round(r.requests.average), 'non2xx', r.non2xx, 'proxy µs CPU/req', ((c.user + c.system) / n).toFixed(1), 'user', (c.user/n).toFixed(0), 'sys', (c.system/n).toFixed(0));
app.kill(); srv?.close(); agent.destroy(); process.exit(0);
