/**
 * ZIP records (APPNOTE.TXT 4.3), written by hand because every field is fixed here: UTF-8 names,
 * one DOS timestamp for every entry, Unix permissions, no extra fields. No ZIP64: the writer
 * refuses archives that would need it.
 */

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;
/** Bit 3: sizes and CRC follow the data in a data descriptor. Bit 11: the name is UTF-8. */
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_UTF8 = 0x0800;
/** 1980-01-01 00:00:00, the DOS epoch: fixed so the same files give the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** Made by Unix (3), spec 2.0: unzip then honours the permission bits in the external attributes. */
const VERSION_MADE_BY = (3 << 8) | 20;

export interface EntryRecord {
  readonly name: Buffer;
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Unix mode including the file type bits, e.g. 0o100644. */
  readonly mode: number;
  readonly offset: number;
}

const versionNeeded = (method: number): number => (method === METHOD_DEFLATE ? 20 : 10);

export function localHeader(e: Omit<EntryRecord, 'offset'>): Buffer {
  const b = Buffer.alloc(30 + e.name.length);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(versionNeeded(e.method), 4);
  b.writeUInt16LE(e.flags, 6);
  b.writeUInt16LE(e.method, 8);
  b.writeUInt16LE(DOS_TIME, 10);
  b.writeUInt16LE(DOS_DATE, 12);
  // With a data descriptor these three stay zero here and follow the data instead.
  const described = (e.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  b.writeUInt32LE(described ? 0 : e.crc, 14);
  b.writeUInt32LE(described ? 0 : e.compressedSize, 18);
  b.writeUInt32LE(described ? 0 : e.size, 22);
  b.writeUInt16LE(e.name.length, 26);
  b.writeUInt16LE(0, 28);
  e.name.copy(b, 30);
  return b;
}

export function dataDescriptor(e: Pick<EntryRecord, 'crc' | 'compressedSize' | 'size'>): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(e.crc, 4);
  b.writeUInt32LE(e.compressedSize, 8);
  b.writeUInt32LE(e.size, 12);
  return b;
}

export function centralHeader(e: EntryRecord): Buffer {
  const b = Buffer.alloc(46 + e.name.length);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(VERSION_MADE_BY, 4);
  b.writeUInt16LE(versionNeeded(e.method), 6);
  b.writeUInt16LE(e.flags, 8);
  b.writeUInt16LE(e.method, 10);
  b.writeUInt16LE(DOS_TIME, 12);
  b.writeUInt16LE(DOS_DATE, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(e.compressedSize, 20);
  b.writeUInt32LE(e.size, 24);
  b.writeUInt16LE(e.name.length, 28);
  // extra length, comment length, disk number start, internal attributes: all zero
  b.writeUInt32LE((e.mode << 16) >>> 0, 38);
  b.writeUInt32LE(e.offset, 42);
  e.name.copy(b, 46);
  return b;
}

export function endOfCentralDirectory(entries: number, size: number, offset: number): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(0x06054b50, 0);
  b.writeUInt16LE(entries, 8);
  b.writeUInt16LE(entries, 10);
  b.writeUInt32LE(size, 12);
  b.writeUInt32LE(offset, 16);
  return b;
}

/** Without ZIP64, counts stop at 65,535 entries and sizes/offsets below 4 GiB. */
export const MAX_ENTRIES = 0xffff;
export const MAX_OFFSET = 0xffffffff;
