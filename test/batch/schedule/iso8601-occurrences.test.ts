// Occurrence tables for ISO 8601 schedules. Expected instants are written with the offset the zone has
// on that day (America/New_York in 2026: EST -05:00 until Sunday March 8 02:00, then EDT -04:00 until
// Sunday November 1 02:00, when 01:00-02:00 happens twice).
import assert from 'node:assert/strict';
import {
  latestOccurrence, nextOccurrence, occurrencesBetween, parseSchedule, type Schedule,
} from '../../../src/batch/schedule/index.ts';

const NEW_YORK = 'America/New_York';

function iso(schedule: string, scheduleTimeZone?: string): Schedule {
  return parseSchedule({ schedule, scheduleTimeZone });
}

const instant = (text: string): string => new Date(text).toISOString();

/** The first `count` occurrences, each found by asking for the next one after the previous. */
function firstOccurrences(schedule: Schedule, count: number): string[] {
  const found: string[] = [];
  let after = new Date(-8.64e15);
  for (let i = 0; i < count; i++) {
    const next = nextOccurrence(schedule, after);
    if (!next) break;
    found.push(next.at.toISOString());
    after = next.at;
  }
  return found;
}

describe('ISO 8601 occurrences', () => {
  const tables: Array<{ name: string; schedule: string; zone?: string; expected: string[] }> = [
    {
      name: 'P1M from January 31 is anchored on the start: month ends, not a drift to the 28th',
      schedule: 'R/2026-01-31T10:00:00Z/P1M',
      expected: ['2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', '2026-03-31T10:00:00Z', '2026-04-30T10:00:00Z', '2026-05-31T10:00:00Z'],
    },
    {
      name: 'P1M from January 31 of a leap year reaches February 29',
      schedule: 'R/2028-01-31T10:00:00Z/P1M',
      expected: ['2028-01-31T10:00:00Z', '2028-02-29T10:00:00Z', '2028-03-31T10:00:00Z'],
    },
    {
      name: 'P1Y from February 29 gives February 28, and February 29 again in the next leap year',
      schedule: 'R/2024-02-29T12:00:00Z/P1Y',
      expected: ['2024-02-29T12:00:00Z', '2025-02-28T12:00:00Z', '2026-02-28T12:00:00Z', '2027-02-28T12:00:00Z', '2028-02-29T12:00:00Z'],
    },
    {
      name: 'a fixed offset written with no zone stays that offset and does its calendar there',
      schedule: 'R/2026-01-31T00:30:00+01:00/P1M',
      expected: ['2026-01-31T00:30:00+01:00', '2026-02-28T00:30:00+01:00', '2026-03-31T00:30:00+01:00'],
    },
    {
      name: 'a fixed offset has no daylight saving: P1D at 09:00-05:00 stays at 14:00 UTC',
      schedule: 'R/2026-03-07T09:00:00-05:00/P1D',
      expected: ['2026-03-07T09:00:00-05:00', '2026-03-08T09:00:00-05:00', '2026-03-09T09:00:00-05:00'],
    },
    {
      name: 'P1D keeps 09:00 local across spring forward (a 23-hour day)',
      schedule: 'R/2026-03-06T09:00:00-05:00/P1D', zone: NEW_YORK,
      expected: ['2026-03-06T09:00:00-05:00', '2026-03-07T09:00:00-05:00', '2026-03-08T09:00:00-04:00', '2026-03-09T09:00:00-04:00'],
    },
    {
      name: 'PT24H is 86,400 s across spring forward: 09:00 becomes 10:00 local',
      schedule: 'R/2026-03-06T09:00:00-05:00/PT24H', zone: NEW_YORK,
      expected: ['2026-03-06T09:00:00-05:00', '2026-03-07T09:00:00-05:00', '2026-03-08T10:00:00-04:00', '2026-03-09T10:00:00-04:00'],
    },
    {
      name: 'P1D keeps 09:00 local across fall back (a 25-hour day)',
      schedule: 'R/2026-10-30T09:00:00-04:00/P1D', zone: NEW_YORK,
      expected: ['2026-10-30T09:00:00-04:00', '2026-10-31T09:00:00-04:00', '2026-11-01T09:00:00-05:00', '2026-11-02T09:00:00-05:00'],
    },
    {
      name: 'PT24H is 86,400 s across fall back: 09:00 becomes 08:00 local',
      schedule: 'R/2026-10-30T09:00:00-04:00/PT24H', zone: NEW_YORK,
      expected: ['2026-10-30T09:00:00-04:00', '2026-10-31T09:00:00-04:00', '2026-11-01T08:00:00-05:00', '2026-11-02T08:00:00-05:00'],
    },
    {
      name: 'P1D at 02:30 runs at 03:30 on the spring-forward day (moved by the gap), 02:30 again after',
      schedule: 'R/2026-03-06T02:30:00/P1D', zone: NEW_YORK,
      expected: ['2026-03-06T02:30:00-05:00', '2026-03-07T02:30:00-05:00', '2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00'],
    },
    {
      name: 'a start in the gap runs moved by the gap, and the days after keep the written 02:30',
      schedule: 'R/2026-03-08T02:30:00/P1D', zone: NEW_YORK,
      expected: ['2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00', '2026-03-10T02:30:00-04:00'],
    },
    {
      name: 'P1D at 01:30 runs once on the fall-back day, at the first 01:30 (EDT)',
      schedule: 'R/2026-10-30T01:30:00/P1D', zone: NEW_YORK,
      expected: ['2026-10-30T01:30:00-04:00', '2026-10-31T01:30:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00'],
    },
    {
      name: 'PT1H counts elapsed hours: 02:xx does not exist on spring forward',
      schedule: 'R/2026-03-08T00:30:00-05:00/PT1H', zone: NEW_YORK,
      expected: ['2026-03-08T00:30:00-05:00', '2026-03-08T01:30:00-05:00', '2026-03-08T03:30:00-04:00', '2026-03-08T04:30:00-04:00'],
    },
    {
      name: 'PT1H counts elapsed hours: 01:30 happens twice on fall back',
      schedule: 'R/2026-11-01T00:30:00-04:00/PT1H', zone: NEW_YORK,
      expected: ['2026-11-01T00:30:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-01T01:30:00-05:00', '2026-11-01T02:30:00-05:00'],
    },
    {
      name: 'P1W is 7 calendar days: same local time across spring forward',
      schedule: 'R/2026-03-01T09:00:00/P1W', zone: NEW_YORK,
      expected: ['2026-03-01T09:00:00-05:00', '2026-03-08T09:00:00-04:00', '2026-03-15T09:00:00-04:00'],
    },
    {
      name: 'P1DT1H: k calendar days, then k elapsed hours',
      schedule: 'R/2026-03-07T09:00:00/P1DT1H', zone: NEW_YORK,
      expected: ['2026-03-07T09:00:00-05:00', '2026-03-08T10:00:00-04:00', '2026-03-09T11:00:00-04:00'],
    },
    {
      name: 'P1M across a DST change keeps the local time of day',
      schedule: 'R/2026-02-15T09:00:00/P1M', zone: NEW_YORK,
      expected: ['2026-02-15T09:00:00-05:00', '2026-03-15T09:00:00-04:00', '2026-04-15T09:00:00-04:00'],
    },
    {
      name: 'fractional seconds',
      schedule: 'R/2026-01-01T00:00:00Z/PT1.5S',
      expected: ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.500Z', '2026-01-01T00:00:03.000Z'],
    },
    {
      name: 'Rn runs n times: R3 gives three occurrences and then none',
      schedule: 'R3/2026-01-01T00:00:00Z/PT1H',
      expected: ['2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z'],
    },
    { name: 'R0 never runs', schedule: 'R0/2026-01-01T00:00:00Z/PT1H', expected: [] },
  ];
  for (const { name, schedule, zone, expected } of tables) {
    it(name, () => {
      const parsed = iso(schedule, zone);
      const found = firstOccurrences(parsed, expected.length + 1);
      assert.deepEqual(found.slice(0, expected.length), expected.map(instant));
      if (/^R\d/.test(schedule)) assert.equal(found.length, expected.length, 'no occurrence after the last repetition');
    });
  }

  it('numbers the occurrences k from 0', () => {
    const schedule = iso('R/2026-01-31T10:00:00Z/P1M');
    assert.deepEqual(nextOccurrence(schedule, new Date('2026-03-01T00:00:00Z')), { at: new Date('2026-03-31T10:00:00Z'), index: 2 });
  });

  it('is strictly after: asking at an occurrence gives the next one', () => {
    const schedule = iso('R/2026-01-01T00:00:00Z/PT1H');
    assert.equal(nextOccurrence(schedule, new Date('2026-01-01T05:00:00Z'))?.at.toISOString(), '2026-01-01T06:00:00.000Z');
    assert.equal(nextOccurrence(schedule, new Date('2026-01-01T04:59:59.999Z'))?.at.toISOString(), '2026-01-01T05:00:00.000Z');
  });

  it('gives the start for any time before it', () => {
    const schedule = iso('R/2030-06-01T00:00:00Z/P1D');
    assert.deepEqual(nextOccurrence(schedule, new Date('2000-01-01T00:00:00Z')), { at: new Date('2030-06-01T00:00:00Z'), index: 0 });
  });

  it('R0 has no occurrence before, at or after its start', () => {
    const schedule = iso('R0/2026-01-01T00:00:00Z/PT1H');
    for (const t of ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']) {
      assert.equal(nextOccurrence(schedule, new Date(t)), null);
      assert.equal(latestOccurrence(schedule, new Date(t)), null);
    }
    assert.deepEqual(occurrencesBetween(schedule, new Date('2025-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'), 10), []);
  });

  it('a PT1S job started ten years ago: the next second, exact, without walking the past', () => {
    const schedule = iso('R/2016-01-01T00:00:00Z/PT1S');
    const began = performance.now();
    let next = nextOccurrence(schedule, new Date('2026-01-01T12:34:56.789Z'));
    for (let i = 0; i < 999; i++) next = nextOccurrence(schedule, new Date('2026-01-01T12:34:56.789Z'));
    const elapsedMs = performance.now() - began;
    // 2016-01-01 → 2026-01-01 is 3,653 days (leap years 2016, 2020, 2024), plus 12:34:57.
    assert.deepEqual(next, { at: new Date('2026-01-01T12:34:57.000Z'), index: 3653 * 86_400 + 12 * 3600 + 34 * 60 + 57 });
    assert.ok(elapsedMs < 250, `1,000 look-ups took ${elapsedMs.toFixed(1)} ms`);
  });

  it('a P1D job in New York started in 1970: the right day and index, fast', () => {
    const schedule = iso('R/1970-01-01T09:00:00/P1D', NEW_YORK);
    const began = performance.now();
    let next = nextOccurrence(schedule, new Date('2026-03-08T12:00:00Z'));
    for (let i = 0; i < 999; i++) next = nextOccurrence(schedule, new Date('2026-03-08T12:00:00Z'));
    const elapsedMs = performance.now() - began;
    // 1970-01-01 → 2026-01-01 is 56·365 + 14 leap days = 20,454 days; + 31 + 28 + 7 to March 8.
    assert.deepEqual(next, { at: new Date('2026-03-08T09:00:00-04:00'), index: 20_520 });
    assert.ok(elapsedMs < 1000, `1,000 look-ups took ${elapsedMs.toFixed(1)} ms`);
  });

  it('a P1M job started long ago finds the right month end', () => {
    const schedule = iso('R/2000-01-31T10:00:00Z/P1M');
    // 2026-02 is month 12·26 + 1 = 313 after January 2000.
    assert.deepEqual(nextOccurrence(schedule, new Date('2026-02-01T00:00:00Z')), { at: new Date('2026-02-28T10:00:00Z'), index: 313 });
  });

  it('latestOccurrence: the last occurrence at or before a time, capped by the repetitions', () => {
    const hourly = iso('R/2026-01-01T00:00:00Z/PT1H');
    assert.deepEqual(latestOccurrence(hourly, new Date('2026-01-01T05:00:00Z')), { at: new Date('2026-01-01T05:00:00Z'), index: 5 });
    assert.deepEqual(latestOccurrence(hourly, new Date('2026-01-01T05:59:59Z')), { at: new Date('2026-01-01T05:00:00Z'), index: 5 });
    assert.equal(latestOccurrence(hourly, new Date('2025-12-31T23:59:59Z')), null);
    const three = iso('R3/2026-01-01T00:00:00Z/PT1H');
    assert.deepEqual(latestOccurrence(three, new Date('2027-01-01T00:00:00Z')), { at: new Date('2026-01-01T02:00:00Z'), index: 2 });
  });
});

