// Cron schedules: accept/reject tables and occurrence tables across both 2026 DST changes in New York
// (spring forward Sunday March 8 at 02:00 EST → 03:00 EDT; fall back Sunday November 1 at 02:00 EDT →
// 01:00 EST, so 01:00-02:00 happens twice). Expected instants carry the offset of that moment.
import assert from 'node:assert/strict';
import { Invalid } from '../../../src/shared/errors.ts';
import {
  latestOccurrence, nextOccurrence, occurrencesBetween, parseSchedule, type Schedule,
} from '../../../src/batch/schedule/index.ts';

const NEW_YORK = 'America/New_York';

function cron(expression: string, scheduleTimeZone?: string): Schedule {
  return parseSchedule({ cron: expression, scheduleTimeZone });
}

const instant = (text: string): string => new Date(text).toISOString();

function between(schedule: Schedule, from: string, to: string, limit = 100): string[] {
  return occurrencesBetween(schedule, new Date(from), new Date(to), limit).map((o) => o.at.toISOString());
}

function nextAfter(schedule: Schedule, after: string): string | undefined {
  return nextOccurrence(schedule, new Date(after))?.at.toISOString();
}

describe('cron: expressions accepted', () => {
  const accepted = [
    '0 9 * * 1-5', '*/15 * * * *', '0 0 L * *', '0 0 * * MON', '0 0 * * 1#1', '0 0 1 JAN *', '5,35 */2 * * *',
    '30 0 2 * * *', '*/10 * * * * *', '0 0 29 2 *', '@daily', '@hourly', '@weekly', '@monthly', '@yearly', '0  9  *  *  *',
  ];
  for (const expression of accepted) {
    it(JSON.stringify(expression), () => {
      const parsed = cron(expression);
      assert.deepEqual(parsed, { kind: 'cron', expression, zone: 'UTC', text: expression });
    });
  }

  it('takes the zone from scheduleTimeZone', () => {
    assert.equal(cron('0 9 * * *', NEW_YORK).zone, NEW_YORK);
  });
});

