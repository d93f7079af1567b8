// Cross-check of the cron search against brute force around real DST changes in several zones (a 1-hour
// change, Lord Howe's 30-minute one, Santiago's at midnight). The brute force knows nothing of the search:
// it steps through every minute as an instant and asks cron-parser whether the zone's clock matches, and
// applies the documented rules directly — a repeated time runs once (first pass) unless the hour field is
// every hour; a time in a gap runs at the same time plus the gap. Then nextOccurrence and latestOccurrence,
// asked from many points, must agree with it.
import assert from 'node:assert/strict';
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import { latestOccurrence, nextOccurrence, parseSchedule } from '../../../src/batch/schedule/index.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const offsetOf = (zone: string, instant: number): number => DateTime.fromMillis(instant, { zone }).offset * MINUTE;

/** Instants in 2026 just before which the zone's offset changes. */
function offsetChanges(zone: string): number[] {
  const changes: number[] = [];
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += HOUR) {
    if (offsetOf(zone, t) === offsetOf(zone, t + HOUR)) continue;
    let minute = t;
    while (offsetOf(zone, minute) === offsetOf(zone, t)) minute += MINUTE;
    changes.push(minute);
  }
  return changes;
}

/** Every occurrence in [from, to), by brute force over minutes; `changes` from offsetChanges. */
function bruteForce(expression: string, zone: string, changes: number[], from: number, to: number): number[] {
  const inZone = CronExpressionParser.parse(expression, { tz: zone });
  const onWall = CronExpressionParser.parse(expression, { tz: 'UTC' });
  const everyHour = inZone.fields.hour.values.length === 24;
  const found = new Set<number>();
  for (let t = from; t < to; t += MINUTE) {
    if (!inZone.includesDate(new Date(t))) continue;
    const wall = t + offsetOf(zone, t);
    // A second pass: the same wall-clock time was shown earlier, with the larger offset before a fall back.
    const earlierOffset = offsetOf(zone, t - 3 * HOUR);
    const secondPass = earlierOffset > offsetOf(zone, t) && offsetOf(zone, wall - earlierOffset) === earlierOffset && wall - earlierOffset < t;
    if (!secondPass || everyHour) found.add(t);
  }
  for (const change of changes) {
    const [before, after] = [offsetOf(zone, change - 1), offsetOf(zone, change)];
    if (after <= before || change < from || change >= to) continue;
    // The gap: wall-clock times [change + before, change + after) never shown; each runs at wall − before.
    for (let wall = change + before; wall < change + after; wall += MINUTE) {
      if (onWall.includesDate(new Date(wall))) found.add(wall - before);
    }
  }
  return [...found].sort((a, b) => a - b);
}

const EXPRESSIONS = [
  '30 1 * * *', '30 2 * * *', '45 1,2 * * *', '*/20 1-2 * * *', '0,50 2,3 * * *', '15,45 * * * *', '*/7 * * * *', '30 23 * * *',
];
const ZONES = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/Santiago'];

describe('cron DST cross-check against brute force', function () {
  this.timeout(120_000);
  for (const zone of ZONES) {
    it(`${zone}: next and latest agree with brute force around each 2026 change`, () => {
      const changes = offsetChanges(zone);
      assert.equal(changes.length, 2, `expected two offset changes in 2026 in ${zone}`);
      for (const change of changes) {
        const [from, to] = [change - 1.5 * DAY, change + 1.5 * DAY];
        for (const expression of EXPRESSIONS) {
          const schedule = parseSchedule({ cron: expression, scheduleTimeZone: zone });
          const truth = bruteForce(expression, zone, changes, from, to);
          for (let q = change - 12 * HOUR - 7_000; q < change + 12 * HOUR; q += 9 * MINUTE + 7_000) {
            const label = `${expression} in ${zone} asked at ${new Date(q).toISOString()}`;
            const expectedNext = truth.find((t) => t > q);
            const expectedLatest = truth.findLast((t) => t <= q);
            assert.equal(nextOccurrence(schedule, new Date(q))?.at.getTime(), expectedNext, `next: ${label}`);
            assert.equal(latestOccurrence(schedule, new Date(q))?.at.getTime(), expectedLatest, `latest: ${label}`);
          }
        }
      }
    });
  }
});
