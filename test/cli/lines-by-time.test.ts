// Merging several logs by time (`gantry apps logs`): a line waits its hold for earlier lines of other
// logs still on their way; held lines go out in the order of their time, a log's own lines in order.
import assert from 'node:assert/strict';
import { LinesByTime, type TimedLine } from '../../src/cli/lines-by-time.ts';

describe('merging lines of several logs by time', () => {
  let now = 0;
  let printed: string[] = [];
  const merger = () => new LinesByTime((line: TimedLine) => printed.push(line.text), 1000, () => now);
  beforeEach(() => {
    now = 10_000;
    printed = [];
  });

  it('prints an earlier line that arrives later before the later one, when it comes within the hold', () => {
    const merged = merger();
    merged.add({ at: 9_500, text: 'b', stream: 'stdout' });
    now += 300;
    merged.add({ at: 9_400, text: 'a', stream: 'stdout' });
    merged.release();
    assert.deepEqual(printed, [], 'nothing before its hold is over');
    now += 700;
    merged.release();
    assert.deepEqual(printed, ['a', 'b'], 'the earlier line goes with the due one, and first');
  });

  it('keeps lines of the same time in their arrival order, and holds a later line still in its hold', () => {
    const merged = merger();
    merged.add({ at: 9_000, text: 'first', stream: 'stdout' });
    merged.add({ at: 9_000, text: 'second', stream: 'stderr' });
    now += 800;
    merged.add({ at: 9_900, text: 'later', stream: 'stdout' });
    now += 200;
    merged.release();
    assert.deepEqual(printed, ['first', 'second']);
    merged.flush();
    assert.deepEqual(printed, ['first', 'second', 'later']);
  });

  it('places a line without a time (an old log) at its arrival', () => {
    const merged = merger();
    merged.add({ at: undefined, text: 'untimed', stream: 'stdout' });
    merged.add({ at: 9_999, text: 'timed', stream: 'stdout' });
    merged.flush();
    assert.deepEqual(printed, ['timed', 'untimed']);
  });
});