describe('cron: expressions refused', () => {
  const refused: Array<[string, RegExp]> = [
    ['', /has 0 fields; write 5 \(minute hour day-of-month month day-of-week\) or 6 \(seconds first\)/],
    ['* * * *', /has 4 fields/],
    ['* * * * * * *', /has 7 fields/],
    [' 0 9 * * *', /has spaces around it/],
    ['0 9 * * * ', /has spaces around it/],
    ['60 * * * *', /invalid minute field "60": .*0-59/],
    ['* 24 * * *', /invalid hour field "24": .*0-23/],
    ['* * 32 * *', /invalid day-of-month field "32"/],
    ['* * 0 * *', /invalid day-of-month field "0"/],
    ['* * * 13 *', /invalid month field "13"/],
    ['* * * * 8', /invalid day-of-week field "8"/],
    ['61 * * * * *', /invalid second field "61"/],
    ['a * * * *', /invalid minute field "a"/],
    ['*/0 * * * *', /invalid minute field "\*\/0"/],
    ['5-1 * * * *', /invalid minute field "5-1"/],
    ['0 0 * * 1#6', /invalid day-of-week field "1#6"/],
    ['H * * * *', /uses "H" in the minute field; hashed \(random\) values are not supported/],
    ['0 H(0-5) * * *', /uses "H" in the hour field/],
    ['H/5 * * * * *', /uses "H" in the second field/],
    ['0 0 30 2 *', /never matches a date/],
    ['0 0 31 4,6 *', /never matches a date/],
    ['@reboot', /is not a known macro; use one of @yearly/],
    ['@daily ', /has spaces around it/],
  ];
  for (const [expression, message] of refused) {
    it(JSON.stringify(expression), () => {
      assert.throws(() => cron(expression), (error: unknown) => {
        assert.ok(error instanceof Invalid, `expected Invalid, got ${String(error)}`);
        assert.match(error.message, /^cron: /);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('cron: occurrences', () => {
  it('reads the expression in UTC when no zone is given', () => {
    // 2026-01-02 is a Friday; the next weekday 09:00 after Friday 10:00 is Monday.
    assert.equal(nextAfter(cron('0 9 * * 1-5'), '2026-01-02T10:00:00Z'), instant('2026-01-05T09:00:00Z'));
  });

  it('is strictly after, and index is null', () => {
    const schedule = cron('0 9 * * *', NEW_YORK);
    assert.deepEqual(nextOccurrence(schedule, new Date('2026-01-05T09:00:00-05:00')), { at: new Date('2026-01-06T09:00:00-05:00'), index: null });
  });

  it('a daily 09:00 job stays at 09:00 local across both changes', () => {
    const schedule = cron('0 9 * * *', NEW_YORK);
    assert.deepEqual(between(schedule, '2026-03-07T00:00:00-05:00', '2026-03-09T23:00:00-04:00'),
      ['2026-03-07T09:00:00-05:00', '2026-03-08T09:00:00-04:00', '2026-03-09T09:00:00-04:00'].map(instant));
    assert.deepEqual(between(schedule, '2026-10-31T00:00:00-04:00', '2026-11-02T23:00:00-05:00'),
      ['2026-10-31T09:00:00-04:00', '2026-11-01T09:00:00-05:00', '2026-11-02T09:00:00-05:00'].map(instant));
  });

  describe('spring forward (02:00-03:00 does not exist on 2026-03-08)', () => {
    const daily0230 = cron('30 2 * * *', NEW_YORK);

    it('a daily 02:30 job runs at 03:30 EDT that day, moved forward by the gap', () => {
      assert.deepEqual(between(daily0230, '2026-03-06T12:00:00Z', '2026-03-10T12:00:00Z'),
        ['2026-03-07T02:30:00-05:00', '2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00', '2026-03-10T02:30:00-04:00'].map(instant));
    });

    it('whatever time it is asked from (cron-parser 5.10 alone, asked from 03:00 EDT, skips to March 9)', () => {
      assert.equal(nextAfter(daily0230, '2026-03-08T03:00:00-04:00'), instant('2026-03-08T03:30:00-04:00'));
      assert.equal(nextAfter(daily0230, '2026-03-08T03:29:59-04:00'), instant('2026-03-08T03:30:00-04:00'));
      assert.equal(nextAfter(daily0230, '2026-03-08T03:30:00-04:00'), instant('2026-03-09T02:30:00-04:00'));
    });

    it('times in the gap that land on one instant run once', () => {
      assert.deepEqual(between(cron('0 2,3 * * *', NEW_YORK), '2026-03-08T00:00:00-05:00', '2026-03-09T12:00:00-04:00'),
        ['2026-03-08T03:00:00-04:00', '2026-03-09T02:00:00-04:00', '2026-03-09T03:00:00-04:00'].map(instant));
    });

    it('every 15 minutes of hour 2 runs at 03:00-03:45 EDT', () => {
      assert.deepEqual(between(cron('*/15 2 * * *', NEW_YORK), '2026-03-08T00:00:00-05:00', '2026-03-09T02:00:00-04:00'),
        ['2026-03-08T03:00:00-04:00', '2026-03-08T03:15:00-04:00', '2026-03-08T03:30:00-04:00', '2026-03-08T03:45:00-04:00', '2026-03-09T02:00:00-04:00'].map(instant));
    });

    it('with seconds: 02:00:30 runs at 03:00:30 EDT', () => {
      assert.equal(nextAfter(cron('30 0 2 * * *', NEW_YORK), '2026-03-08T00:00:00-05:00'), instant('2026-03-08T03:00:30-04:00'));
    });

    it('an hourly job runs every elapsed hour: 01:00 EST, then 03:00 EDT', () => {
      assert.deepEqual(between(cron('0 * * * *', NEW_YORK), '2026-03-08T00:00:00-05:00', '2026-03-08T05:00:00-04:00'),
        ['2026-03-08T01:00:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T04:00:00-04:00', '2026-03-08T05:00:00-04:00'].map(instant));
    });
  });

  describe('fall back (01:00-02:00 happens twice on 2026-11-01)', () => {
    const daily0130 = cron('30 1 * * *', NEW_YORK);

    it('a daily 01:30 job runs once, at the first 01:30 (EDT)', () => {
      assert.deepEqual(between(daily0130, '2026-10-30T12:00:00Z', '2026-11-03T12:00:00Z'),
        ['2026-10-31T01:30:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00', '2026-11-03T01:30:00-05:00'].map(instant));
    });

    it('also when asked from between the two 01:30s (cron-parser 5.10 alone returns the second one)', () => {
      assert.equal(nextAfter(daily0130, '2026-11-01T01:00:00-05:00'), instant('2026-11-02T01:30:00-05:00'));
      assert.equal(nextAfter(daily0130, '2026-11-01T01:29:59-05:00'), instant('2026-11-02T01:30:00-05:00'));
    });

    it('a job pinned to hours 1-2 runs at 01:00 once and 02:00 once', () => {
      assert.deepEqual(between(cron('0 1-2 * * *', NEW_YORK), '2026-11-01T00:00:00-04:00', '2026-11-01T12:00:00-05:00'),
        ['2026-11-01T01:00:00-04:00', '2026-11-01T02:00:00-05:00'].map(instant));
    });

    it('an hourly job runs every elapsed hour: 01:00 EDT and 01:00 EST', () => {
      assert.deepEqual(between(cron('0 * * * *', NEW_YORK), '2026-11-01T00:00:00-04:00', '2026-11-01T03:00:00-05:00'),
        ['2026-11-01T01:00:00-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T02:00:00-05:00', '2026-11-01T03:00:00-05:00'].map(instant));
    });

    it('a 30-minute job runs in both passes, in the order of time', () => {
      const schedule = cron('*/30 * * * *', NEW_YORK);
      assert.deepEqual(between(schedule, '2026-11-01T00:30:00-04:00', '2026-11-01T02:00:00-05:00'),
        ['2026-11-01T01:00:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-01T01:00:00-05:00', '2026-11-01T01:30:00-05:00', '2026-11-01T02:00:00-05:00'].map(instant));
      // Asked from 01:45 EDT, the next is 01:00 EST, which is earlier on the wall clock.
      assert.equal(nextAfter(schedule, '2026-11-01T01:45:00-04:00'), instant('2026-11-01T01:00:00-05:00'));
    });

    it('latestOccurrence looks back across the repeat too', () => {
      const schedule = cron('*/30 * * * *', NEW_YORK);
      assert.deepEqual(latestOccurrence(schedule, new Date('2026-11-01T01:10:00-05:00')), { at: new Date('2026-11-01T01:00:00-05:00'), index: null });
      assert.deepEqual(latestOccurrence(schedule, new Date('2026-11-01T01:59:00-04:00')), { at: new Date('2026-11-01T01:30:00-04:00'), index: null });
      assert.deepEqual(latestOccurrence(daily0130, new Date('2026-11-01T01:59:00-05:00')), { at: new Date('2026-11-01T01:30:00-04:00'), index: null });
    });

    it('a per-second job stays exact and quick next to the repeat', () => {
      const schedule = cron('* * * * * *', NEW_YORK);
      const began = performance.now();
      assert.equal(nextAfter(schedule, '2026-11-01T01:30:00-04:00'), instant('2026-11-01T01:30:01-04:00'));
      assert.equal(nextAfter(schedule, '2026-11-01T01:59:59-04:00'), instant('2026-11-01T01:00:00-05:00'));
      assert.ok(performance.now() - began < 5000);
    });
  });

  it('Europe/London: a daily 01:30 job runs at 02:30 BST on 2026-03-29 (01:00-02:00 does not exist)', () => {
    assert.deepEqual(between(cron('30 1 * * *', 'Europe/London'), '2026-03-28T00:00:00Z', '2026-03-30T12:00:00+01:00'),
      ['2026-03-28T01:30:00Z', '2026-03-29T02:30:00+01:00', '2026-03-30T01:30:00+01:00'].map(instant));
  });

  it('February 29 only: the next one is in the next leap year', () => {
    assert.equal(nextAfter(cron('0 0 29 2 *'), '2026-03-01T00:00:00Z'), instant('2028-02-29T00:00:00Z'));
  });

  it('latestOccurrence includes the time asked', () => {
    const schedule = cron('0 9 * * *');
    assert.equal(latestOccurrence(schedule, new Date('2026-01-05T09:00:00Z'))?.at.toISOString(), instant('2026-01-05T09:00:00Z'));
    assert.equal(latestOccurrence(schedule, new Date('2026-01-05T08:59:59Z'))?.at.toISOString(), instant('2026-01-04T09:00:00Z'));
  });

  it('occurrencesBetween stops at the limit', () => {
    assert.deepEqual(between(cron('*/10 * * * *'), '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 3),
      ['2026-01-01T00:10:00Z', '2026-01-01T00:20:00Z', '2026-01-01T00:30:00Z'].map(instant));
  });
});
