import type { AttemptResult } from './attempt.js';
import type { Spec } from './suite.js';

/** The JSON report (`--out`); `--compare` reads two of these. */
export interface EvalReport {
  version: 1;
  suite: string;
  provider: string;
  model: string;
  baseUrl: string | null;
  startedAt: string;
  finishedAt: string;
  repeat: number;
  specs: SpecSummary[];
  attempts: AttemptResult[];
  totals: Totals;
}

export interface SpecSummary {
  id: string;
  title: string;
  difficulty: Spec['difficulty'];
  kind: Spec['kind'];
  attempts: number;
  passes: number;
}

export interface Totals {
  specs: number;
  attempts: number;
  /** Attempts that were run (not skipped). */
  judged: number;
  passedAttempts: number;
  /** Specs with at least one passing attempt. */
  passedSpecs: number;
  /** The mean over specs of passes / attempts. */
  passAt1: number;
  /** pass@k for k = repeat (unbiased estimator; equals pass@1 when repeat is 1). */
  passAtK: { k: number; value: number };
  tokens: { input: number; output: number; cacheRead: number | null; cacheWrite: number | null };
  /** null when a model had no known price. */
  costUsd: number | null;
  /** Medians over passing attempts (null with none). */
  medianCostPerPassUsd: number | null;
  medianSecondsPerPass: number | null;
  wallSeconds: number;
}

export function buildReport(meta: Omit<EvalReport, 'version' | 'specs' | 'attempts' | 'totals'>, specs: readonly Spec[], attempts: AttemptResult[]): EvalReport {
  const judgedSpecs = specs.filter((s) => attempts.some((a) => a.specId === s.id && a.outcome !== 'skipped'));
  const summaries: SpecSummary[] = specs.map((s) => {
    const mine = attempts.filter((a) => a.specId === s.id && a.outcome !== 'skipped');
    return { id: s.id, title: s.title, difficulty: s.difficulty, kind: s.kind, attempts: mine.length, passes: mine.filter((a) => a.outcome === 'passed').length };
  });
  const judged = attempts.filter((a) => a.outcome !== 'skipped');
  const passing = judged.filter((a) => a.outcome === 'passed');
  const counted = summaries.filter((s) => s.attempts > 0);
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const sumOrNull = (xs: (number | null)[]): number | null => (xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + b!, 0));
  const passCosts = passing.map((a) => a.costUsd);
  return {
    version: 1,
    ...meta,
    specs: summaries,
    attempts,
    totals: {
      specs: judgedSpecs.length,
      attempts: attempts.length,
      judged: judged.length,
      passedAttempts: passing.length,
      passedSpecs: counted.filter((s) => s.passes > 0).length,
      passAt1: mean(counted.map((s) => s.passes / s.attempts)),
      passAtK: { k: meta.repeat, value: mean(counted.map((s) => passAtK(s.attempts, s.passes, meta.repeat))) },
      tokens: {
        input: judged.reduce((n, a) => n + a.tokens.input, 0),
        output: judged.reduce((n, a) => n + a.tokens.output, 0),
        cacheRead: sumOrNull(judged.map((a) => a.tokens.cacheRead)),
        cacheWrite: sumOrNull(judged.map((a) => a.tokens.cacheWrite)),
      },
      costUsd: sumOrNull(judged.map((a) => a.costUsd)),
      medianCostPerPassUsd: passCosts.some((c) => c === null) ? null : median(passCosts as number[]),
      medianSecondsPerPass: median(passing.map((a) => a.wallSeconds)),
      wallSeconds: (Date.parse(meta.finishedAt) - Date.parse(meta.startedAt)) / 1000,
    },
  };
}

