import { constants, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AppError } from '../core/errors.js';
import { decodeText } from './binary.js';
import { checkedParentDir, openNoFollow, pathUnsafe } from './fs-guard.js';
import { parseSafePath } from './safe-path.js';
import { walk } from './walk.js';
import type { FileContent, FileTree, TreeEntry, WorkspaceFiles } from './port.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = constants;

/** Directories the tree leaves out: git internals and installed dependencies. */
const TREE_SKIPPED_DIRS = new Set(['.git', 'node_modules']);
const DEFAULT_TREE_MAX_ENTRIES = 5_000;

/**
 * File access inside one workspace directory. Every path goes through parseSafePath (lexical)
 * and fs-guard (no symlink on the way, O_NOFOLLOW at the end), so nothing outside `root` is
 * read, written, listed or deleted. `root` must be a real path (no symlink in it).
 */
export class LocalWorkspaceFiles implements WorkspaceFiles {
  constructor(
    readonly root: string,
    private readonly maxFileBytes: number,
  ) {}

  async readFile(rawPath: string, options: { maxBytes?: number } = {}): Promise<FileContent> {
    const { rel, segments } = parseSafePath(rawPath);
    const maxBytes = options.maxBytes ?? this.maxFileBytes;
    const dir = await checkedParentDir(this.root, segments, rel, false);
    const handle = await openNoFollow(path.join(dir, segments.at(-1)!), rel, O_RDONLY);
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new AppError('E_VALIDATION', `${rel} is a directory`);
      if (!st.isFile()) throw pathUnsafe(rel, 'not a regular file');
      if (st.size > maxBytes) {
        throw new AppError('E_FILE_TOO_LARGE', `${rel} is ${st.size} bytes; the limit is ${maxBytes}`, { details: { size: st.size, limit: maxBytes } });
      }
      // Read at most one byte past the limit: a file that grew meanwhile is still refused.
      const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
        if (bytesRead === 0 || (length += bytesRead) === buf.length) break;
      }
      if (length > maxBytes) throw new AppError('E_FILE_TOO_LARGE', `${rel} is larger than ${maxBytes} bytes`);
      const bytes = buf.subarray(0, length);
      const text = decodeText(bytes);
      return text === undefined ? { path: rel, size: length, binary: true } : { path: rel, size: length, binary: false, content: text };
    } finally {
      await handle.close();
    }
  }

  async writeFile(rawPath: string, content: string | Uint8Array): Promise<{ path: string; size: number }> {
    const { rel, segments } = parseSafePath(rawPath);
    if (segments[0] === '.git') throw pathUnsafe(rel, 'inside .git');
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (bytes.byteLength > this.maxFileBytes) {
      throw new AppError('E_FILE_TOO_LARGE', `${rel} would be ${bytes.byteLength} bytes; the limit is ${this.maxFileBytes}`, {
        details: { size: bytes.byteLength, limit: this.maxFileBytes },
      });
    }
    const dir = await checkedParentDir(this.root, segments, rel, true);
    const target = path.join(dir, segments.at(-1)!);
    const existing = await lstatOrUndefined(target);
    if (existing?.isSymbolicLink()) throw pathUnsafe(rel, 'is a symlink');
    if (existing?.isDirectory()) throw new AppError('E_VALIDATION', `${rel} is a directory`);
    if (existing && !existing.isFile()) throw pathUnsafe(rel, 'not a regular file');
    // Keep an executable bit the file already had (a generated script stays runnable).
    const mode = existing ? existing.mode & 0o777 : 0o644;
    // Write beside the target, then rename over it: a reader (or a killed step) never sees half
    // a file, and rename replaces a symlink planted meanwhile instead of writing through it.
    const tmp = path.join(dir, `.${segments.at(-1)!.slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await openNoFollow(tmp, rel, O_WRONLY | O_CREAT | O_EXCL, mode);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(mode);
    } catch (err) {
      await handle.close();
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    try {
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { path: rel, size: bytes.byteLength };
  }

  async deleteFile(rawPath: string): Promise<void> {
    const { rel, segments } = parseSafePath(rawPath);
    if (segments[0] === '.git') throw pathUnsafe(rel, 'inside .git');
    const dir = await checkedParentDir(this.root, segments, rel, false);
    const target = path.join(dir, segments.at(-1)!);
    const st = await lstatOrUndefined(target);
    if (!st) throw new AppError('E_NOT_FOUND', `No such file: ${rel}`);
    if (st.isDirectory()) throw new AppError('E_VALIDATION', `${rel} is a directory`);
    // unlink removes a symlink itself, never its target.
    await fsp.unlink(target);
  }

  async tree(options: { maxEntries?: number } = {}): Promise<FileTree> {
    const maxEntries = options.maxEntries ?? DEFAULT_TREE_MAX_ENTRIES;
    const entries: TreeEntry[] = [];
    for await (const e of walk(this.root, { skipDir: (_rel, name) => TREE_SKIPPED_DIRS.has(name) })) {
      if (entries.length === maxEntries) return { entries, truncated: true };
      if (e.type === 'file') {
        const st = await lstatOrUndefined(e.abs);
        if (st?.isFile()) entries.push({ path: e.rel, type: 'file', size: st.size });
      } else if (e.type !== 'other') entries.push({ path: e.rel, type: e.type });
    }
    return { entries, truncated: false };
  }
}

async function lstatOrUndefined(abs: string) {
  return fsp.lstat(abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}
