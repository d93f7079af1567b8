// Accept/reject tables for ISO 8601 repeating intervals (`schedule`), as parsed by parseSchedule.
import assert from 'node:assert/strict';
import { Invalid } from '../../../src/shared/errors.ts';
import { parseSchedule, type IsoSchedule } from '../../../src/batch/schedule/index.ts';

function parseIso(schedule: string, scheduleTimeZone?: string, definedAt?: Date): IsoSchedule {
  const parsed = parseSchedule({ schedule, scheduleTimeZone }, { definedAt });
  assert.equal(parsed.kind, 'iso8601');
  return parsed as IsoSchedule;
}

describe('schedule: ISO 8601 repeating intervals accepted', () => {
  const accepted: Array<{ text: string; zone?: string; repetitions: number | null; start: string; zoneName: string }> = [
    { text: 'R/2026-03-01T09:00:00Z/P1D', repetitions: null, start: '2026-03-01T09:00:00Z', zoneName: 'UTC' },
    // Chronos's documented example job.
    { text: 'R10/2012-10-01T05:52:00Z/PT2S', repetitions: 10, start: '2012-10-01T05:52:00Z', zoneName: 'UTC' },
    { text: 'R0/2026-03-01T09:00:00Z/PT1S', repetitions: 0, start: '2026-03-01T09:00:00Z', zoneName: 'UTC' },
    { text: 'R01/2026-03-01T09:00:00Z/PT1S', repetitions: 1, start: '2026-03-01T09:00:00Z', zoneName: 'UTC' },
    // No zone: the written offset is the zone, a fixed one.
    { text: 'R5/2026-03-01T09:00:00.250+05:30/PT1H30M', repetitions: 5, start: '2026-03-01T03:30:00.250Z', zoneName: 'UTC+5:30' },
    { text: 'R/2026-03-01T09:00:00-0800/P1D', repetitions: null, start: '2026-03-01T17:00:00Z', zoneName: 'UTC-8' },
    { text: 'R/2026-03-01T09:00:00+01/P1D', repetitions: null, start: '2026-03-01T08:00:00Z', zoneName: 'UTC+1' },
    { text: 'R/2026-01-01T10:00:00-00:00/P1D', repetitions: null, start: '2026-01-01T10:00:00Z', zoneName: 'UTC' },
    // No offset and no zone: UTC. Date only: midnight. Minutes without seconds.
    { text: 'R/2026-03-01T09:00/P1W', repetitions: null, start: '2026-03-01T09:00:00Z', zoneName: 'UTC' },
    { text: 'R/2026-03-01/P1D', repetitions: null, start: '2026-03-01T00:00:00Z', zoneName: 'UTC' },
    { text: 'R/2028-02-29T00:00:00Z/P1Y', repetitions: null, start: '2028-02-29T00:00:00Z', zoneName: 'UTC' },
    // Fractions: comma or point, kept to the millisecond.
    { text: 'R/2026-03-01T09:00:00,5Z/PT0.5S', repetitions: null, start: '2026-03-01T09:00:00.500Z', zoneName: 'UTC' },
    { text: 'R/2026-03-01T09:00:00.123456789Z/P1Y2M3W4DT5H6M7S', repetitions: null, start: '2026-03-01T09:00:00.123Z', zoneName: 'UTC' },
    // With a zone the written fields are read in it and the offset is ignored, as Chronos did
    // (its docs: "R/2014-10-10T18:32:00Z/PT60M" in Pacific time runs at 18:32 Pacific).
    { text: 'R/2014-10-10T18:32:00Z/PT60M', zone: 'America/Los_Angeles', repetitions: null, start: '2014-10-10T18:32:00-07:00', zoneName: 'America/Los_Angeles' },
    { text: 'R/2026-03-01T09:00:00/P1D', zone: 'America/New_York', repetitions: null, start: '2026-03-01T09:00:00-05:00', zoneName: 'America/New_York' },
    { text: 'R/2026-07-01T09:00:00+02:00/P1D', zone: 'America/New_York', repetitions: null, start: '2026-07-01T09:00:00-04:00', zoneName: 'America/New_York' },
    // A start in the spring-forward gap runs at the same time moved forward by the gap.
    { text: 'R/2026-03-08T02:30:00/P1D', zone: 'America/New_York', repetitions: null, start: '2026-03-08T03:30:00-04:00', zoneName: 'America/New_York' },
    // A start in the fall-back repeat runs at the first of the two instants.
    { text: 'R/2026-11-01T01:30:00/P1D', zone: 'America/New_York', repetitions: null, start: '2026-11-01T01:30:00-04:00', zoneName: 'America/New_York' },
  ];
  for (const { text, zone, repetitions, start, zoneName } of accepted) {
    it(`${text}${zone ? ` in ${zone}` : ''}`, () => {
      const parsed = parseIso(text, zone);
      assert.equal(parsed.repetitions, repetitions);
      assert.equal(parsed.start.toISOString(), new Date(start).toISOString());
      assert.equal(parsed.zone, zoneName);
      assert.equal(parsed.text, text);
    });
  }

  it('reads the period parts as written', () => {
    assert.deepEqual(parseIso('R/2026-03-01T09:00:00Z/P1Y2M3W4DT5H6M7.089S').period,
      { years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7, milliseconds: 89 });
  });

  it('keeps the written wall-clock start as the anchor', () => {
    assert.equal(parseIso('R/2026-03-08T02:30:00/P1D', 'America/New_York').startLocal, '2026-03-08T02:30:00.000');
  });

  it('anchors an empty start (Chronos: "start now") on the definition time', () => {
    const definedAt = new Date('2026-05-04T03:02:01.500Z');
    const parsed = parseIso('R//PT1H', 'Europe/Berlin', definedAt);
    assert.equal(parsed.start.toISOString(), definedAt.toISOString());
    assert.equal(parsed.startLocal, '2026-05-04T05:02:01.500');
    assert.equal(parsed.zone, 'Europe/Berlin');
    assert.throws(() => parseIso('R5//PT1H'), /^Invalid: schedule: "R5\/\/PT1H" has an empty start .* no definition time was given$/);
  });
});

