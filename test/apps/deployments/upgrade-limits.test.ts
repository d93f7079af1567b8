// The bounds of a rolling replacement: Marathon's computeRestartStrategy arithmetic (TaskReplaceActor.scala).
import assert from 'node:assert/strict';
import { upgradeLimits } from '../../../src/apps/deployments/index.ts';

describe('apps: upgrade limits (Marathon computeRestartStrategy)', () => {
  // [N, minimumHealthCapacity, maximumOverCapacity, minHealthy, maxCapacity, why]
  const table: Array<[number, number, number, number, number, string]> = [
    [5, 0.5, 0, 3, 5, 'ceil(2.5) = 3, floor(5) = 5'],
    [3, 0.5, 1, 2, 6, 'ceil(1.5) = 2, floor(6) = 6'],
    [3, 0.5, 0, 2, 3, 'Marathon "without over-capacity"'],
    [3, 1, 0.7, 3, 5, 'floor(5.1) = 5: Marathon "2/3 over-capacity"'],
    [3, 1, 0, 3, 4, 'min == max: one over capacity (Marathon "minimal over-capacity")'],
    [3, 1, 0.3, 3, 4, 'floor(3.9) = 3 == min: one over capacity (Marathon "downscale with 1 over-capacity")'],
    [1, 0.5, 0.5, 1, 2, 'ceil(0.5) = 1 == floor(1.5) = 1: one over capacity'],
    [4, 0, 0, 0, 4, 'm=0: everything may go at once'],
    [4, 1, 1, 4, 8, 'm=1, o=1: all new may start at once'],
    [25, 0.28, 0, 7, 25, '25 × 0.28 is 7 (doubles: 7.000000000000001, Marathon 8)'],
    [25, 0.16, 0.16, 4, 29, '25 × 1.16 is 29 (doubles: 28.999999999999996, Marathon 28)'],
    [0, 1, 0, 0, 0, 'no instances: nothing to bound (a scale to 0 is not a replacement in a plan)'],
  ];
  for (const [n, m, o, minHealthy, maxCapacity, why] of table) {
    it(`N=${n}, m=${m}, o=${o}: at least ${minHealthy} healthy, at most ${maxCapacity} (${why})`, () => {
      assert.deepEqual(upgradeLimits(n, { minimumHealthCapacity: m, maximumOverCapacity: o }), { minHealthy, maxCapacity });
    });
  }
});
