import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '../core/errors.js';

export interface ImportLimits {
  /** Unpacked bytes, all files together. */
  readonly maxBytes: number;
  readonly maxFiles: number;
}

/** A ZIP checked entry by entry, open for extraction; close() it when done. */
export interface CheckedZip {
  readonly files: number;
  readonly bytes: number;
  /** Paths left out on purpose (`.git/`, `node_modules/`), for the import's report. */
  readonly skipped: readonly string[];
  extractTo(dir: string): Promise<void>;
  close(): void;
}

/**
 * A file expanding more than this many times over (and past 1 MiB) is a zip bomb, not source:
 * text deflates 3-10x, a long run of one byte ~1000x.
 */
const MAX_RATIO = 200;
const RATIO_FLOOR_BYTES = 1024 * 1024;
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

const unsafe = (message: string) => new AppError('E_IMPORT_UNSAFE', `${message} Nothing was kept.`);

function openZip(file: string): Promise<ZipFile> {
  return new Promise((resolve, reject) =>
    // strictFileNames: a backslash in a name is refused, not turned into a separator.
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true, decodeStrings: true }, (err, zip) =>
      err ? reject(unsafe(`The upload is not a readable ZIP file (${err.message}).`)) : resolve(zip),
    ),
  );
}

function readEntries(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (e: Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    // yauzl's own checks (absolute paths, `..`, bad sizes) arrive here, with the entry named.
    zip.on('error', (err: Error) => reject(unsafe(`The ZIP is refused: ${err.message}.`)));
    zip.readEntry();
  });
}

/** The entry's Unix file type bits, when a Unix zipper recorded them (0: a DOS zipper, a plain file or directory). */
const unixType = (e: Entry) => ((e.externalFileAttributes >>> 16) & 0o170000) >>> 0;

function checkName(name: string): void {
  const segments = name.replace(/\/$/, '').split('/');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw unsafe(`The ZIP entry ${JSON.stringify(name)} has an absolute path.`);
  if (segments.some((s) => s === '..')) throw unsafe(`The ZIP entry ${JSON.stringify(name)} leads out of the project ("..").`);
  if (segments.some((s) => s === '' || s === '.' || s.length > 255) || name.includes('\0') || name.includes('\\')) {
    throw unsafe(`The ZIP entry ${JSON.stringify(name)} has an empty, "." or overlong path segment.`);
  }
}

/**
 * Checks every entry of an uploaded ZIP from its central directory before one byte is written:
 * names (no absolute path, `..`, backslash), types (files and directories only: no symlink,
 * device, FIFO or socket), no encryption, the compression ratio of each file, and the totals
 * against the limits. Extraction then re-checks what the entries really hold (yauzl compares the
 * bytes with the declared sizes; the total is counted again as written), creates every file
 * exclusively (a duplicate name is refused, never overwritten) and makes no symlink, so nothing
 * can be written outside the target directory. A single top-level folder (GitHub's
 * "Download ZIP" layout) is unwrapped.
 */
export async function checkZip(file: string, limits: ImportLimits): Promise<CheckedZip> {
  const zip = await openZip(file);
  try {
    const entries = await readEntries(zip);
    const kept: { entry: Entry; name: string; dir: boolean }[] = [];
    const skipped = new Set<string>();
    let bytes = 0;
    let files = 0;
    for (const entry of entries) {
      const name = entry.fileName;
      checkName(name);
      const type = unixType(entry);
      const dir = name.endsWith('/') || type === 0o040000;
      if (type === 0o120000) throw unsafe(`The ZIP entry ${JSON.stringify(name)} is a symbolic link; links are not imported.`);
      if (type !== 0 && type !== 0o100000 && type !== 0o040000) throw unsafe(`The ZIP entry ${JSON.stringify(name)} is a device, FIFO or socket, not a file.`);
      if ((entry.generalPurposeBitFlag & 0x1) !== 0) throw unsafe(`The ZIP entry ${JSON.stringify(name)} is encrypted; upload an unencrypted ZIP.`);
      const top = name.split('/').find((s, i, all) => SKIPPED_DIRS.has(s) && i < all.length - 1);
      if (top !== undefined) {
        skipped.add(name.slice(0, name.indexOf(`${top}/`) + top.length + 1));
        continue;
      }
      if (!dir) {
        files += 1;
        bytes += entry.uncompressedSize;
        if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize > MAX_RATIO * Math.max(entry.compressedSize, 1)) {
          throw unsafe(`The ZIP entry ${JSON.stringify(name)} expands ${Math.round(entry.uncompressedSize / Math.max(entry.compressedSize, 1))} times (more than ${MAX_RATIO}): a zip bomb.`);
        }
      }
      if (files > limits.maxFiles) throw new AppError('E_IMPORT_TOO_LARGE', `The ZIP holds more than ${limits.maxFiles} files (SAMOKODER_IMPORT_MAX_FILES). Nothing was kept.`);
      if (bytes > limits.maxBytes) throw tooLarge(limits);
      kept.push({ entry, name, dir });
    }
    const prefix = commonFolder(kept.map((k) => k.name));
    return {
      files,
      bytes,
      skipped: [...skipped],
      close: () => zip.close(),
      extractTo: async (target) => {
        let written = 0;
        // Directories made so far: one mkdir per directory, not one per file.
        const made = new Set<string>();
        const mkdirOnce = async (d: string) => {
          if (made.has(d)) return;
          await fsp.mkdir(d, { recursive: true, mode: 0o755 });
          made.add(d);
        };
        for (const { entry, name, dir } of kept) {
          const rel = name.slice(prefix.length).replace(/\/$/, '');
          if (!rel) continue;
          const dest = path.join(target, ...rel.split('/'));
          if (dir) {
            await mkdirOnce(dest);
            continue;
          }
          await mkdirOnce(path.dirname(dest));
          const executable = ((entry.externalFileAttributes >>> 16) & 0o111) !== 0;
          const counter = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              written += chunk.length;
              cb(written > limits.maxBytes ? tooLarge(limits) : null, chunk);
            },
          });
          const source = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
            zip.openReadStream(entry, (err, stream) => (err ? reject(unsafe(`The ZIP entry ${JSON.stringify(name)} cannot be read (${err.message}).`)) : resolve(stream))),
          );
          // 'wx': a second entry of the same name (or one through a path another entry made a file) fails.
          await pipeline(source, counter, createWriteStream(dest, { flags: 'wx', mode: executable ? 0o755 : 0o644 })).catch((err: unknown) => {
            if (err instanceof AppError) throw err;
            throw unsafe(`The ZIP entry ${JSON.stringify(name)} could not be unpacked (${(err as Error).message.replace(target, '')}).`);
          });
        }
      },
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}

const tooLarge = (limits: ImportLimits) =>
  new AppError('E_IMPORT_TOO_LARGE', `The ZIP unpacks to more than ${Math.round(limits.maxBytes / 1048576)} MiB (SAMOKODER_IMPORT_MAX_MB, or the plan's workspace quota). Nothing was kept.`);

/** "repo-main/" when every entry is under that one folder, else "". */
function commonFolder(names: readonly string[]): string {
  const first = names[0]?.split('/')[0];
  if (first === undefined || names.length === 0) return '';
  const prefix = `${first}/`;
  return names.every((n) => n.startsWith(prefix)) && names.some((n) => n.length > prefix.length) ? prefix : '';
}
