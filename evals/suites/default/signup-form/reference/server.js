import http from 'node:http';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign up</title></head>
<body>
  <h1>Sign up</h1>
  <form id="signup">
    <label>Name <input id="name" name="name"></label>
    <label>Email <input id="email" name="email" type="email"></label>
    <button id="submit" type="submit">Sign up</button>
  </form>
  <p id="result"></p>
  <script src="/app.js"></script>
</body>
</html>`;

const SCRIPT = `document.getElementById('signup').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { name: document.getElementById('name').value, email: document.getElementById('email').value };
  const res = await fetch('/api/signup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json();
  document.getElementById('result').textContent = data.message ?? data.error;
});`;

export function createApp() {
  return http.createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(PAGE);
    }
    if (req.method === 'GET' && req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(SCRIPT);
    }
    if (req.method === 'GET' && req.url === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'POST' && req.url === '/api/signup') {
      let raw = '';
      for await (const c of req) raw += c;
      let b;
      try {
        b = JSON.parse(raw);
      } catch {
        b = undefined;
      }
      const json = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (typeof b?.name !== 'string' || !b.name.trim()) return json(400, { error: 'Please enter your name.' });
      if (typeof b.email !== 'string' || !b.email.includes('@')) return json(400, { error: 'Please enter a valid email.' });
      return json(201, { message: `Welcome, ${b.name.trim()}!` });
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) createApp().listen(Number(process.env.PORT) || 3000, process.env.HOST || '127.0.0.1');
