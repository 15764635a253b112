import { CappedOutput } from '../../sandbox/output-cap.js';

/** A Docker multiplexed frame: stream type, 3 zero bytes, big-endian length, payload. */
const frame = (stream: 1 | 2, payload: Buffer | string): Buffer => {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};

test('frames split anywhere (inside a header, inside a UTF-8 character) are reassembled and streamed', () => {
  const raw = Buffer.concat([frame(1, 'héllo '), frame(2, 'err'), frame(1, 'wörld')]);
  const seen = { stdout: '', stderr: '' };
  const out = new CappedOutput(1024, (s, t) => (seen[s] += t));
  for (let i = 0; i < raw.length; i += 3) expect(out.push(raw.subarray(i, i + 3))).toBe(true);
  expect(out.finish()).toEqual({ stdout: 'héllo wörld', stderr: 'err' });
  expect(out.truncated).toBe(false);
  expect(seen).toEqual({ stdout: 'héllo wörld', stderr: 'err' });
});

test('the cap counts raw payload bytes across both streams and stops at exactly the cap', () => {
  const out = new CappedOutput(10, undefined);
  expect(out.push(frame(1, 'abcdef'))).toBe(true);
  expect(out.push(frame(2, 'ghijklmnop'))).toBe(false);
  expect(out.truncated).toBe(true);
  expect(out.finish()).toEqual({ stdout: 'abcdef', stderr: 'ghij' });
});
