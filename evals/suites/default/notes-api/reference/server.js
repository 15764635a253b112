import http from 'node:http';
import { randomUUID } from 'node:crypto';

export function createApp() {
  const notes = new Map();
  const send = (res, status, body) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const readJson = async (req) => {
    let raw = '';
    for await (const c of req) raw += c;
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  };
  const validTitle = (t) => typeof t === 'string' && t.trim() !== '';
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = /^\/notes(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(res, 404, { error: 'not found' });
    const id = m[1];
    if (!id && req.method === 'GET') return send(res, 200, [...notes.values()]);
    if (!id && req.method === 'POST') {
      const b = await readJson(req);
      if (!b || !validTitle(b.title) || (b.body !== undefined && typeof b.body !== 'string')) return send(res, 400, { error: 'title must be a non-empty string' });
      const note = { id: randomUUID(), title: b.title, body: b.body ?? '', createdAt: new Date().toISOString() };
      notes.set(note.id, note);
      return send(res, 201, note);
    }
    const note = id && notes.get(id);
    if (!note) return send(res, 404, { error: `no note ${id}` });
    if (req.method === 'GET') return send(res, 200, note);
    if (req.method === 'DELETE') {
      notes.delete(id);
      return send(res, 204);
    }
    if (req.method === 'PATCH') {
      const b = await readJson(req);
      if (!b || (b.title !== undefined && !validTitle(b.title)) || (b.body !== undefined && typeof b.body !== 'string')) return send(res, 400, { error: 'title must be a non-empty string' });
      Object.assign(note, b.title !== undefined ? { title: b.title } : {}, b.body !== undefined ? { body: b.body } : {});
      return send(res, 200, note);
    }
    return send(res, 405, { error: 'method not allowed' });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
