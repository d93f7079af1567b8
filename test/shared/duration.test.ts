import assert from 'node:assert/strict';
import { parseDuration } from '../../src/shared/duration.ts';

describe('durations', () => {
  const good: Array<[string, number]> = [['500', 500], ['500ms', 500], ['10s', 10_000], ['2m', 120_000], ['1h', 3_600_000], ['1m30s', 90_000], ['1.5s', 1500]];
  for (const [text, ms] of good) it(`${text} = ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  for (const text of ['', 's', '10 seconds', '10x', '-5s', '1m junk']) {
    it(`rejects "${text}"`, () => assert.throws(() => parseDuration(text, '--kill-grace'), /--kill-grace must look like/));
  }
});