/** The chance that at least one of k attempts passes, from n attempts with c passes: 1 - C(n-c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  if (n === 0) return 0;
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const usd = (x: number | null): string => (x === null ? '—' : `$${x.toFixed(x < 0.1 ? 4 : 2)}`);
const secs = (x: number | null): string => (x === null ? '—' : `${x.toFixed(0)}s`);
const num = (x: number | null): string => (x === null ? '—' : String(x));
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report as Markdown: totals, a row per attempt, then the failing acceptance output. */
export function reportMarkdown(r: EvalReport): string {
  const t = r.totals;
  const lines = [
    `# Samokoder eval: ${r.provider} ${r.model} on suite ${r.suite}`,
    '',
    `${r.startedAt} → ${r.finishedAt}${r.baseUrl ? ` · ${r.baseUrl}` : ''} · ${r.repeat} attempt(s) per spec`,
    '',
    '| pass@1 | ' + (r.repeat > 1 ? `pass@${t.passAtK.k} | ` : '') + 'passed | tokens in | tokens out | cached (read) | cost | median cost / pass | median time / pass |',
    '|---|' + (r.repeat > 1 ? '---|' : '') + '---|---|---|---|---|---|---|',
    `| ${pct(t.passAt1)} | ` + (r.repeat > 1 ? `${pct(t.passAtK.value)} | ` : '') + `${t.passedAttempts}/${t.judged} attempts, ${t.passedSpecs}/${t.specs} specs | ${t.tokens.input} | ${t.tokens.output} | ${num(t.tokens.cacheRead)} | ${usd(t.costUsd)} | ${usd(t.medianCostPerPassUsd)} | ${secs(t.medianSecondsPerPass)} |`,
    '',
    '| spec | # | result | acceptance | tokens in / out (cached) | cost | time | fix rounds | stop reason |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const a of r.attempts) {
    const acc = a.acceptance ? `${a.acceptance.tests.pass} passed, ${a.acceptance.tests.fail} failed${a.acceptance.browser ? `; browser ${a.acceptance.browser.passed ? 'ok' : 'failed'}` : ''}` : '—';
    const result = a.outcome === 'passed' ? '✅ pass' : a.outcome === 'failed' ? '❌ fail' : a.outcome === 'skipped' ? '⏭ skipped' : '⚠️ error';
    lines.push(`| ${a.specId} | ${a.attempt} | ${result} | ${acc} | ${a.tokens.input} / ${a.tokens.output} (${num(a.tokens.cacheRead)}) | ${usd(a.costUsd)} | ${secs(a.wallSeconds)} | ${a.fixRounds} | ${cell(a.stopReason)} |`);
  }
  const failures = r.attempts.filter((a) => a.outcome === 'failed' || a.outcome === 'error');
  if (failures.length) lines.push('', '## Failures');
  for (const a of failures) {
    lines.push('', `### ${a.specId} #${a.attempt}`, '');
    if (a.error) lines.push(`Error: ${a.error}`);
    if (a.acceptance?.failing.length) lines.push(`Failing acceptance tests: ${a.acceptance.failing.join('; ')}`);
    if (a.acceptance?.browser && !a.acceptance.browser.passed) lines.push(`Browser: ${[...a.acceptance.browser.log, ...a.acceptance.browser.problems].join('; ')}`);
    if (a.acceptance && !a.acceptance.passed) lines.push('', '```', a.acceptance.output.trim(), '```');
  }
  return lines.join('\n') + '\n';
}

/** Two reports side by side: totals with their change, then each spec's pass rate in each. */
export function compareMarkdown(a: EvalReport, b: EvalReport): string {
  const label = (r: EvalReport): string => `${r.provider} ${r.model}`;
  const delta = (x: number | null, y: number | null, f: (v: number) => string): string => (x === null || y === null ? '—' : `${y - x >= 0 ? '+' : '−'}${f(Math.abs(y - x))}`);
  const ta = a.totals;
  const tb = b.totals;
  const lines = [
    `# Samokoder eval: ${label(a)} (A, ${a.startedAt}) vs ${label(b)} (B, ${b.startedAt})`,
    '',
    '| | A | B | B − A |',
    '|---|---|---|---|',
    `| pass@1 | ${pct(ta.passAt1)} | ${pct(tb.passAt1)} | ${delta(ta.passAt1, tb.passAt1, pct)} |`,
    `| passed specs | ${ta.passedSpecs}/${ta.specs} | ${tb.passedSpecs}/${tb.specs} | ${delta(ta.passedSpecs, tb.passedSpecs, String)} |`,
    `| tokens in | ${ta.tokens.input} | ${tb.tokens.input} | ${delta(ta.tokens.input, tb.tokens.input, String)} |`,
    `| tokens out | ${ta.tokens.output} | ${tb.tokens.output} | ${delta(ta.tokens.output, tb.tokens.output, String)} |`,
    `| cost | ${usd(ta.costUsd)} | ${usd(tb.costUsd)} | ${delta(ta.costUsd, tb.costUsd, (v) => usd(v))} |`,
    `| median cost / pass | ${usd(ta.medianCostPerPassUsd)} | ${usd(tb.medianCostPerPassUsd)} | ${delta(ta.medianCostPerPassUsd, tb.medianCostPerPassUsd, (v) => usd(v))} |`,
    `| median time / pass | ${secs(ta.medianSecondsPerPass)} | ${secs(tb.medianSecondsPerPass)} | ${delta(ta.medianSecondsPerPass, tb.medianSecondsPerPass, (v) => secs(v))} |`,
    '',
    '| spec | A | B | |',
    '|---|---|---|---|',
  ];
  const ids = [...new Set([...a.specs.map((s) => s.id), ...b.specs.map((s) => s.id)])];
  for (const id of ids) {
    const sa = a.specs.find((s) => s.id === id);
    const sb = b.specs.find((s) => s.id === id);
    const rate = (s: SpecSummary | undefined): string => (!s || s.attempts === 0 ? '—' : `${s.passes}/${s.attempts}`);
    const ra = sa?.attempts ? sa.passes / sa.attempts : undefined;
    const rb = sb?.attempts ? sb.passes / sb.attempts : undefined;
    const change = ra === undefined || rb === undefined ? '' : rb > ra ? 'better' : rb < ra ? 'worse' : '';
    lines.push(`| ${id} | ${rate(sa)} | ${rate(sb)} | ${change} |`);
  }
  return lines.join('\n') + '\n';
}
