import WebSocket from 'ws';
import { seededRandom } from '../../test/helpers/random.js';
import { rssMiB } from './service.js';

/**
 * Steady mixed traffic against one service: every operation kind is started on its own fixed
 * schedule (open loop: a slow answer does not slow the schedule down, so a degrading server shows
 * up as latency and in-flight growth, not as a politely reduced load). Deterministic choices
 * (which project to subscribe to or export) come from a seeded PRNG.
 */

export type OpKind = 'register' | 'key-add' | 'key-list' | 'me' | 'project-list' | 'generate' | 'subscribe' | 'export';

/** Operations started per second, per kind (the default mix: ~9 operations a second). */
export const DEFAULT_RATES: Record<OpKind, number> = {
  register: 0.2,
  'key-add': 0.2,
  'key-list': 1,
  me: 2,
  'project-list': 2,
  generate: 0.25,
  subscribe: 1.5,
  export: 1,
};

export interface SoakOptions {
  baseUrl: string;
  pid: number;
  durationMs: number;
  /** An openai-compatible base URL answering the tiny app (the fake LLM). */
  llmBaseUrl: string;
  rates?: Partial<Record<OpKind, number>>;
  /** An operation not finished within this is a hang. */
  opTimeoutMs?: number;
  seed?: number;
  /** Called about every 10 s with a progress line. */
  onProgress?: (line: string) => void;
}

export interface OpStats {
  kind: OpKind;
  count: number;
  /** Responses with a 5xx status (must be 0). */
  serverErrors: number;
  /** Other failures: unexpected 4xx, network errors, timeouts (with a sample message). */
  otherErrors: number;
  sampleError?: string;
  p50: number;
  p99: number;
  max: number;
}

export interface SoakReport {
  durationMs: number;
  totalOps: number;
  opsPerSecond: number;
  serverErrors: number;
  otherErrors: number;
  /** Operations still running when the soak ended and the drain timed out. */
  hung: number;
  ops: OpStats[];
  runs: { started: number; succeeded: number; other: Record<string, number> };
  /** [seconds since start, MiB] every second. */
  rss: Array<[number, number]>;
  rssVerdict: { warmupS: number; firstQuarterMiB: number; lastQuarterMiB: number; changePct: number };
}

interface Account {
  token: string;
  keyAdded: boolean;
}

interface Project {
  id: string;
  token: string;
  runId?: string;
  finished: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const rates = { ...DEFAULT_RATES, ...o.rates };
  const opTimeoutMs = o.opTimeoutMs ?? 30_000;
  const random = seededRandom(o.seed ?? 1);
  const latencies = new Map<OpKind, number[]>();
  const errors = new Map<OpKind, { server: number; other: number; sample?: string }>();
  const accounts: Account[] = [];
  const projects: Project[] = [];
  const runStatus = new Map<string, string>();
  const inFlight = new Set<Promise<void>>();
  const rss: Array<[number, number]> = [];
  let userSeq = 0;
  const start = Date.now();

