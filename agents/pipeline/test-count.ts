/**
 * How many tests a test command ran, read from the summary lines the common runners print.
 * Verify uses it so that a command that exits 0 without running anything (`echo "no tests yet"`,
 * an empty test folder) cannot pass. Each runner prints one summary per invocation; a command
 * that chains several (`npm test && npm run e2e`) gets the sum.
 *
 * undefined: no runner's summary was found, so nothing says a test ran.
 */
export function countTests(output: string): number | undefined {
  // Colour codes would split the numbers from their words.
  const text = output.replace(ANSI_COLOUR, '');
  for (const read of RUNNERS) {
    const counts = read(text);
    if (counts.length > 0) return counts.reduce((a, b) => a + b, 0);
  }
  return undefined;
}

// eslint-disable-next-line no-control-regex -- ESC is exactly what a colour code starts with
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** Each reader returns one count per summary it finds (empty: not this runner's output). */
type Reader = (text: string) => number[];

const all = (text: string, re: RegExp): RegExpMatchArray[] => [...text.matchAll(re)];
const num = (s: string | undefined): number => (s === undefined ? 0 : Number(s));

/** Jest: `Tests:       1 failed, 2 passed, 3 total`. */
const jest: Reader = (t) => all(t, /^\s*Tests:\s+.*?(\d+) total\s*$/gm).map((m) => num(m[1]));

/** Vitest: ` Tests  1 failed | 2 passed (3)`; `no tests` when none ran. */
const vitest: Reader = (t) => all(t, /^\s*Tests\s+.*?\((\d+)\)\s*$/gm).map((m) => num(m[1]));

/** node:test, TAP reporter `# tests 3` or spec reporter `ℹ tests 3`. */
const nodeTest: Reader = (t) => all(t, /^(?:#|ℹ)\s+tests\s+(\d+)\s*$/gm).map((m) => num(m[1]));

/** Mocha: `  2 passing (5ms)`, then `1 pending` and `1 failing` when there are any. */
const mocha: Reader = (t) => {
  if (!/^\s*\d+ passing \(/m.test(t)) return [];
  return all(t, /^\s*(\d+) (?:passing \(|pending\s*$|failing\s*$)/gm).map((m) => num(m[1]));
};

/** pytest's last line: `=== 1 failed, 2 passed, 1 skipped in 0.12s ===`, or `no tests ran in 0.01s`. */
const pytest: Reader = (t) =>
  all(t, /^=+ (.*?) in [\d.]+s(?: \([^)]*\))? =+\s*$/gm).map((m) =>
    [...m[1]!.matchAll(/(\d+) (?:passed|failed|errors?|skipped|xfailed|xpassed)/g)].reduce((s, x) => s + num(x[1]), 0),
  );

/** cargo test: `test result: ok. 3 passed; 0 failed; 0 ignored; …`. */
const cargo: Reader = (t) => all(t, /^test result: \w+\. (\d+) passed; (\d+) failed/gm).map((m) => num(m[1]) + num(m[2]));

/** Any other TAP producer: its plan line `1..N`. */
const tap: Reader = (t) => all(t, /^1\.\.(\d+)\s*$/gm).map((m) => num(m[1]));

/** The first reader that recognises the output decides: a runner may print lines another would also match (node:test prints a TAP plan too). */
const RUNNERS: readonly Reader[] = [jest, vitest, nodeTest, mocha, pytest, cargo, tap];

/** The runners whose output countTests reads, for messages that tell the model what to use. */
export const COUNTED_RUNNERS = 'node:test, Jest, Vitest, Mocha, pytest, cargo test, or any TAP producer';
