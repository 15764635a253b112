// Wrong on purpose: any string is accepted as a URL, custom codes overwrite, visits are not counted.
import http from 'node:http';

export function createApp() {
  const links = {};
  return http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST') {
      const b = JSON.parse(raw || '{}');
      const code = b.code ?? Math.random().toString(36).slice(2, 8);
      links[code] = { code, url: String(b.url), visits: 0 };
      res.statusCode = 201;
      return res.end(JSON.stringify(links[code]));
    }
    const parts = req.url.split('/');
    const link = links[parts[parts.length - 1]];
    if (!link) {
      res.statusCode = req.url === '/' ? 200 : 404;
      return res.end('{}');
    }
    if (parts[1] === 'api') return res.end(JSON.stringify(link));
    res.writeHead(302, { location: link.url });
    res.end();
  });
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
