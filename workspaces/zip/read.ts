/** Reading a ZIP (no ZIP64: the exports are small): the evaluation unpacks an exported project; tests read the export. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  offset: number;
}

/** The entries of a ZIP, from its central directory (no ZIP64: the exports here are small). */
export function zipEntries(zip: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a ZIP: no end of central directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const offset = zip.readUInt32LE(p + 42);
    entries.push({ name: zip.subarray(p + 46, p + 46 + nameLen).toString('utf8'), method, compressedSize, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export function readEntry(zip: Buffer, e: ZipEntry): Buffer {
  const nameLen = zip.readUInt16LE(e.offset + 26);
  const extraLen = zip.readUInt16LE(e.offset + 28);
  const start = e.offset + 30 + nameLen + extraLen;
  const data = zip.subarray(start, start + e.compressedSize);
  if (e.method === 0) return Buffer.from(data);
  if (e.method === 8) return inflateRawSync(data);
  throw new Error(`unsupported compression method ${e.method} for ${e.name}`);
}

/** Unzips into `dir` (entries are checked to stay inside it). */
export async function extractZip(zip: Buffer, dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const e of zipEntries(zip)) {
    const target = path.resolve(dir, e.name);
    if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`entry escapes the directory: ${e.name}`);
    if (e.name.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, readEntry(zip, e));
    names.push(e.name);
  }
  return names;
}
