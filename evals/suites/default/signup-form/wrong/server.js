// Wrong on purpose: the form has no script (submitting reloads the page, #result stays empty) and the API validates nothing.
import http from 'node:http';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign up</title></head>
<body>
  <form id="signup">
    <input id="name" name="name"> <input id="email" name="email" type="email">
    <button id="submit" type="submit">Sign up</button>
  </form>
  <p id="result"></p>
</body>
</html>`;

export function createApp() {
  return http.createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/api/signup') {
      let raw = '';
      for await (const c of req) raw += c;
      const b = JSON.parse(raw);
      res.writeHead(201, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: `Welcome, ${b.name}!` }));
    }
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(PAGE);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
