// The report's arithmetic: pass@k (the unbiased estimator) and medians.
import { median, passAtK } from '../../evals/report.js';

test('pass@k', () => {
  expect(passAtK(5, 1, 1)).toBeCloseTo(0.2, 10);
  expect(passAtK(5, 0, 3)).toBe(0);
  expect(passAtK(3, 1, 3)).toBe(1);
  // 1 - C(3,2)/C(5,2) = 1 - 3/10
  expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 10);
  expect(passAtK(0, 0, 1)).toBe(0);
});

test('median', () => {
  expect(median([])).toBeNull();
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});