describe('ISO 8601 occurrencesBetween', () => {
  const hourly = iso('R/2026-01-01T00:00:00Z/PT1H');
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-01-01T05:00:00Z');

  it('gives the occurrences in (from, to]: not from, but to', () => {
    assert.deepEqual(occurrencesBetween(hourly, from, to, 100).map((o) => [o.at.toISOString(), o.index]), [
      ['2026-01-01T01:00:00.000Z', 1], ['2026-01-01T02:00:00.000Z', 2], ['2026-01-01T03:00:00.000Z', 3],
      ['2026-01-01T04:00:00.000Z', 4], ['2026-01-01T05:00:00.000Z', 5],
    ]);
  });

  it('stops at the limit, earliest first', () => {
    assert.deepEqual(occurrencesBetween(hourly, from, to, 3).map((o) => o.index), [1, 2, 3]);
    assert.deepEqual(occurrencesBetween(hourly, from, to, 0), []);
  });

  it('stops at the last repetition', () => {
    const three = iso('R3/2026-01-01T00:00:00Z/PT1H');
    assert.deepEqual(occurrencesBetween(three, new Date('2025-12-31T00:00:00Z'), to, 100).map((o) => o.index), [0, 1, 2]);
  });

  it('is empty when to is not after from', () => {
    assert.deepEqual(occurrencesBetween(hourly, to, from, 100), []);
    assert.deepEqual(occurrencesBetween(hourly, to, to, 100), []);
  });

  it('catch-up after a day down for a PT1S job: the limit keeps it bounded', () => {
    const everySecond = iso('R/2016-01-01T00:00:00Z/PT1S');
    const found = occurrencesBetween(everySecond, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'), 1000);
    assert.equal(found.length, 1000);
    assert.equal(found[999]!.at.toISOString(), '2026-01-01T00:16:40.000Z');
  });
});
