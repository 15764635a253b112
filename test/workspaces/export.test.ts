import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeSandbox, type Sandbox } from './helpers.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await makeSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

class Collector extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function exportBytes(includeGit = false): Promise<Buffer> {
  const out = new Collector();
  await sb.ws.exportZip(out, { includeGit });
  return out.bytes;
}

async function exportToFile(includeGit = false): Promise<string> {
  const file = path.join(sb.base, `export-${randomBytes(4).toString('hex')}.zip`);
  await sb.ws.exportZip(createWriteStream(file), { includeGit });
  return file;
}

/** Entry names as the real `unzip -Z1` lists them. */
function unzipNames(file: string): string[] {
  return execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function plantTree(): Promise<void> {
  const w = (p: string, c: string | Buffer) => sb.ws.files.writeFile(p, c);
  await w('package.json', '{"name":"app"}\n');
  await w('src/index.js', 'console.log("hi")\n'.repeat(50));
  await w('src/..weird..name.js', 'ok\n');
  await w('dist/bundle.js', 'kept: dist may be real output\n');
  await w('assets/logo.png', randomBytes(300));
  await w('empty.txt', '');
  await w('run.sh', '#!/bin/sh\n');
  execFileSync('chmod', ['755', path.join(sb.ws.dir, 'run.sh')]);
  for (const d of ['node_modules/dep', 'src/node_modules/x', '.cache/c', 'coverage', '.next/cache/x', '__pycache__', '.git']) {
    await mkdir(path.join(sb.ws.dir, d), { recursive: true });
    await writeFile(path.join(sb.ws.dir, d, 'f.txt'), 'excluded');
  }
  await w('.next/server/page.js', 'kept\n');
  await symlink('/etc/passwd', path.join(sb.ws.dir, 'passwd'));
  await symlink(sb.outside, path.join(sb.ws.dir, 'sibling'));
  await symlink('../..', path.join(sb.ws.dir, 'src/up'));
}

const EXPECTED = [
  '.next/server/page.js',
  'assets/logo.png',
  'dist/bundle.js',
  'empty.txt',
  'package.json',
  'run.sh',
  'src/..weird..name.js',
  'src/index.js',
];

describe('ZIP export', () => {
  test('exactly the expected entries: no excluded dirs, no symlinks, no escapes; valid for the real unzip', async () => {
    await plantTree();
    const file = await exportToFile();
    const names = unzipNames(file);
    expect(names).toEqual(EXPECTED);
    expect(names.some((n) => n.startsWith('/') || n.split('/').includes('..') || n.includes('\\'))).toBe(false);
    execFileSync('unzip', ['-tq', file]);
    const out = path.join(sb.base, 'unzipped');
    execFileSync('unzip', ['-q', file, '-d', out]);
    expect(await readFile(path.join(out, 'src/index.js'), 'utf8')).toBe('console.log("hi")\n'.repeat(50));
    expect(await readFile(path.join(out, 'assets/logo.png'))).toEqual(await readFile(path.join(sb.ws.dir, 'assets/logo.png')));
    // Permissions are normalised: 0755 for executables, 0644 for the rest.
    const listing = execFileSync('unzip', ['-Z', file], { encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x .* run\.sh/);
    expect(listing).toMatch(/-rw-r--r-- .* package\.json/);
    expect(await readdir(sb.outside)).toEqual(['sentinel.txt']);
  });

  test('the same workspace gives the same bytes, also after its mtimes change', async () => {
    await plantTree();
    const first = sha256(await exportBytes());
    expect(sha256(await exportBytes())).toBe(first);
    const later = new Date(Date.now() + 86_400_000);
    for (const p of EXPECTED) await utimes(path.join(sb.ws.dir, p), later, later);
    expect(sha256(await exportBytes())).toBe(first);
    await sb.ws.files.writeFile('package.json', '{"name":"app2"}\n');
    expect(sha256(await exportBytes())).not.toBe(first);
  });

  test('includeGit adds the repository as .git/, a working clone', async () => {
    await sb.ws.files.writeFile('a.txt', 'a\n');
    await sb.ws.history.commitAll('add a', { 'Samokoder-Step': 'coder' });
    const file = await exportToFile(true);
    const names = unzipNames(file);
    expect(names).toContain('.git/HEAD');
    expect(names).toContain('a.txt');
    const out = path.join(sb.base, 'with-git');
    execFileSync('unzip', ['-q', file, '-d', out]);
    const log = execFileSync('git', ['-C', out, '-c', `safe.directory=${out}`, 'log', '--format=%s'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(log.trim().split('\n')).toEqual(['add a', 'Initialize workspace']);
    expect(execFileSync('git', ['-C', out, '-c', `safe.directory=${out}`, 'status', '--porcelain'], { encoding: 'utf8', env: { PATH: process.env.PATH } })).toBe('');
  });

  test('random bytes are stored, text is deflated, whatever the extension; both round-trip', async () => {
    const noise = randomBytes(64 * 1024);
    const text = Buffer.from('const value = compute(item, index);\n'.repeat(2000));
    await writeFile(path.join(sb.ws.dir, 'noise.dat'), noise);
    await writeFile(path.join(sb.ws.dir, 'text.dat'), text);
    const file = await exportToFile();
    // `unzip -Zv` prints each entry's "compression method:".
    const methods = execFileSync('unzip', ['-Zv', file], { encoding: 'utf8' })
      .split(/^Central directory entry/m)
      .slice(1)
      .map((e) => [/^\s*(\S+\.dat)\s*$/m.exec(e)?.[1], /compression method:\s+(\w+)/.exec(e)?.[1]]);
    expect(Object.fromEntries(methods)).toMatchObject({ 'noise.dat': 'none', 'text.dat': 'deflated' });
    expect(sha256(execFileSync('unzip', ['-p', file, 'noise.dat']))).toBe(sha256(noise));
    expect(sha256(execFileSync('unzip', ['-p', file, 'text.dat']))).toBe(sha256(text));
  });

  test('large files stream through (data descriptor) and round-trip', async () => {
    const big = Buffer.concat([randomBytes(1024 * 1024), Buffer.alloc(2 * 1024 * 1024, 'abc')]);
    await writeFile(path.join(sb.ws.dir, 'big.bin'), big);
    const file = await exportToFile();
    execFileSync('unzip', ['-tq', file]);
    // Compared by hash: a deep equality over 3 MB of bytes is slow in Jest.
    expect(sha256(execFileSync('unzip', ['-p', file, 'big.bin'], { maxBuffer: 16 * 1024 * 1024 }))).toBe(sha256(big));
  });

  test('a destination closed mid-stream stops the export quickly and leaks no file handles', async () => {
    for (let i = 0; i < 400; i++) await writeFile(path.join(sb.ws.dir, `f${String(i).padStart(4, '0')}.bin`), randomBytes(32 * 1024));
    const fdsBefore = (await readdir('/proc/self/fd')).length;
    let received = 0;
    const out = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, done) {
        received += chunk.length;
        // The client goes away after ~256 KB.
        if (received > 256 * 1024) setImmediate(() => this.destroy());
        setTimeout(done, 1);
      },
    });
    const started = Date.now();
    await expect(sb.ws.exportZip(out)).rejects.toMatchObject({ code: 'E_CANCELLED' });
    // What proves it stopped is how little was written; the time bound only rules out a hang.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(received).toBeLessThan(2 * 1024 * 1024);
    expect((await readdir('/proc/self/fd')).length).toBeLessThanOrEqual(fdsBefore);
  });

  test('an aborted signal stops the export with E_CANCELLED', async () => {
    await plantTree();
    const controller = new AbortController();
    controller.abort();
    const out = new Collector();
    await expect(sb.ws.exportZip(out, { signal: controller.signal })).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(out.destroyed).toBe(true);
  });
});
