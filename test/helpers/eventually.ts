/**
 * Polls `read` until it returns `want` (a database notice travels asynchronously), giving up after
 * `timeoutMs` and returning the last value read, for the caller's expect() to show.
 */
export async function eventually<T>(read: () => Promise<T>, want: T, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let got = await read();
  while (got !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    got = await read();
  }
  return got;
}
