/**
 * A PostgreSQL for the benchmarks that need one: DATABASE_URL when set, otherwise the same
 * throwaway cluster the tests use (scripts/lib/postgres.mjs), stopped at the end.
 */
export async function benchPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  // Computed at run time: this file runs from dist/bench/, the script lives in scripts/lib/.
  const script = new URL('../../scripts/lib/postgres.mjs', import.meta.url).href;
  const { startPostgres } = (await import(script)) as { startPostgres(o: { log(m: string): void }): Promise<{ url: string; stop(): Promise<void> }> };
  return startPostgres({ log: (m) => console.error(m) });
}
