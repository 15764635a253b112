import type { SoakReport } from './traffic.js';

const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** The soak's result as Markdown tables (pasted as they are into docs/performance.md). */
export function formatReport(r: SoakReport): string {
  const lines = [
    `duration ${(r.durationMs / 60_000).toFixed(1)} min · ${r.totalOps} operations · ${r.opsPerSecond.toFixed(1)} ops/s · 5xx: ${r.serverErrors} · other errors: ${r.otherErrors} · hung: ${r.hung}`,
    `runs: ${r.runs.started} started, ${r.runs.succeeded} succeeded${Object.keys(r.runs.other).length ? `, other: ${JSON.stringify(r.runs.other)}` : ''}`,
    '',
    '| operation | count | p50 ms | p99 ms | max ms | 5xx | other errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...r.ops.map((o) => `| ${o.kind} | ${o.count} | ${ms(o.p50)} | ${ms(o.p99)} | ${ms(o.max)} | ${o.serverErrors} | ${o.otherErrors}${o.sampleError ? ` (${o.sampleError.replace(/\|/g, '/')})` : ''} |`),
    '',
    `RSS (MiB): ${rssTimeline(r.rss)}`,
    `RSS after warm-up (from t+${r.rssVerdict.warmupS}s): first quarter ${r.rssVerdict.firstQuarterMiB} MiB, last quarter ${r.rssVerdict.lastQuarterMiB} MiB (${r.rssVerdict.changePct >= 0 ? '+' : ''}${r.rssVerdict.changePct}%)`,
  ];
  return lines.join('\n');
}

/** About ten evenly spaced samples: "t+0s 80 · t+60s 95 · …". */
function rssTimeline(rss: Array<[number, number]>): string {
  if (!rss.length) return 'no samples';
  const step = Math.max(1, Math.floor(rss.length / 10));
  const picked = rss.filter((_, i) => i % step === 0 || i === rss.length - 1);
  return picked.map(([t, v]) => `t+${t}s ${v.toFixed(0)}`).join(' · ');
}
