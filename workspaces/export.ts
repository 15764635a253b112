import { closeSync, constants, createReadStream, fstatSync, readSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { AppError, isAppError } from '../core/errors.js';
import { openNoFollowSync } from './fs-guard.js';
import type { ExportOptions, ExportResult } from './port.js';
import { walk, type WalkEntry } from './walk.js';
import { crc32 } from './zip/crc32.js';
import { DeflateLanes } from './zip/deflate-lanes.js';
import { METHOD_DEFLATE, METHOD_STORE } from './zip/records.js';
import { ZipWriter, type PreparedEntry } from './zip/writer.js';

/**
 * Directories never exported, wherever they are: dependencies, git internals (the workspace's own
 * repository is added separately with includeGit) and build/test caches. `dist`/`build` are kept:
 * they can be legitimate sources of a generated project.
 */
export const EXPORT_EXCLUDED_DIRS: ReadonlySet<string> = new Set([
  'node_modules', '.git', '.cache', 'coverage', '.turbo', '.parcel-cache', '__pycache__', '.pytest_cache', '.mypy_cache',
]);
/** Excluded by path suffix (the directory name alone is too common). */
const EXCLUDED_DIR_SUFFIXES = ['.next/cache'];
/** Already-compressed formats are stored as they are: deflating them costs time and saves nothing. */
const STORED_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'ico', 'woff', 'woff2', 'zip', 'gz', 'tgz', 'bz2', 'xz', 'zst', '7z', 'mp3', 'mp4', 'webm', 'ogg']);

/** Files up to this size are read whole and deflated on the zlib thread pool, several at once. */
const BUFFERED_MAX_BYTES = 1024 * 1024;
/**
 * Entries being prepared ahead of the writer: with ≤ 1 MiB each this bounds memory to ~16 MiB;
 * 8 keep the 4 zlib pool threads busy (16 measured no faster, and ~10 MB more peak RSS).
 */
const WINDOW = 8;
/** Walk entries (paths only) found ahead of the window. */
const WALK_AHEAD = 64;
/**
 * zlib level 4. Info-ZIP's default is -6, but its deflate compresses a little less than zlib's at
 * the same level: on the export benchmark's tree zlib 4 gives an archive 0.3% larger than
 * `zip -qr`'s (zlib 5: −1.1%, zlib 6: −1.5%) for ~15% less CPU than zlib 5 (its match search
 * gives up sooner), which on two shared cores is what decides how long an export takes.
 */
const LEVEL = 4;
/** Deflate contexts reused across entries (DeflateLanes): one per zlib pool thread. */
const LANES = 4;
/** Incompressible-data check (looksIncompressible): sample size, the files it applies to, the entropy that counts. */
const SAMPLE_BYTES = 2048;
const SAMPLE_MIN_FILE_BYTES = 4 * SAMPLE_BYTES;
const INCOMPRESSIBLE_BITS_PER_BYTE = 7.75;

type Prepared = { kind: 'ready'; entry: PreparedEntry } | { kind: 'stream'; name: string; mode: number; fd: number } | { kind: 'skip' };

export interface ExportSource {
  /** The workspace directory (a real path). */
  readonly dir: string;
  /** Its git directory, exported as `.git/` with includeGit. */
  readonly gitDir: string;
}

/**
 * Streams a ZIP of the workspace into `destination`.
 *
 * Deterministic: entries in walk order (names sorted per directory), one fixed timestamp, modes
 * 0644/0755 (only the owner-executable bit is kept), no extra fields, and the store-or-deflate
 * choice depends only on the bytes — so the same files give the same archive.
 *
 * Safe: symlinks and special files are neither followed nor stored, each file is opened with
 * O_NOFOLLOW and checked to be where the walk found it, names come from the directory listing
 * (never `..`, absolute, NUL or backslash).
 *
 * Fast and flat: up to WINDOW small files are read and deflated concurrently on the libuv
 * thread pool (or stored without deflating when samples show the data is incompressible) while
 * the writer emits finished entries in order, with the directory walk running ahead; large files
 * stream through a deflate stream. When the destination closes early (client gone) or `signal` aborts, the walk
 * stops, in-flight work is drained and the promise rejects with E_CANCELLED.
 */
export async function exportWorkspaceZip(source: ExportSource, destination: Writable, options: ExportOptions = {}): Promise<ExportResult> {
  const controller = new AbortController();
  const { signal } = controller;
  const cancel = (): void => controller.abort(new AppError('E_CANCELLED', 'The export was cancelled (the client went away)'));
  const onClose = (): void => {
    if (!destination.writableFinished) cancel();
  };
  destination.on('close', onClose);
  destination.on('error', cancel);
  options.signal?.addEventListener('abort', cancel, { once: true });
  if (options.signal?.aborted || destination.destroyed) cancel();

  const writer = new ZipWriter(destination, signal);
  const lanes = new DeflateLanes(LANES, LEVEL, BUFFERED_MAX_BYTES);
  const window: Promise<Prepared>[] = [];
  try {
    for await (const entry of readAhead(entries(source, options.includeGit === true, signal), WALK_AHEAD)) {
      const job = prepare(entry, lanes, signal);
      // Awaited later, in order; this keeps a failure meanwhile from being an unhandled rejection.
      job.catch(() => undefined);
      window.push(job);
      if (window.length >= WINDOW) await emit(writer, window.shift()!, signal);
    }
    while (window.length > 0) await emit(writer, window.shift()!, signal);
    await writer.finish(options.end !== false);
    return { entries: writer.entries, bytes: writer.bytes };
  } catch (err) {
    // A half-written archive must not look complete to the client.
    if (!destination.destroyed) destination.destroy();
    if (signal.aborted) throw signal.reason instanceof AppError ? signal.reason : new AppError('E_CANCELLED', 'The export was cancelled', { cause: err });
    throw isAppError(err) ? err : new AppError('E_INTERNAL', 'The export failed', { cause: err });
  } finally {
    destination.off('close', onClose);
    destination.off('error', cancel);
    options.signal?.removeEventListener('abort', cancel);
    // Let reads already started finish, and close the handles of large files never reached.
    for (const p of await Promise.allSettled(window)) {
      if (p.status === 'fulfilled' && p.value.kind === 'stream') closeSync(p.value.fd);
    }
    lanes.close();
  }
}

