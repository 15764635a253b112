import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from './port.js';

/**
 * Reads Docker's multiplexed exec stream (8-byte header: stream type, 3 zero bytes, big-endian
 * payload length; then the payload) and enforces the output cap on the raw bytes as they arrive.
 * A frame's payload is passed on piece by piece, never buffered whole, so one enormous line with
 * no newline is counted (and cut) like any other output. We parse the frames ourselves instead of
 * using dockerode's demuxStream: it never ends its destinations and cannot stop at a byte count.
 */
export class CappedOutput {
  private header = Buffer.alloc(0);
  private remaining = 0;
  private current: OutputStream = 'stdout';
  private total = 0;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private readonly parts: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  truncated = false;

  constructor(
    private readonly capBytes: number,
    private readonly onOutput?: (stream: OutputStream, text: string) => void,
  ) {}

  /** Feeds raw bytes from the socket; returns false once the cap is reached (stop reading, kill). */
  push(chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length && !this.truncated) {
      if (this.remaining === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
        offset += Math.min(need, chunk.length - offset);
        if (this.header.length < 8) break;
        this.current = this.header[0] === 2 ? 'stderr' : 'stdout';
        this.remaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      let piece = chunk.subarray(offset, offset + take);
      offset += take;
      this.remaining -= take;
      if (this.total + piece.length > this.capBytes) {
        piece = piece.subarray(0, this.capBytes - this.total);
        this.truncated = true;
      }
      this.total += piece.length;
      this.emit(this.current, this.decoders[this.current].write(piece));
    }
    return !this.truncated;
  }

  /** Flushes a trailing partial UTF-8 character; call once, when reading is over. */
  finish(): { stdout: string; stderr: string } {
    for (const stream of ['stdout', 'stderr'] as const) this.emit(stream, this.decoders[stream].end());
    return { stdout: this.parts.stdout.join(''), stderr: this.parts.stderr.join('') };
  }

  private emit(stream: OutputStream, text: string): void {
    if (!text) return;
    this.parts[stream].push(text);
    this.onOutput?.(stream, text);
  }
}
