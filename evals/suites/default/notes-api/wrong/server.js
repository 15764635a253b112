// Wrong on purpose: no validation (a bad body crashes to a 500 or is accepted), numeric ids, no PATCH.
import http from 'node:http';

export function createApp() {
  const notes = [];
  return http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const id = req.url.split('/')[2];
    res.setHeader('content-type', 'application/json');
    try {
      if (req.method === 'POST') {
        const note = { id: notes.length + 1, ...JSON.parse(raw), createdAt: Date.now() };
        notes.push(note);
        res.statusCode = 201;
        return res.end(JSON.stringify(note));
      }
      if (req.method === 'GET' && !id) return res.end(JSON.stringify(notes));
      const note = notes.find((n) => String(n.id) === id);
      if (req.method === 'DELETE') notes.splice(notes.indexOf(note), 1);
      res.end(JSON.stringify(note ?? null));
    } catch (err) {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: String(err) }));
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