/**
 * Keeps up to `ahead` results of `source` requested before they are needed, so the directory
 * walk's I/O (a thread-pool round trip per lstat and readdir) overlaps with reading and
 * deflating the entries already found instead of stalling the loop between directories.
 */
async function* readAhead<T>(source: AsyncGenerator<T>, ahead: number): AsyncGenerator<T> {
  const pending: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (pending.length < ahead) {
        const next = source.next();
        next.catch(() => undefined); // surfaced when awaited below
        pending.push(next);
      }
      const r = await pending.shift()!;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await Promise.allSettled(pending);
    await source.return(undefined);
  }
}

async function* entries(source: ExportSource, includeGit: boolean, signal: AbortSignal): AsyncGenerator<WalkEntry> {
  const skipDir = (rel: string, name: string): boolean =>
    EXPORT_EXCLUDED_DIRS.has(name) || EXCLUDED_DIR_SUFFIXES.some((s) => rel === s || rel.endsWith(`/${s}`));
  for await (const e of walk(source.dir, { skipDir, signal })) if (e.type === 'file') yield e;
  if (!includeGit) return;
  for await (const e of walk(source.gitDir, { signal })) if (e.type === 'file') yield { ...e, rel: `.git/${e.rel}` };
}

async function prepare(entry: WalkEntry, lanes: DeflateLanes, signal: AbortSignal): Promise<Prepared> {
  signal.throwIfAborted();
  let fd: number;
  try {
    fd = openNoFollowSync(entry.abs, entry.rel, constants.O_RDONLY);
  } catch (err) {
    // Gone, or replaced by a symlink or a directory since the listing: not exported.
    if (isAppError(err)) return { kind: 'skip' };
    throw err;
  }
  let handedOver = false;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'skip' };
    const mode = st.mode & 0o100 ? 0o100755 : 0o100644;
    if (st.size > BUFFERED_MAX_BYTES) {
      handedOver = true;
      return { kind: 'stream', name: entry.rel, mode, fd };
    }
    return { kind: 'ready', entry: await compress(entry.rel, mode, readSmall(fd, st.size), lanes) };
  } finally {
    if (!handedOver) closeSync(fd);
  }
}

/** Reads a small file whole (synchronously, see openNoFollowSync); a file that grew is cut at its stat size + what one read returns. */
function readSmall(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const n = readSync(fd, buf, length, size - length, length);
    if (n === 0) break;
    length += n;
  }
  return length === size ? buf : buf.subarray(0, length);
}

async function compress(name: string, mode: number, data: Buffer, lanes: DeflateLanes): Promise<PreparedEntry> {
  const crc = crc32(data);
  const stored: PreparedEntry = { name, mode, method: METHOD_STORE, crc, size: data.length, data };
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  if (data.length === 0 || STORED_EXTENSIONS.has(ext) || looksIncompressible(data)) return stored;
  const deflated = await lanes.deflate(data);
  // Incompressible data is stored: smaller, and faster to unpack.
  return deflated.length < data.length ? { ...stored, method: METHOD_DEFLATE, data: deflated } : stored;
}

/**
 * Whether deflating `data` is not worth it, judged on two samples (its start and its middle): when
 * both have a byte-frequency entropy near 8 bits per byte (random bytes, compressed or encrypted
 * data under an unknown extension), the file is stored without deflating it. A histogram costs a
 * few microseconds where a trial deflate of a sample cost ~40 µs (a deflate context per call); it
 * does not see repeats of high-entropy blocks, which generated projects do not have. A pure
 * function of the bytes, so the archive stays deterministic. Small files are simply deflated.
 */
function looksIncompressible(data: Buffer): boolean {
  if (data.length < SAMPLE_MIN_FILE_BYTES) return false;
  // Text fails on the first sample, so most files cost one 2 KB pass.
  return highEntropy(data, 0) && highEntropy(data, (data.length >>> 1) - (SAMPLE_BYTES >>> 1));
}

/** Random bytes measure ~7.9 bits per byte on a 2 KB sample; source text 4–5.5, base64 6. */
function highEntropy(data: Buffer, at: number): boolean {
  const counts = new Uint16Array(256);
  for (let i = at; i < at + SAMPLE_BYTES; i++) counts[data[i]!]! += 1;
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= (c / SAMPLE_BYTES) * Math.log2(c / SAMPLE_BYTES);
  return bits >= INCOMPRESSIBLE_BITS_PER_BYTE;
}

async function emit(writer: ZipWriter, job: Promise<Prepared>, signal: AbortSignal): Promise<void> {
  const p = await job;
  try {
    signal.throwIfAborted();
    if (p.kind === 'ready') await writer.addPrepared(p.entry);
    else if (p.kind === 'stream') {
      await writer.addStreamed(p.name, p.mode, createReadStream('', { fd: p.fd, autoClose: false, highWaterMark: 256 * 1024 }), LEVEL);
    }
  } finally {
    if (p.kind === 'stream') closeSync(p.fd);
  }
}
