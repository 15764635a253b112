import { countTests } from '../../agents/pipeline/test-count.js';

// Summaries as the runners print them (the end of the output, where verify reads).
describe('countTests reads the common runners’ summaries', () => {
  test.each([
    ['node:test, TAP reporter', '# Subtest: adds\nok 1 - adds\n1..1\n# tests 1\n# suites 0\n# pass 1\n# fail 0\n', 1],
    ['node:test, spec reporter', '✔ adds (0.5ms)\n✔ subtracts (0.1ms)\nℹ tests 2\nℹ suites 0\nℹ pass 2\nℹ fail 0\n', 2],
    ['node:test with colours', '\x1b[34mℹ tests 3\x1b[39m\n\x1b[34mℹ pass 3\x1b[39m\n', 3],
    ['Jest', 'Test Suites: 1 failed, 1 passed, 2 total\nTests:       1 failed, 4 passed, 5 total\nSnapshots:   0 total\nTime:        1.2 s\n', 5],
    ['Jest, none', 'No tests found, exiting with code 0\n', undefined],
    ['Vitest', ' Test Files  2 passed (2)\n      Tests  1 failed | 6 passed (7)\n   Start at  10:00:00\n', 7],
    ['Mocha', '  sum\n    ✓ adds\n\n  3 passing (4ms)\n  1 pending\n  2 failing\n', 6],
    ['Mocha, none', '\n  0 passing (1ms)\n\n', 0],
    ['pytest', 'test_sum.py ..F.                                   [100%]\n=========================== 1 failed, 3 passed in 0.05s ===========================\n', 4],
    ['pytest, none', '============================ no tests ran in 0.01s =============================\n', 0],
    ['cargo test', 'running 2 tests\ntest a ... ok\ntest b ... ok\n\ntest result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n', 2],
    ['any TAP producer', 'TAP version 13\nok 1 one\nok 2 two\n1..2\n', 2],
    ['two node:test invocations chained', '# tests 2\n# pass 2\n# tests 3\n# pass 3\n', 5],
    ['echo "no tests yet"', '\n> sum-app@1.0.0 test\n> echo "no tests yet"\n\nno tests yet\n', undefined],
    ['an empty output', '', undefined],
  ])('%s', (_name, output, expected) => {
    expect(countTests(output)).toBe(expected);
  });
});
