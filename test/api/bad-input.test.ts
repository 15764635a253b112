import http from 'node:http';
import { z } from 'zod';
import { ERROR_CATALOGUE } from '../../core/errors.js';
import { routeTable } from '../../server/app.js';
import type { AnyRoute } from '../../server/http/route.js';
import { apiClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signSupabaseToken } from '../helpers/supabase.js';
import { NO_WORKER, seedTenant, type Tenant } from './fixtures.js';

const BAD_INPUT_SUPABASE_SECRET = 'bad-input-test-supabase-secret-with-32-chars';
import { buildPath, pathParamNames, routeKey, sampleRequest, withQuery } from './route-samples.js';

/**
 * Bad input, generated from the route table: for every route, start from a valid request and
 * break one thing at a time — a path parameter, a query field, a body field (wrong types,
 * missing, huge, unicode, NUL, deep nesting), the JSON itself, the content type, the token.
 * Whatever is sent: never a 5xx, never a hang, and every 4xx carries a catalogue code. When
 * the route's own zod schema rejects the input, the answer must be a 4xx.
 */

const BODY_LIMIT = 16 * 1024;
const TIMEOUT_MS = 10_000;

const BAD_SEGMENTS = ['not-a-uuid', '00000000-0000-0000-0000-00000000000g', '%00', 'a%00b', '%E0%A4%A', '%F0%9F%92%A5', 'x'.repeat(3000), "'%20OR%201=1--", '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%5C..%5Cwin.ini', '%C0%AE%C0%AE'];
const BAD_QUERY_VALUES = ['abc', '-1', '0', '1e309', '1.5', 'x'.repeat(3000), '\u0000', '\u202e\u{1F4A5}', '[]', ''];
const deepObject = (depth: number): unknown => (depth === 0 ? 1 : { a: deepObject(depth - 1) });
const BAD_FIELD_VALUES: unknown[] = [42, -1, 1.5, 'x', '', true, null, [], {}, [1, 'a'], 'a\u0000b', '\u202e\u{1F4A5}\u0301', '\ud800', 'x'.repeat(BODY_LIMIT + 10), deepObject(200)];
const RAW_BODIES: Array<[string, string, string]> = [
  ['invalid JSON', 'application/json', '{"a":'],
  ['a JSON array', 'application/json', '[1,2]'],
  ['a JSON string', 'application/json', '"x"'],
  ['JSON null', 'application/json', 'null'],
  ['a number', 'application/json', '12'],
  ['an empty body', 'application/json', ''],
  ['deeply nested arrays', 'application/json', '['.repeat(5000) + ']'.repeat(5000)],
  ['deeply nested objects', 'application/json', '{"a":'.repeat(2000) + '1' + '}'.repeat(2000)],
  ['an oversize body', 'application/json', JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT * 2) })],
  ['a text/plain body', 'text/plain', 'hello'],
  ['a form body', 'application/x-www-form-urlencoded', 'a=1&b=2'],
  ['a latin9 charset', 'application/json; charset=latin9', '{}'],
  ['invalid UTF-8', 'application/json', '{"a":"\xff\xfe"}'],
];

/**
 * One request over node:http (fetch refuses a body on GET, and a client that sends one anyway
 * is exactly what this suite is about). Rejects after `timeoutMs`: a hang fails the case.
 */
function send(base: string, c: Case, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // Content-Length always: node sends a GET or DELETE body without framing otherwise.
    const headers = c.body === undefined ? c.headers : { ...c.headers, 'content-length': String(Buffer.byteLength(c.body)) };
    const req = http.request(base + c.url, { method: c.method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(c.body);
  });
}

const CODES = new Set(Object.keys(ERROR_CATALOGUE));

interface Case {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The input is invalid for sure: a 4xx is required, not just "not a 5xx". */
  mustReject: boolean;
}

const propertiesOf = (schema: z.ZodType): string[] =>
  Object.keys((z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> }).properties ?? {});

