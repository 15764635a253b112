import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gitHost } from '../../workspaces/git-host.js';
import { makeSandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

const step = (run: string, stepName: string, task?: string) => ({
  'Samokoder-Run': run,
  'Samokoder-Step': stepName,
  ...(task ? { 'Samokoder-Task': task } : {}),
});

describe('workspace history (real git)', () => {
  test('one commit per step with trailers, newest first, fixed author, branch main, repo outside the workspace', async () => {
    const h = sb.ws.history;
    await sb.ws.files.writeFile('a.txt', 'one\n');
    const c1 = await h.commitAll('run r1: coder t1', step('r1', 'coder', 't1'));
    const c2 = await h.commitAll('run r1: verify (no changes)', step('r1', 'verify'));
    expect(c1).toMatch(/^[0-9a-f]{40}$/);
    expect(c2).not.toBe(c1);
    expect(await h.headSha()).toBe(c2);
    const log = await h.history();
    expect(log.map((c) => c.sha)).toEqual([c2, c1, expect.any(String)]);
    expect(log[1]).toMatchObject({ subject: 'run r1: coder t1', trailers: { 'Samokoder-Run': 'r1', 'Samokoder-Step': 'coder', 'Samokoder-Task': 't1' } });
    expect(log[0]!.trailers).toEqual({ 'Samokoder-Run': 'r1', 'Samokoder-Step': 'verify' });
    expect(log[2]!.subject).toBe('Initialize workspace');
    expect(Date.parse(log[0]!.date)).not.toBeNaN();
    expect((await h.history({ limit: 1, offset: 1 })).map((c) => c.sha)).toEqual([c1]);
    // A trailer value cannot forge another trailer.
    await h.commitAll('x', { 'Samokoder-Step': 'coder\nSamokoder-Run: forged' });
    expect((await h.history({ limit: 1 }))[0]!.trailers).toEqual({ 'Samokoder-Step': 'coder Samokoder-Run: forged' });

    const gitDir = `${sb.ws.dir}.git`;
    const git = (...args: string[]) => execFileSync('git', args, { env: { PATH: process.env.PATH, GIT_DIR: gitDir, HOME: '/nonexistent' }, encoding: 'utf8' }).trim();
    expect(git('log', '-1', '--format=%an <%ae>', c1)).toBe('Samokoder <bot@samokoder.local>');
    expect(git('symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    await expect(readFile(path.join(sb.ws.dir, '.git/config'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('diff between two commits: patch and per-file summary; shas validated', async () => {
    const h = sb.ws.history;
    await sb.ws.files.writeFile('a.txt', 'one\ntwo\n');
    await sb.ws.files.writeFile('gone.txt', 'bye\n');
    const c1 = await h.commitAll('c1');
    await sb.ws.files.writeFile('a.txt', 'one\nTWO\nthree\n');
    await sb.ws.files.deleteFile('gone.txt');
    await sb.ws.files.writeFile('img.bin', Buffer.from([0, 1, 2, 3]));
    const c2 = await h.commitAll('c2');
    const d = await h.diff(c1.slice(0, 10), c2);
    expect(d.from).toBe(c1);
    expect(d.files).toEqual([
      { path: 'a.txt', additions: 2, deletions: 1, binary: false },
      { path: 'gone.txt', additions: 0, deletions: 1, binary: false },
      { path: 'img.bin', additions: null, deletions: null, binary: true },
    ]);
    expect(d.patch).toContain('-two\n+TWO\n+three');
    expect(d.truncated).toBe(false);
    expect((await h.diff(c1, c2, { maxBytes: 20 })).truncated).toBe(true);
    for (const bad of ['--output=/tmp/pwned', 'HEAD', 'main', '-p', '', 'abc']) {
      await expect(h.diff(bad, c2)).rejects.toMatchObject({ code: 'E_VALIDATION' });
    }
    await expect(h.diff('deadbeef', c2)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  test('revert adds a commit whose content is the old state and keeps later history', async () => {
    const h = sb.ws.history;
    await sb.ws.files.writeFile('a.txt', 'v1\n');
    const c1 = await h.commitAll('v1');
    await sb.ws.files.writeFile('a.txt', 'v2\n');
    await sb.ws.files.writeFile('new.txt', 'added later\n');
    const c2 = await h.commitAll('v2');
    const before = (await h.history()).length;
    const r = await h.revert(c1, undefined, { 'Samokoder-Run': 'r9' });
    const log = await h.history();
    expect(log.length).toBe(before + 1);
    expect(log[0]!.sha).toBe(r);
    expect(log[1]!.sha).toBe(c2);
    expect(log[0]!.trailers).toEqual({ 'Samokoder-Run': 'r9', 'Samokoder-Revert-To': c1 });
    expect(await readFile(path.join(sb.ws.dir, 'a.txt'), 'utf8')).toBe('v1\n');
    await expect(readFile(path.join(sb.ws.dir, 'new.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await h.diff(c1, r)).files).toEqual([]);
    await expect(h.revert('--hard')).rejects.toMatchObject({ code: 'E_VALIDATION' });
  });

  test('resetToHead discards leftovers of a killed step but keeps node_modules', async () => {
    const h = sb.ws.history;
    await sb.ws.files.writeFile('a.txt', 'committed\n');
    await sb.ws.files.writeFile('.gitignore', '*.log\n');
    await h.commitAll('base');
    await sb.ws.files.writeFile('a.txt', 'half-written');
    await sb.ws.files.writeFile('leftover/new.ts', 'x');
    await sb.ws.files.writeFile('debug.log', 'ignored leftover');
    await mkdir(path.join(sb.ws.dir, 'node_modules/dep'), { recursive: true });
    await writeFile(path.join(sb.ws.dir, 'node_modules/dep/index.js'), 'kept');
    await h.resetToHead();
    expect(await readFile(path.join(sb.ws.dir, 'a.txt'), 'utf8')).toBe('committed\n');
    await expect(readFile(path.join(sb.ws.dir, 'leftover/new.ts'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readFile(path.join(sb.ws.dir, 'debug.log'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(path.join(sb.ws.dir, 'node_modules/dep/index.js'), 'utf8')).toBe('kept');
  });

  test('concurrent commits are serialised (no index.lock failures)', async () => {
    const h = sb.ws.history;
    const shas = await Promise.all(Array.from({ length: 5 }, (_, i) => sb.ws.files.writeFile(`f${i}.txt`, `${i}`).then(() => h.commitAll(`c${i}`))));
    expect(new Set(shas).size).toBe(5);
    expect((await h.history()).length).toBe(6);
  });

  test("commits skip git's automatic gc; maintain() runs it", async () => {
    const gitDir = `${sb.ws.dir}.git`;
    const objects = () => {
      const out = execFileSync('git', ['count-objects', '-v'], { env: { PATH: process.env.PATH, GIT_DIR: gitDir, HOME: '/nonexistent' }, encoding: 'utf8' });
      return { loose: Number(/^count: (\d+)$/m.exec(out)![1]), packs: Number(/^packs: (\d+)$/m.exec(out)![1]) };
    };
    // gc --auto estimates the loose objects from those in objects/17/ alone; with gc.auto = 1 it
    // packs once that directory holds two. So: three files whose blob ids start with 17, each
    // committed on its own — any commit that still ran auto-maintenance would pack.
    await writeFile(path.join(gitDir, 'config'), `${await readFile(path.join(gitDir, 'config'), 'utf8')}[gc]\n\tauto = 1\n`);
    const blobId = (text: string) => createHash('sha1').update(`blob ${Buffer.byteLength(text)}\0${text}`).digest('hex');
    const contents = Array.from({ length: 2000 }, (_, i) => `${i}\n`).filter((t) => blobId(t).startsWith('17')).slice(0, 3);
    expect(contents).toHaveLength(3);
    for (const [i, text] of contents.entries()) {
      await sb.ws.files.writeFile(`m${i}.txt`, text);
      await sb.ws.history.commitAll(`m${i}`);
    }
    expect(objects()).toMatchObject({ packs: 0 });
    expect(objects().loose).toBeGreaterThan(6);
    await sb.ws.history.maintain();
    expect(objects().packs).toBeGreaterThan(0);
    expect(objects().loose).toBeLessThan(3);
    expect((await sb.ws.history.history()).length).toBe(4);
  });

  test('git runs in a helper process; a host that died is replaced on the next command, hooks and config stay off', async () => {
    const h = sb.ws.history;
    await h.commitAll('first');
    const pid = gitHost.pid;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    process.kill(pid!, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sb.ws.files.writeFile('b.txt', 'after\n');
    const sha = await h.commitAll('second');
    expect(gitHost.pid).not.toBe(pid);
    expect(await h.headSha()).toBe(sha);
    const config = await readFile(`${sb.ws.dir}.git/config`, 'utf8');
    expect(config).not.toMatch(/worktree/);
    expect(config).toMatch(/name = Samokoder/);
    await expect(readFile(path.join(`${sb.ws.dir}.git`, 'hooks/pre-commit.sample'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
