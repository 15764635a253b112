import type { AnyRoute } from '../../server/http/route.js';
import type { Tenant } from './fixtures.js';

/**
 * A valid request for each route of the table, built from a tenant's real resources. The tenancy
 * and bad-input suites start from it (one changes the caller, the other breaks one part at a
 * time). A route this file does not know makes both suites fail, so no new route is skipped.
 */

export const routeKey = (r: Pick<AnyRoute, 'method' | 'path'>): string => `${r.method.toUpperCase()} ${r.path}`;

/** Path parameters by (path prefix, name). */
const PARAM_VALUES: Array<[RegExp, string, (t: Tenant) => string]> = [
  [/^\/api\/user\/api-keys\//, 'id', (t) => t.keyId],
  [/^\/api\/user\/git-credentials\//, 'id', (t) => t.gitCredentialId],
  [/^\/api\/user\/git-known-hosts\//, 'id', (t) => t.knownHostId],
  [/^\/api\/projects\//, 'id', (t) => t.projectId],
  [/^\/api\/projects\//, 'runId', (t) => t.runId],
  [/^\/api\/projects\//, 'path', (t) => t.filePath],
  // No link exists: the owner's DELETE is 404 too, but only after the project's ownership is checked.
  [/^\/api\/projects\//, 'shareId', () => '00000000-0000-4000-8000-000000000001'],
  [/^\/api\/projects\//, 'name', () => 'APP_SECRET'],
];

const BODIES: Record<string, (t: Tenant) => Record<string, unknown>> = {
  'POST /api/auth/register': () => ({ email: `sample-${Math.random().toString(36).slice(2)}@example.com`, password: 'correct horse battery' }),
  'POST /api/auth/login': (t) => ({ email: t.email, password: 'correct horse battery' }),
  'POST /api/user/api-keys': () => ({ provider: 'openai', apiKey: 'sk-testsample1234' }),
  'POST /api/projects': () => ({ name: 'Sample', prompt: 'a sample app' }),
  'POST /api/user/git-credentials': () => ({ kind: 'token', secret: 'ghp_samplesampletoken1234' }),
  // A metadata address: always refused (E_GIT_URL), so a valid sample never leaves the machine.
  'POST /api/projects/:id/push': () => ({ remoteUrl: 'https://169.254.169.254/sample.git', branch: 'main' }),
  'PUT /api/projects/:id/webhook': () => ({ url: 'https://example.com/hook' }),
  'POST /api/projects/:id/generate': () => ({ prompt: 'add dark mode', provider: 'openai', model: 'gpt-4o-mini' }),
  'POST /api/projects/:id/estimate': () => ({ prompt: 'add dark mode', provider: 'openai', model: 'gpt-4o-mini', models: { planner: { model: 'gpt-4.1-mini' } } }),
  'POST /api/projects/:id/revert': (t) => ({ to: t.shas[0]! }),
  'PUT /api/admin/models': () => ({ provider: 'openai', model: 'sample-model', maxOutputTokens: 1000 }),
  'POST /api/admin/models/refresh': () => ({ provider: 'groq' }),
  // A provider the tenant has no key for: a valid question ends at E_NO_KEY, before any model call.
  'POST /api/projects/:id/chat': () => ({ message: 'What does this project do?', provider: 'anthropic', model: 'claude-3-5-haiku-latest' }),
  'POST /api/projects/:id/preview/share': () => ({ ttlMinutes: 5 }),
  'PUT /api/projects/:id/env': () => ({ vars: { APP_SECRET: 'sample-value' } }),
};

const QUERIES: Record<string, (t: Tenant) => Record<string, string>> = {
  'GET /api/projects/:id/diff': (t) => ({ from: t.shas[0]!, to: t.shas[1]! }),
};

export const pathParamNames = (path: string): string[] => [...path.matchAll(/[:*]([A-Za-z_]\w*)/g)].map((m) => m[1]!);

export interface SampleRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

export function sampleRequest(r: AnyRoute, t: Tenant): SampleRequest {
  const params: Record<string, string> = {};
  for (const name of pathParamNames(r.path)) {
    const entry = PARAM_VALUES.find(([prefix, n]) => n === name && prefix.test(r.path));
    if (!entry) throw new Error(`test/api/route-samples.ts: add a value for :${name} of ${routeKey(r)}`);
    params[name] = entry[2](t);
  }
  const bodyOf = BODIES[routeKey(r)];
  if (r.body && !bodyOf) throw new Error(`test/api/route-samples.ts: add a valid body for ${routeKey(r)}`);
  return { params, query: QUERIES[routeKey(r)]?.(t) ?? {}, body: r.body ? bodyOf!(t) : undefined };
}

/** The URL of a route with the given path parameters (each segment encoded unless `raw`). */
export function buildPath(r: AnyRoute, params: Record<string, string>, raw: ReadonlySet<string> = new Set()): string {
  return r.path.replace(/[:*]([A-Za-z_]\w*)/g, (_m, name: string) => {
    const v = params[name]!;
    if (raw.has(name)) return v;
    // A wildcard keeps its slashes; a named parameter is one segment.
    return r.path.includes(`*${name}`) ? v.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(v);
  });
}

export function withQuery(path: string, query: Record<string, string>): string {
  const qs = new URLSearchParams(query).toString();
  return qs ? `${path}?${qs}` : path;
}
