import assert from 'node:assert/strict';
import {
  addToRanges,
  countInRanges,
  normalizeRanges,
  rangesContain,
  removeFromRanges,
  takeLowest,
} from '../../../src/cluster/resources/ranges.ts';
import type { Range } from '../../../src/cluster/types.ts';

describe('integer ranges', () => {
  const normalize: Array<[Range[], Range[]]> = [
    [[], []],
    [[[5, 9], [1, 3]], [[1, 3], [5, 9]]],
    [[[5, 9], [1, 3], [4, 4]], [[1, 9]]],
    [[[1, 10], [2, 3]], [[1, 10]]],
  ];
  for (const [input, expected] of normalize) {
    it(`normalizes ${JSON.stringify(input)}`, () => assert.deepEqual(normalizeRanges(input), expected));
  }

  const ports: Range[] = [[10, 12], [20, 20], [30, 39]];
  it('counts and finds values', () => {
    assert.equal(countInRanges(ports), 14);
    for (const v of [10, 12, 20, 30, 39]) assert.ok(rangesContain(ports, v), String(v));
    for (const v of [9, 13, 19, 21, 29, 40]) assert.ok(!rangesContain(ports, v), String(v));
  });

  const take: Array<[number, number[], number[]]> = [
    [0, [], []],
    [2, [], [10, 11]],
    [4, [], [10, 11, 12, 20]],
    [3, [10, 20], [11, 12, 30]],
    [20, [], [10, 11, 12, 20, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]],
  ];
  for (const [count, exclude, expected] of take) {
    it(`takes the ${count} lowest excluding ${JSON.stringify(exclude)}`, () => {
      assert.deepEqual(takeLowest(ports, count, new Set(exclude)), expected);
    });
  }

  const remove: Array<[number[], Range[]]> = [
    [[10], [[11, 12], [20, 20], [30, 39]]],
    [[11], [[10, 10], [12, 12], [20, 20], [30, 39]]],
    [[20, 39], [[10, 12], [30, 38]]],
    [[99], [[10, 12], [20, 20], [30, 39]]],
  ];
  for (const [values, expected] of remove) {
    it(`removes ${JSON.stringify(values)} and adds them back`, () => {
      const removed = removeFromRanges(ports, values);
      assert.deepEqual(removed, expected);
      assert.deepEqual(addToRanges(removed, values.filter((v) => rangesContain(ports, v))), ports);
    });
  }

  it('never mutates its input', () => {
    const input: Range[] = [[1, 5]];
    removeFromRanges(input, [3]);
    addToRanges(input, [7]);
    assert.deepEqual(input, [[1, 5]]);
  });
});