function casesFor(r: AnyRoute, t: Tenant, token: string): Case[] {
  const sample = sampleRequest(r, t);
  const method = r.method.toUpperCase();
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const validBody = sample.body ? JSON.stringify(sample.body) : undefined;
  const base = (over: Partial<Case> & Pick<Case, 'what'>): Case => ({
    method,
    url: withQuery(buildPath(r, sample.params), sample.query),
    headers: validBody ? json : auth,
    ...(validBody ? { body: validBody } : {}),
    mustReject: true,
    ...over,
  });
  const cases: Case[] = [];
  // Path parameters: each broken in turn, the others valid.
  for (const name of pathParamNames(r.path)) {
    for (const bad of BAD_SEGMENTS) {
      cases.push(base({ what: `:${name}=${bad.slice(0, 30)}`, url: withQuery(buildPath(r, { ...sample.params, [name]: bad }, new Set([name])), sample.query) }));
    }
  }
  // Query fields: the route's schema says whether each value is invalid.
  if (r.query) {
    for (const name of propertiesOf(r.query)) {
      for (const bad of BAD_QUERY_VALUES) {
        const query = { ...sample.query, [name]: bad };
        const rejected = !r.query.safeParse(query).success || bad.includes('\u0000');
        if (!rejected && method !== 'GET') continue; // a valid value would just run the route
        cases.push(base({ what: `?${name}=${bad.slice(0, 30)}`, url: withQuery(buildPath(r, sample.params), query), mustReject: rejected }));
      }
      cases.push(base({ what: `?${name} twice`, url: `${withQuery(buildPath(r, sample.params), sample.query)}${Object.keys(sample.query).length ? '&' : '?'}${name}=1&${name}=2`, mustReject: false }));
    }
  } else if (method === 'GET') {
    cases.push(base({ what: 'an unexpected query', url: `${buildPath(r, sample.params)}?limit=abc&x[y][z]=1&%00=1`, mustReject: false }));
  }
  // Body fields: one broken at a time, then everything missing, then the raw document.
  if (r.body && sample.body) {
    for (const name of propertiesOf(r.body)) {
      for (const bad of BAD_FIELD_VALUES) {
        const body = { ...sample.body, [name]: bad };
        const text = JSON.stringify(body);
        const rejected = !r.body.safeParse(body).success || (typeof bad === 'string' && bad.includes('\u0000')) || text.length > BODY_LIMIT;
        // An accepted value runs the route; `validate: true` would call a real provider.
        if (!rejected && name === 'validate') continue;
        cases.push(base({ what: `body.${name}=${JSON.stringify(bad).slice(0, 30)}`, body: text, mustReject: rejected }));
      }
    }
    cases.push(base({ what: 'an empty object', body: '{}', mustReject: !r.body.safeParse({}).success }));
  }
  for (const [what, type, raw] of RAW_BODIES) {
    const parses = (() => {
      try {
        return { v: JSON.parse(raw) as unknown };
      } catch {
        return undefined;
      }
    })();
    // Without a body schema the route ignores a body that parses, and would run: only send the unparsable ones.
    if (!r.body && (raw === '' || parses) && type.startsWith('application/json') && !type.includes('latin9') && raw.length <= BODY_LIMIT) continue;
    if (!r.body && !type.startsWith('application/json')) continue;
    cases.push(base({ what, headers: { ...auth, 'content-type': type }, body: what === 'invalid UTF-8' ? Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) : raw }));
  }
  // Credentials.
  if (r.auth !== 'none') {
    for (const [what, header] of [['no token', undefined], ['a garbage token', 'Bearer nope'], ['a malformed header', 'Token abc def'], ['a NUL token', 'Bearer a%00b']] as const) {
      const headers: Record<string, string> = { ...(validBody ? { 'content-type': 'application/json' } : {}) };
      if (header) headers.authorization = header;
      cases.push(base({ what, headers }));
    }
  }
  return cases;
}

describe('bad input: every route, generated malformed requests', () => {
  let server: TestServer;
  let owner: Tenant;
  let adminToken: string;
  beforeAll(async () => {
    server = await startTestServer('pglite', {
      ...NO_WORKER,
      SAMOKODER_BODY_LIMIT: '16kb',
      SAMOKODER_ADMIN_EMAILS: 'admin-bad-input@example.com',
      SUPABASE_JWT_SECRET: BAD_INPUT_SUPABASE_SECRET,
      SAMOKODER_AUTH_RATE_LIMIT_ACCOUNT: 100_000,
      SAMOKODER_AUTH_RATE_LIMIT: 100_000,
      SAMOKODER_GENERATE_RATE_LIMIT_USER: 100_000,
      SAMOKODER_GENERATE_RATE_LIMIT_IP: 100_000,
    });
    const api = apiClient(server.url);
    owner = await seedTenant(server, api);
    // Admin is granted only to a verified identity: a Supabase token for the listed email.
    adminToken = await signSupabaseToken(BAD_INPUT_SUPABASE_SECRET, { sub: 'bad-input-admin', email: 'admin-bad-input@example.com', email_verified: true });
  });
  afterAll(async () => {
    await server.close();
  });

  test('never a 5xx, never a hang; 4xx carry a catalogue code; schema-invalid input is always a 4xx', async () => {
    const routes = routeTable(server.ctx);
    const failures: string[] = [];
    let sent = 0;
    for (const r of routes) {
      for (const c of casesFor(r, owner, r.auth === 'admin' ? adminToken : owner.token)) {
        sent++;
        const label = `${routeKey(r)} with ${c.what}`;
        let res: { status: number; text: string };
        try {
          res = await send(server.url, c, TIMEOUT_MS);
        } catch (err) {
          failures.push(`${label}: ${(err as Error).message}`);
          continue;
        }
        const text = res.text;
        if (res.status >= 500) failures.push(`${label}: ${res.status} ${text.slice(0, 200)}`);
        else if (c.mustReject && res.status < 400) failures.push(`${label}: accepted with ${res.status}`);
        if (res.status >= 400) {
          let code: unknown;
          try {
            code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
          } catch {
            code = undefined;
          }
          if (!CODES.has(String(code))) failures.push(`${label}: ${res.status} without a catalogue code: ${text.slice(0, 120)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    // And the server still serves.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 300_000);
});
