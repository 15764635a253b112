import http from 'node:http';
import { randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function createApp() {
  const links = new Map();
  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const newCode = () => {
    for (;;) {
      const code = Array.from({ length: 6 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      if (!links.has(code)) return code;
    }
  };
  const httpUrl = (u) => {
    try {
      return typeof u === 'string' && ['http:', 'https:'].includes(new URL(u).protocol);
    } catch {
      return false;
    }
  };
  return http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (req.method === 'POST' && pathname === '/api/links') {
      let raw = '';
      for await (const c of req) raw += c;
      let b;
      try {
        b = JSON.parse(raw);
      } catch {
        return send(res, 400, { error: 'the body must be JSON' });
      }
      if (!httpUrl(b?.url)) return send(res, 400, { error: 'url must be an http or https URL' });
      if (b.code !== undefined && !(typeof b.code === 'string' && /^[a-z0-9-]{3,32}$/.test(b.code))) return send(res, 400, { error: 'code must match ^[a-z0-9-]{3,32}$' });
      if (b.code !== undefined && links.has(b.code)) return send(res, 409, { error: `code ${b.code} is taken` });
      const link = { code: b.code ?? newCode(), url: b.url, visits: 0 };
      links.set(link.code, link);
      return send(res, 201, link);
    }
    const info = /^\/api\/links\/([^/]+)$/.exec(pathname);
    if (req.method === 'GET' && info) {
      const link = links.get(info[1]);
      return link ? send(res, 200, link) : send(res, 404, { error: 'no such link' });
    }
    const go = /^\/([^/]+)$/.exec(pathname);
    if (req.method === 'GET' && go && links.has(go[1])) {
      const link = links.get(go[1]);
      link.visits++;
      res.writeHead(302, { location: link.url });
      return res.end();
    }
    if (req.method === 'GET' && pathname === '/') return send(res, 200, { links: links.size });
    return send(res, 404, { error: 'not found' });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
