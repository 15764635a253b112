export const fmtTokens = (n: number) => (n >= 1_000_000 ? `${(n / 1_000_000).toFixed(2)}M` : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));

/** micro-USD → "$0.0123". */
export const fmtCost = (micro: number | null | undefined) => (micro == null ? '—' : `$${(micro / 1_000_000).toFixed(micro < 10_000 ? 4 : 2)}`);

export function fmtDate(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export const shortSha = (sha: string) => sha.slice(0, 8);
