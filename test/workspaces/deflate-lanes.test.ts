import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { DeflateLanes } from '../../workspaces/zip/deflate-lanes.js';

/** A fixed mix: tiny, text-like of many sizes, incompressible, and the largest accepted. */
function inputs(): Buffer[] {
  const noise = randomBytes(1024 * 1024);
  return [
    Buffer.from('a'),
    Buffer.from('export const answer = 42;\n'.repeat(2000)),
    noise.subarray(0, 100_000),
    Buffer.alloc(1024 * 1024, 'xyz'),
    noise,
    ...Array.from({ length: 60 }, (_, i) => Buffer.from(`line ${i} ${'const value = item.map((x) => x * 2);'.slice(0, i % 37)}\n`.repeat(50 + i * 37))),
  ];
}

describe('DeflateLanes (reused deflate contexts)', () => {
  test('every output inflates back to its input, with more entries in flight than lanes', async () => {
    const data = inputs();
    const lanes = new DeflateLanes(3, 5, 1024 * 1024);
    try {
      const outputs = await Promise.all(data.map((b) => lanes.deflate(b)));
      outputs.forEach((out, i) => expect(zlib.inflateRawSync(out).equals(data[i]!)).toBe(true));
      // Compressible input really was compressed.
      expect(outputs[3]!.length).toBeLessThan(10_000);
    } finally {
      lanes.close();
    }
  });

  test('the same calls in the same order give the same bytes, however they are scheduled', async () => {
    const data = inputs();
    const all = new DeflateLanes(4, 5, 1024 * 1024);
    const oneByOne = new DeflateLanes(4, 5, 1024 * 1024);
    try {
      // All at once (the pool interleaves them) vs each awaited before the next.
      const a = await Promise.all(data.map((b) => all.deflate(b)));
      const b: Buffer[] = [];
      for (const d of data) b.push(await oneByOne.deflate(d));
      expect(a.map((x) => x.toString('base64'))).toEqual(b.map((x) => x.toString('base64')));
    } finally {
      all.close();
      oneByOne.close();
    }
  });

  test('refuses empty and oversized input', async () => {
    const lanes = new DeflateLanes(1, 5, 1024);
    try {
      await expect(lanes.deflate(Buffer.alloc(0))).rejects.toThrow(RangeError);
      await expect(lanes.deflate(Buffer.alloc(1025))).rejects.toThrow(RangeError);
      expect(zlib.inflateRawSync(await lanes.deflate(Buffer.alloc(1024, 1))).equals(Buffer.alloc(1024, 1))).toBe(true);
    } finally {
      lanes.close();
    }
  });
});
