import { once } from 'node:events';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { AppError } from '../../core/errors.js';
import { crc32 } from './crc32.js';
import {
  centralHeader,
  dataDescriptor,
  endOfCentralDirectory,
  FLAG_DATA_DESCRIPTOR,
  FLAG_UTF8,
  localHeader,
  MAX_ENTRIES,
  MAX_OFFSET,
  METHOD_DEFLATE,
  type EntryRecord,
} from './records.js';

/** Small records are gathered into writes of about this size (fewer, larger writes to a socket). */
const COALESCE_BYTES = 64 * 1024;

export interface PreparedEntry {
  readonly name: string;
  readonly mode: number;
  readonly method: number;
  readonly crc: number;
  readonly size: number;
  /** Already compressed with `method`. */
  readonly data: Buffer;
}

/**
 * A sequential ZIP writer: entries are appended in the order given, with backpressure on the
 * destination. It keeps only the central-directory records (about 50 bytes + name per entry).
 * Every await checks `signal`, so an export whose destination went away stops at once.
 */
export class ZipWriter {
  private offset = 0;
  private readonly central: EntryRecord[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly out: Writable,
    private readonly signal: AbortSignal,
  ) {}

  get entries(): number {
    return this.central.length;
  }

  get bytes(): number {
    return this.offset;
  }

  /** An entry whose data is in memory: CRC and sizes go in the local header. */
  async addPrepared(e: PreparedEntry): Promise<void> {
    const record = this.record(e.name, e.mode, e.method, FLAG_UTF8, e.crc, e.data.length, e.size);
    await this.push(localHeader(record));
    await this.push(e.data);
    this.central.push(record);
  }

  /** A large entry, deflated while it streams: CRC and sizes follow the data (data descriptor). */
  async addStreamed(name: string, mode: number, source: Readable, level: number): Promise<void> {
    const start = this.record(name, mode, METHOD_DEFLATE, FLAG_UTF8 | FLAG_DATA_DESCRIPTOR, 0, 0, 0);
    await this.push(localHeader(start));
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(
      source,
      tap,
      zlib.createDeflateRaw({ level }),
      async (compressed: AsyncIterable<Buffer>) => {
        for await (const chunk of compressed) {
          compressedSize += chunk.length;
          await this.push(chunk);
        }
      },
      { signal: this.signal },
    );
    const record = { ...start, crc, size, compressedSize };
    this.assertFits(record.offset + compressedSize);
    await this.push(dataDescriptor(record));
    this.central.push(record);
  }

  /** Writes the central directory and the end record; ends the destination when `end`. */
  async finish(end: boolean): Promise<void> {
    const cdOffset = this.offset;
    for (const r of this.central) await this.push(centralHeader(r));
    const cdSize = this.offset - cdOffset;
    this.assertFits(this.offset);
    await this.push(endOfCentralDirectory(this.central.length, cdSize, cdOffset));
    await this.flush();
    if (end) {
      this.out.end();
      await once(this.out, 'finish', { signal: this.signal });
    }
  }

  private record(name: string, mode: number, method: number, flags: number, crc: number, compressedSize: number, size: number): EntryRecord {
    if (this.central.length >= MAX_ENTRIES) throw new AppError('E_FILE_TOO_LARGE', `The export has more than ${MAX_ENTRIES} files (ZIP64 is not supported)`);
    this.assertFits(this.offset + compressedSize);
    return { name: Buffer.from(name, 'utf8'), method, flags, crc, compressedSize, size, mode, offset: this.offset };
  }

  private assertFits(offset: number): void {
    if (offset > MAX_OFFSET) throw new AppError('E_FILE_TOO_LARGE', 'The export is larger than 4 GiB (ZIP64 is not supported)');
  }

  private async push(buf: Buffer): Promise<void> {
    this.offset += buf.length;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    if (this.pendingBytes >= COALESCE_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    this.signal.throwIfAborted();
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain', { signal: this.signal });
  }
}
