// Numbers, money and dates in the reader's locale (the UI language), through Intl.
import { formatDate, formatNumber } from './i18n/index.js';

/** Small counts exactly; from 10 000 up, compact ("12.3K", "12,3 тыс."). */
export const fmtTokens = (n: number) => (n >= 10_000 ? formatNumber(n, { notation: 'compact', maximumFractionDigits: n >= 1_000_000 ? 2 : 1 }) : formatNumber(n));

/** micro-USD → "$0.0123" (four decimals below a cent, two above). */
export const fmtCost = (micro: number | null | undefined) => {
  if (micro == null) return '—';
  const digits = micro < 10_000 ? 4 : 2;
  return formatNumber(micro / 1_000_000, { style: 'currency', currency: 'USD', minimumFractionDigits: digits, maximumFractionDigits: digits });
};

export function fmtDate(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : formatDate(d);
}

export const shortSha = (sha: string) => sha.slice(0, 8);
