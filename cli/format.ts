export const fmtTokens = (n: number) => (n >= 1_000_000 ? `${(n / 1_000_000).toFixed(2)}M` : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));
export const fmtCost = (micro: number | null | undefined) => (micro == null ? '—' : `$${(micro / 1_000_000).toFixed(micro < 10_000 ? 4 : 2)}`);
export const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;

/** A text bar: [#####-----] 50%. */
export function textBar(value: number, max: number | null, width = 24): string {
  if (max == null || max <= 0) return `[${'·'.repeat(width)}] unlimited`;
  const ratio = Math.min(1, value / max);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(ratio * 100)}%`;
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
