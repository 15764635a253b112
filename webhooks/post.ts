import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * POSTs `body` to `url` with node:http(s) and resolves with the status. Not fetch: node:http takes a
 * `lookup` per request, which is how the target guard resolves, checks and pins the address the
 * socket connects to (the host name still goes in the Host header and TLS SNI). A fresh agent per
 * delivery (`agent: false`) so no pooled socket opened without the guard is ever reused. Redirects
 * are not followed: a 3xx is just a status. The answer's body is not read.
 */
export function postJson(url: URL, init: { headers: Record<string, string>; body: string; signal: AbortSignal; lookup: LookupFunction }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) }, signal: init.signal, lookup: init.lookup, agent: false },
      (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
