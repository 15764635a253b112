import { registerUser, type apiClient, type TestServer } from '../helpers/server.js';
import { RunScreenshotsRepo } from '../../db/repos/run-screenshots.js';
import { publishedHostKeys } from '../../gitio/host-keys.js';
import { KnownHostsRepo } from '../../gitio/known-hosts.js';
import { gitPolicy, parseGitUrl } from '../../gitio/remote-url.js';

/**
 * Test servers of these suites run no run worker: queued runs stay queued, so the database state
 * the tests compare changes only through the requests they make.
 */
export const NO_WORKER = { SAMOKODER_RUN_WORKER: false } as const;

export type Api = ReturnType<typeof apiClient>;

/** A user with everything the API can own: a key, a project with files and commits, a run. */
export interface Tenant {
  token: string;
  userId: string;
  email: string;
  keyId: string;
  gitCredentialId: string;
  knownHostId: string;
  projectId: string;
  runId: string;
  /** The workspace's commits, oldest first (initial commit, then the seeded files). */
  shas: string[];
  /** A file that exists in the workspace. */
  filePath: string;
}

/** Registers a user on `planId` and seeds one of each resource through the API (and the workspace). */
/** A 1×1 PNG. */
const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

export async function seedTenant(server: TestServer, api: Api, planId = 'unlimited'): Promise<Tenant> {
  const user = await registerUser(api);
  await server.ctx.db.query('UPDATE users SET plan_id = $2 WHERE id = $1', [user.userId, planId]);
  const key = await api('POST', '/api/user/api-keys', { token: user.token, body: { provider: 'openai', apiKey: `sk-test${Math.random().toString(36).slice(2)}abcd` } });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${key.text}`);
  const credential = await api('POST', '/api/user/git-credentials', { token: user.token, body: { kind: 'token', secret: `ghp_test${Math.random().toString(36).slice(2)}abcd` } });
  if (credential.status !== 201) throw new Error(`git credential: ${credential.status} ${credential.text}`);
  const project = await api('POST', '/api/projects', { token: user.token, body: { name: 'Todo App', prompt: 'a todo app' } });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${project.text}`);
  const projectId: string = project.body.project.id;
  const ws = await server.ctx.workspaces.open(projectId);
  const first = await ws.history.headSha();
  await ws.files.writeFile('src/index.ts', 'export const answer = 42;\n');
  await ws.files.writeFile('README.md', '# todo\n');
  const second = await ws.history.commitAll('coder: first files');
  const run = await api('POST', `/api/projects/${projectId}/generate`, { token: user.token, body: { provider: 'openai', model: 'gpt-4o-mini', keyId: key.body.id } });
  if (run.status !== 202) throw new Error(`generate: ${run.status} ${run.text}`);
  // What a successful ssh import with a pinned host key remembers (no sshd here: the repository stores it as that import would).
  const knownHosts = new KnownHostsRepo(server.ctx.db);
  await knownHosts.remember(user.userId, parseGitUrl('git@git.example.com:owner/repo.git', gitPolicy(false)), publishedHostKeys('github.com')!);
  const knownHostId = (await knownHosts.list(user.userId))[0]!.id;
  // What verify's browser check stores, so the screenshot route has something to answer.
  await new RunScreenshotsRepo(server.ctx.db).save(run.body.run.id, TINY_PNG);
  return { ...user, keyId: key.body.id, gitCredentialId: credential.body.id, knownHostId, projectId, runId: run.body.run.id, shas: [first, second], filePath: 'src/index.ts' };
}

/**
 * Everything a user's requests could change: the owned tables' rows and the workspace's files
 * and commits. Two equal snapshots mean nothing changed.
 */
export async function snapshot(server: TestServer, tenant: Tenant): Promise<string> {
  const tables = ['projects', 'runs', 'steps', 'events', 'api_keys', 'git_credentials', 'jobs', 'usage_ledger', 'chat_turns'];
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await server.ctx.db.query(`SELECT to_jsonb(x)::text AS j FROM ${t} x ORDER BY 1`);
    parts.push(`${t}: ${rows.rows.map((r) => (r as { j: string }).j).join('\n')}`);
  }
  if (await server.ctx.workspaces.exists(tenant.projectId)) {
    const ws = await server.ctx.workspaces.open(tenant.projectId);
    parts.push(`head: ${await ws.history.headSha()}`, `tree: ${JSON.stringify(await ws.files.tree())}`);
  } else parts.push('workspace: gone');
  return parts.join('\n');
}