  const request = async <T>(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(o.baseUrl + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(opTimeoutMs),
    });
    if (path.endsWith('/export')) {
      // Read the whole ZIP (what a download does) without keeping it.
      let bytes = 0;
      for await (const chunk of res.body ?? []) bytes += (chunk as Uint8Array).length;
      if (!res.ok) throw new HttpError(res.status, `${method} ${path} → ${res.status}`);
      return { status: res.status, body: { bytes } as T };
    }
    const text = await res.text();
    if (!res.ok) throw new HttpError(res.status, `${method} ${path} → ${res.status}: ${text.slice(0, 200)}`);
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };

  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(random() * xs.length)] : undefined);

  /** One timed operation; `fn` returns false when there was nothing to do yet (not counted). */
  const op = (kind: OpKind, fn: () => Promise<boolean | void>): void => {
    const t0 = performance.now();
    const p = (async () => {
      try {
        if ((await fn()) === false) return;
        (latencies.get(kind) ?? latencies.set(kind, []).get(kind)!).push(performance.now() - t0);
      } catch (err) {
        const e = errors.get(kind) ?? errors.set(kind, { server: 0, other: 0 }).get(kind)!;
        if (err instanceof HttpError && err.status >= 500) e.server++;
        else e.other++;
        e.sample ??= err instanceof Error ? err.message : String(err);
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const ops: Record<OpKind, () => void> = {
    register: () =>
      op('register', async () => {
        const email = `soak-${start}-${userSeq++}@example.com`;
        const { body } = await request<{ token: string }>('POST', '/api/auth/register', undefined, { email, password: 'correct horse battery' });
        accounts.push({ token: body.token, keyAdded: false });
      }),
    'key-add': () =>
      op('key-add', async () => {
        const account = accounts.find((a) => !a.keyAdded);
        if (!account) return false;
        account.keyAdded = true;
        await request('POST', '/api/user/api-keys', account.token, { provider: 'openai-compatible', apiKey: `sk-soak-${start}-${accounts.indexOf(account)}-key`, baseUrl: o.llmBaseUrl, label: 'soak' });
      }),
    'key-list': () =>
      op('key-list', async () => {
        const account = pick(accounts);
        if (!account) return false;
        await request('GET', '/api/user/api-keys', account.token);
      }),
    me: () =>
      op('me', async () => {
        const account = pick(accounts);
        if (!account) return false;
        await request('GET', '/api/me', account.token);
      }),
    'project-list': () =>
      op('project-list', async () => {
        const account = pick(accounts);
        if (!account) return false;
        await request('GET', '/api/projects?limit=20', account.token);
      }),
    generate: () =>
      op('generate', async () => {
        const account = pick(accounts.filter((a) => a.keyAdded));
        if (!account) return false;
        const { body: created } = await request<{ project: { id: string } }>('POST', '/api/projects', account.token, { prompt: 'a sum function with a test' });
        const project: Project = { id: created.project.id, token: account.token, finished: false };
        const { body } = await request<{ run: { id: string } }>('POST', `/api/projects/${project.id}/generate`, account.token, { provider: 'openai-compatible', model: 'fake-model' });
        project.runId = body.run.id;
        runStatus.set(body.run.id, 'queued');
        projects.push(project);
      }),
    subscribe: () =>
      op('subscribe', async () => {
        const project = pick(projects);
        if (!project) return false;
        const status = await subscribeUntilCaughtUp(o.baseUrl, project, opTimeoutMs);
        if (status) {
          runStatus.set(project.runId!, status);
          project.finished = true;
        }
      }),
    export: () =>
      op('export', async () => {
        const project = pick(projects.filter((p) => p.finished));
        if (!project) return false;
        await request('GET', `/api/projects/${project.id}/export`, project.token);
      }),
  };

  // The schedule: every kind on its own fixed period, all derived from one clock.
  const timers = (Object.keys(rates) as OpKind[])
    .filter((k) => rates[k] > 0)
    .map((k) => {
      ops[k]();
      return setInterval(ops[k], 1000 / rates[k]);
    });
  const sampler = setInterval(() => {
    const mib = rssMiB(o.pid);
    if (mib !== undefined) rss.push([Math.round((Date.now() - start) / 1000), Math.round(mib * 10) / 10]);
    if (rss.length % 10 === 0) o.onProgress?.(`t+${rss.length}s ops=${[...latencies.values()].reduce((n, l) => n + l.length, 0)} inFlight=${inFlight.size} rss=${mib?.toFixed(1)} MiB`);
  }, 1000);

  await new Promise((r) => setTimeout(r, o.durationMs));
  for (const t of timers) clearInterval(t);
  clearInterval(sampler);
  const elapsed = Date.now() - start;

  // Drain: everything started must finish (a hang is a failure, not a statistic).
  const drainEnd = Date.now() + opTimeoutMs + 5000;
  while (inFlight.size > 0 && Date.now() < drainEnd) await Promise.race([Promise.all([...inFlight]), new Promise((r) => setTimeout(r, 250))]);
  const hung = inFlight.size;

  // Runs still going at the end (queued behind the others, or running) are waited for until they
  // end, for up to 90 s in all, then reported by status.
  const runsEnd = Date.now() + 90_000;
  for (const p of projects.filter((x) => !x.finished && x.runId)) {
    const status = await waitForRunEnd(o.baseUrl, p, runsEnd).catch(() => undefined);
    if (status) runStatus.set(p.runId!, status);
  }

  const statsOf = (kind: OpKind): OpStats => {
    const l = (latencies.get(kind) ?? []).slice().sort((a, b) => a - b);
    const e = errors.get(kind) ?? { server: 0, other: 0 };
    const q = (p: number) => (l.length ? l[Math.min(l.length - 1, Math.ceil(p * l.length) - 1)]! : 0);
    return { kind, count: l.length + e.server + e.other, serverErrors: e.server, otherErrors: e.other, ...(e.sample ? { sampleError: e.sample } : {}), p50: q(0.5), p99: q(0.99), max: l.at(-1) ?? 0 };
  };
  const opStats = (Object.keys(DEFAULT_RATES) as OpKind[]).map(statsOf);
  const totalOps = opStats.reduce((n, s) => n + s.count, 0);
  const statuses = [...runStatus.values()];
  const other: Record<string, number> = {};
  for (const s of statuses.filter((x) => x !== 'succeeded')) other[s] = (other[s] ?? 0) + 1;
  return {
    durationMs: elapsed,
    totalOps,
    opsPerSecond: totalOps / (elapsed / 1000),
    serverErrors: opStats.reduce((n, s) => n + s.serverErrors, 0),
    otherErrors: opStats.reduce((n, s) => n + s.otherErrors, 0),
    hung,
    ops: opStats,
    runs: { started: statuses.length, succeeded: statuses.filter((s) => s === 'succeeded').length, other },
    rss,
    rssVerdict: rssVerdict(rss),
  };
}

/**
 * "Flat": after a warm-up (the first fifth of the samples: JIT, pools, caches filling), the mean of
 * the last quarter against the mean of the first quarter of what remains.
 */
export function rssVerdict(rss: Array<[number, number]>): SoakReport['rssVerdict'] {
  const warm = rss.slice(Math.floor(rss.length / 5));
  const quarter = Math.max(1, Math.floor(warm.length / 4));
  const mean = (xs: Array<[number, number]>) => xs.reduce((n, [, v]) => n + v, 0) / Math.max(1, xs.length);
  const first = mean(warm.slice(0, quarter));
  const last = mean(warm.slice(-quarter));
  return { warmupS: rss[Math.floor(rss.length / 5)]?.[0] ?? 0, firstQuarterMiB: round1(first), lastQuarterMiB: round1(last), changePct: first ? round1(((last - first) / first) * 100) : 0 };
}

/**
 * Subscribes to a project from seq 0 and reads until it has every event up to the project's
 * current last seq (the replay), then closes. Returns the run's final status when `run.finished`
 * was among the events.
 */
/** The run's status once it is no longer queued or running, or its last status at `deadline`. */
async function waitForRunEnd(baseUrl: string, project: Project, deadline: number): Promise<string> {
  for (;;) {
    const r = await fetch(`${baseUrl}/api/projects/${project.id}/runs/${project.runId}`, { headers: { authorization: `Bearer ${project.token}` } });
    if (r.status >= 500) throw new HttpError(r.status, `GET …/runs/:runId → ${r.status}`);
    const status = ((await r.json()) as { run: { status: string } }).run.status;
    if ((status !== 'queued' && status !== 'running') || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function subscribeUntilCaughtUp(baseUrl: string, project: Project, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${project.token}` } });
    let target = -1;
    let last = 0;
    let status: string | undefined;
    const timer = setTimeout(() => finish(new Error(`subscribe ${project.id}: not caught up in ${timeoutMs} ms (at ${last}, target ${target})`)), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      ws.terminate();
      if (err) reject(err);
      else resolve(status);
    };
    const check = (): void => {
      if (target >= 0 && last >= target) finish();
    };
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', projectId: project.id, since: 0 }));
      void fetch(`${baseUrl}/api/projects/${project.id}`, { headers: { authorization: `Bearer ${project.token}` } })
        .then(async (r) => {
          if (r.status >= 500) throw new HttpError(r.status, `GET /api/projects/:id → ${r.status}`);
          target = ((await r.json()) as { project: { lastEventSeq: number } }).project.lastEventSeq;
          check();
        })
        .catch((err: Error) => finish(err));
    });
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as { type: string; seq?: number; data?: { status?: string } };
      if (f.type === 'error') return finish(new Error(`ws error frame: ${raw.toString().slice(0, 200)}`));
      if (typeof f.seq === 'number') {
        if (f.seq !== last + 1) return finish(new Error(`ws: seq ${f.seq} after ${last}`));
        last = f.seq;
        if (f.type === 'run.finished') status = f.data?.status;
        check();
      }
    });
    ws.on('error', (err) => finish(err));
  });
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
