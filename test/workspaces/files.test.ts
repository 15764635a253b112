import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, SENTINEL_TEXT, type Sandbox } from './helpers.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

const UNSAFE_PATHS = ['../outside/sentinel.txt', 'a/../../outside/x', '/etc/passwd', 'C:/x', 'a\\..\\b', 'a\0b', '', '.', './', '..', 'x/..', 'a'.repeat(300), 'a\nb'];

async function outsideUnchanged(): Promise<void> {
  expect(await readFile(sb.sentinel, 'utf8')).toBe(SENTINEL_TEXT);
  expect((await readdir(sb.outside)).sort()).toEqual(['sentinel.txt']);
}

describe('workspace files: path safety', () => {
  test.each(UNSAFE_PATHS)('refuses %j for read, write and delete', async (p) => {
    await expect(sb.ws.files.writeFile(p, 'pwned')).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
    await expect(sb.ws.files.readFile(p)).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
    await expect(sb.ws.files.deleteFile(p)).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
    await outsideUnchanged();
  });

  test('a planted file symlink (to /etc/passwd, to the sentinel) is never read or written through', async () => {
    await symlink('/etc/passwd', path.join(sb.ws.dir, 'passwd'));
    await symlink(sb.sentinel, path.join(sb.ws.dir, 'link.txt'));
    for (const p of ['passwd', 'link.txt']) {
      await expect(sb.ws.files.readFile(p)).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
      await expect(sb.ws.files.writeFile(p, 'pwned')).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
    }
    await outsideUnchanged();
    // Deleting removes the link itself, never its target.
    await sb.ws.files.deleteFile('link.txt');
    await outsideUnchanged();
  });

  test('a planted directory symlink (to a sibling dir, to /etc) is refused for read, write and delete', async () => {
    await symlink(sb.outside, path.join(sb.ws.dir, 'sib'));
    await symlink('/etc', path.join(sb.ws.dir, 'etc'));
    for (const p of ['sib/sentinel.txt', 'sib/new.txt', 'sib/deep/new.txt', 'etc/passwd']) {
      await expect(sb.ws.files.writeFile(p, 'pwned')).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
      await expect(sb.ws.files.readFile(p)).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
      await expect(sb.ws.files.deleteFile(p)).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
    }
    await outsideUnchanged();
  });

  test('the tree reports symlinks without following them and skips .git and node_modules', async () => {
    await sb.ws.files.writeFile('src/index.js', 'console.log(1)\n');
    await mkdir(path.join(sb.ws.dir, 'node_modules/x'), { recursive: true });
    await writeFile(path.join(sb.ws.dir, 'node_modules/x/i.js'), '');
    await symlink(sb.outside, path.join(sb.ws.dir, 'sib'));
    const tree = await sb.ws.files.tree();
    expect(tree).toEqual({
      truncated: false,
      entries: [
        { path: 'sib', type: 'symlink' },
        { path: 'src', type: 'dir' },
        { path: 'src/index.js', type: 'file', size: 15 },
      ],
    });
    expect((await sb.ws.files.tree({ maxEntries: 2 })).truncated).toBe(true);
  });

  test('project ids must be uuids', async () => {
    await expect(sb.store.create('../x')).rejects.toMatchObject({ code: 'E_VALIDATION' });
    await expect(sb.store.open('ABC')).rejects.toMatchObject({ code: 'E_VALIDATION' });
    await expect(sb.store.open(randomUUID())).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('workspace files: content', () => {
  test('writes create parents, replace atomically, keep the mode, and read back as text', async () => {
    await sb.ws.files.writeFile('./a//b/c.txt', 'héllo\n');
    expect(await sb.ws.files.readFile('a/b/c.txt')).toEqual({ path: 'a/b/c.txt', size: 7, binary: false, content: 'héllo\n' });
    await writeFile(path.join(sb.ws.dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await sb.ws.files.writeFile('run.sh', '#!/bin/sh\necho hi\n');
    expect((await lstat(path.join(sb.ws.dir, 'run.sh'))).mode & 0o777).toBe(0o755);
    // No temp files left behind.
    expect((await readdir(path.join(sb.ws.dir, 'a/b'))).sort()).toEqual(['c.txt']);
  });

  test('binary detection: NUL in the first 8 KB, or invalid UTF-8', async () => {
    await sb.ws.files.writeFile('nul.bin', Buffer.from([0x41, 0x00, 0x42]));
    await sb.ws.files.writeFile('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    expect(await sb.ws.files.readFile('nul.bin')).toEqual({ path: 'nul.bin', size: 3, binary: true });
    expect(await sb.ws.files.readFile('latin1.txt')).toEqual({ path: 'latin1.txt', size: 4, binary: true });
  });

  test('size caps on write and read', async () => {
    await expect(sb.ws.files.writeFile('big.txt', 'x'.repeat(64 * 1024 + 1))).rejects.toMatchObject({ code: 'E_FILE_TOO_LARGE' });
    await sb.ws.files.writeFile('ok.txt', 'x'.repeat(100));
    await expect(sb.ws.files.readFile('ok.txt', { maxBytes: 10 })).rejects.toMatchObject({ code: 'E_FILE_TOO_LARGE' });
  });

  test('missing files, directories and .git are reported clearly', async () => {
    await expect(sb.ws.files.readFile('nope.txt')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await sb.ws.files.writeFile('d/x.txt', 'x');
    await expect(sb.ws.files.readFile('d')).rejects.toMatchObject({ code: 'E_VALIDATION' });
    await expect(sb.ws.files.writeFile('d', 'x')).rejects.toMatchObject({ code: 'E_VALIDATION' });
    await expect(sb.ws.files.writeFile('.git/config', 'x')).rejects.toMatchObject({ code: 'E_PATH_UNSAFE' });
    await sb.ws.files.deleteFile('d/x.txt');
    await expect(sb.ws.files.readFile('d/x.txt')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  test('removing a workspace deletes it and its repository, not what its symlinks point at', async () => {
    await symlink(sb.outside, path.join(sb.ws.dir, 'sib'));
    await sb.store.remove(sb.ws.projectId);
    expect(await sb.store.exists(sb.ws.projectId)).toBe(false);
    await outsideUnchanged();
  });
});
