import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { makeSandbox, type Sandbox } from '../workspaces/helpers.js';

/** Real git, isolated from this machine's configuration. */
function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', `safe.directory=*`, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' },
  });
}

let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

/** Exports with ?git=1's option, unzips, and checks the history out again as a user would. */
async function exportedCheckout(): Promise<string> {
  const file = path.join(sb.base, 'export.zip');
  const out = createWriteStream(file);
  await sb.ws.exportZip(out, { includeGit: true });
  await finished(out);
  const dir = path.join(sb.base, 'checkout');
  execFileSync('unzip', ['-q', file, '-d', dir]);
  // Drop the exported work tree and recreate it from the history alone.
  for (const name of await readdir(dir)) if (name !== '.git') execFileSync('rm', ['-rf', path.join(dir, name)]);
  git(dir, ['checkout', '--force', 'HEAD', '--', '.']);
  return dir;
}

const treeModes = (dir: string): string[] => git(dir, ['ls-tree', '-r', 'HEAD']).trim().split('\n').map((l) => l.split(/\s/)[0]!);

describe('what a step commit holds', () => {
  test('a nested repository (git init sub, no commit yet) does not fail the commit; it is left out with a note', async () => {
    await sb.ws.files.writeFile('app.js', 'export {};\n');
    await mkdir(path.join(sb.ws.dir, 'sub'));
    git(path.join(sb.ws.dir, 'sub'), ['init', '-q']);
    await writeFile(path.join(sb.ws.dir, 'sub', 'file.txt'), 'inside the nested repository\n');

    const sha = await sb.ws.history.commitAll('coder: nested repo');
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const [head] = await sb.ws.history.history({ limit: 1 });
    expect(head!.message).toContain('sub/ (a nested git repository)');
    const dir = await exportedCheckout();
    expect(await readdir(dir)).toContain('app.js');
    expect(await readdir(dir)).not.toContain('sub');
    // Still in the workspace, as the agent wrote it.
    expect((await lstat(path.join(sb.ws.dir, 'sub', 'file.txt'))).isFile()).toBe(true);
  });

  test('a nested repository with a commit is not committed as a gitlink', async () => {
    const sub = path.join(sb.ws.dir, 'lib');
    await mkdir(sub);
    git(sub, ['init', '-q']);
    await writeFile(path.join(sub, 'x.txt'), 'x\n');
    git(sub, ['add', 'x.txt']);
    git(sub, ['commit', '-qm', 'x']);
    await sb.ws.files.writeFile('main.js', 'export {};\n');
    await sb.ws.history.commitAll('coder: nested repo with a commit');
    const dir = await exportedCheckout();
    expect(treeModes(dir)).not.toContain('160000');
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['main.js', '.git']));
  });

  test('symlinks stay out of commits and of the exported history: a checkout recreates none', async () => {
    await sb.ws.files.writeFile('real.txt', 'real\n');
    await symlink('/etc/passwd', path.join(sb.ws.dir, 'passwd'));
    await symlink('real.txt', path.join(sb.ws.dir, 'alias.txt'));
    await sb.ws.history.commitAll('coder: symlinks');
    const [head] = await sb.ws.history.history({ limit: 1 });
    expect(head!.message).toContain('passwd (a symlink)');

    const dir = await exportedCheckout();
    expect(treeModes(dir)).not.toContain('120000');
    const names = await readdir(dir);
    expect(names).toContain('real.txt');
    expect(names).not.toContain('passwd');
    expect(names).not.toContain('alias.txt');
  });
});