describe('schedule: ISO 8601 repeating intervals refused', () => {
  const start = '2026-03-01T09:00:00Z';
  const refused: Array<[string, RegExp]> = [
    ['', /is empty/],
    [`R/${start}`, /must have three parts .* but has 2$/],
    [`R/${start}/P1D/x`, /must have three parts .* but has 4$/],
    [` R/${start}/P1D`, /has spaces around it/],
    [`R/${start}/P1D `, /has spaces around it/],
    [`X/${start}/P1D`, /must start with "R"/],
    [`/${start}/P1D`, /must start with "R"/],
    [`R-1/${start}/P1D`, /repetitions "R-1"; write R, or R and a whole number/],
    [`R1.5/${start}/P1D`, /repetitions "R1.5"/],
    [`Rx/${start}/P1D`, /repetitions "Rx"/],
    // Periods.
    [`R/${start}/`, /period "" must start with "P"/],
    [`R/${start}/1D`, /period "1D" must start with "P"/],
    [`R/${start}/p1d`, /period "p1d" must start with "P"/],
    [`R/${start}/P`, /period "P" has no parts/],
    [`R/${start}/PT`, /period "PT" has "T" without hours, minutes or seconds/],
    [`R/${start}/P1DT`, /period "P1DT" has "T" without hours, minutes or seconds/],
    [`R/${start}/P0D`, /has a period of zero/],
    [`R/${start}/PT0S`, /has a period of zero/],
    [`R/${start}/P0Y0M0W0DT0H0M0.000S`, /has a period of zero/],
    [`R/${start}/P-1D`, /period "P-1D" is negative/],
    [`R/${start}/PT-5M`, /period "PT-5M" is negative/],
    [`R/${start}/P+1D`, /period "P\+1D" has a sign/],
    [`R/${start}/P1D1Y`, /"1Y" out of order or twice/],
    [`R/${start}/PT1H1H`, /"1H" out of order or twice/],
    [`R/${start}/PT1S1M`, /"1M" out of order or twice/],
    [`R/${start}/P1DT1HT1M`, /has a second "T"/],
    [`R/${start}/P1H`, /"1H" before "T": hours, minutes and seconds come after "T" \(e.g. PT1H\)/],
    [`R/${start}/PT1D`, /"1D" after "T"/],
    [`R/${start}/P1.5D`, /fraction in "1.5D"; only seconds may have one/],
    [`R/${start}/PT1.5M`, /fraction in "1.5M"/],
    [`R/${start}/PT1.0001S`, /seconds finer than a millisecond/],
    [`R/${start}/P1d`, /unknown unit "d"/],
    [`R/${start}/P1X`, /unknown unit "X"/],
    [`R/${start}/P1DX`, /has "X" where a number was expected/],
    [`R/${start}/PD`, /has "D" where a number was expected/],
    [`R/${start}/P1`, /has "1": a number needs a unit after it/],
    [`R/${start}/P99999999999999999D`, /number too large/],
    [`R/${start}/P1Y2M10DT2H30M junk`, /has " " where a number was expected/],
    // Starts.
    ['R/2026-13-01T00:00:00Z/P1D', /start "2026-13-01T00:00:00Z" has month 13, out of range 01-12/],
    ['R/2026-00-10T00:00:00Z/P1D', /has month 00, out of range 01-12/],
    ['R/2026-02-30T00:00:00Z/P1D', /has day 30, out of range for February 2026 \(01-28\)/],
    ['R/2026-02-29T00:00:00Z/P1D', /has day 29, out of range for February 2026 \(01-28\)/],
    ['R/2028-02-30T00:00:00Z/P1D', /has day 30, out of range for February 2028 \(01-29\)/],
    ['R/2026-04-31T00:00:00Z/P1D', /has day 31, out of range for April 2026 \(01-30\)/],
    ['R/2026-04-00T00:00:00Z/P1D', /has day 00/],
    ['R/2026-01-01T25:00:00Z/P1D', /has hour 25, out of range 00-23/],
    ['R/2026-01-01T24:00:00Z/P1D', /has hour 24, out of range 00-23/],
    ['R/2026-01-01T10:60:00Z/P1D', /has minute 60, out of range 00-59/],
    ['R/2026-01-01T10:00:60Z/P1D', /has second 60, out of range 00-59/],
    ['R/2026-01-01T10:00:00Zjunk/P1D', /has "junk" after the date-time/],
    ['R/2026-01-01T10:00:00z/P1D', /has "z" after the date-time/],
    ['R/2026-01-01 10:00:00Z/P1D', /has " 10:00:00Z" after the date-time/],
    ['R/2026-01-01Z/P1D', /has "Z" after the date-time \(an offset needs a time before it/],
    ['R/2026-01-01T10:00:00+19:00/P1D', /has offset \+19:00, beyond ±18:00/],
    ['R/2026-01-01T10:00:00+05:60/P1D', /has offset minutes 60/],
    ['R/20260101T100000Z/P1D', /is in the basic format/],
    ['R/2026-1-1T10:00:00Z/P1D', /start "2026-1-1T10:00:00Z" must look like YYYY-MM-DDThh:mm:ss/],
    ['R/-2026-01-01T10:00:00Z/P1D', /must look like YYYY-MM-DDThh:mm:ss/],
    ['R/tomorrow/P1D', /start "tomorrow" must look like/],
    ['R/2026-01-01T10Z/P1D', /has time "T10Z"; it must be Thh:mm or Thh:mm:ss/],
    ['R/2026-01-01T9:00:00Z/P1D', /has time "T9:00:00Z"/],
  ];
  for (const [text, message] of refused) {
    it(JSON.stringify(text), () => {
      assert.throws(() => parseIso(text), (error: unknown) => {
        assert.ok(error instanceof Invalid, `expected Invalid, got ${String(error)}`);
        assert.match(error.message, /^schedule: /);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
