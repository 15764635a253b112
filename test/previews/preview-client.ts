// Requests to the preview origin as a browser sends them: to 127.0.0.1 with the preview's host in the Host header.
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to the preview server as a browser on `host` would send it (Host header, cookie). */
export function get(port: number, host: string, path: string, cookie?: string): Promise<Reply> {
  return request(port, host, path, { headers: cookie ? { cookie } : {} });
}

/** Any request to the preview server; a body is written in 64 KiB chunks with no length (chunked), after a 100 Continue when asked for. */
export function request(port: number, host: string, path: string, opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    // A request must not hang the test: a preview being restarted may not answer for a moment.
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    const body = opts.body;
    if (!body) return void req.end();
    const write = (): void => {
      for (let i = 0; i < body.length; i += 65_536) req.write(body.subarray(i, i + 65_536));
      req.end();
    };
    if (opts.headers?.expect) req.once('continue', write);
    else write();
  });
}

/** Opens a preview URL like a browser: the grant (or share token) is exchanged for the cookie. */
export async function open(port: number, url: string): Promise<{ host: string; cookie: string; location: string }> {
  const u = new URL(url);
  const r = await get(port, u.host, `${u.pathname}${u.search}`);
  expect(r.status).toBe(302);
  const setCookie = r.headers['set-cookie']![0]!;
  expect(setCookie).toMatch(/HttpOnly/);
  // A localhost host is a secure context: the UI (another site) frames it, so the cookie is a partitioned third-party one.
  expect(setCookie).toMatch(/; Secure; SameSite=None; Partitioned/);
  return { host: u.host, cookie: setCookie.split(';')[0]!, location: r.headers.location! };
}
