// parseSchedule's input rules (exactly one of schedule/cron, the zone), epsilon durations, descriptions.
import assert from 'node:assert/strict';
import { Invalid } from '../../../src/shared/errors.ts';
import { describeSchedule, parseIsoDuration, parseSchedule } from '../../../src/batch/schedule/index.ts';

function assertInvalid(action: () => unknown, message: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof Invalid, `expected Invalid, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('parseSchedule input', () => {
  it('needs one of schedule and cron', () => {
    assertInvalid(() => parseSchedule({}), /^schedule: required, as an ISO 8601 repeating interval .* unless "cron" is given$/);
    assertInvalid(() => parseSchedule({ schedule: null, cron: null }), /^schedule: required/);
  });

  it('refuses both', () => {
    assertInvalid(() => parseSchedule({ schedule: 'R/2026-01-01T00:00:00Z/P1D', cron: '0 0 * * *' }), /^cron: give either "schedule" \(ISO 8601\) or "cron", not both$/);
  });

  it('reads an empty scheduleTimeZone (as Chronos exports it) as none', () => {
    assert.equal(parseSchedule({ schedule: 'R/2026-01-01T00:00:00+02:00/P1D', scheduleTimeZone: '' }).zone, 'UTC+2');
    assert.equal(parseSchedule({ cron: '0 0 * * *', scheduleTimeZone: null }).zone, 'UTC');
  });
});

describe('scheduleTimeZone', () => {
  const accepted = ['America/New_York', 'UTC', 'GMT', 'Etc/UTC', 'Europe/Kyiv', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires', 'US/Eastern', 'Etc/GMT+5', 'Australia/Lord_Howe'];
  for (const zone of accepted) {
    it(`accepts ${zone}`, () => {
      assert.equal(parseSchedule({ cron: '0 0 * * *', scheduleTimeZone: zone }).zone, zone);
      assert.equal(parseSchedule({ schedule: 'R/2026-01-01T00:00:00Z/P1D', scheduleTimeZone: zone }).zone, zone);
    });
  }

  const refused: Array<[string, RegExp]> = [
    ['Mars/Olympus', /^scheduleTimeZone: "Mars\/Olympus" is not an IANA time zone name; use an Area\/Location name such as "America\/New_York", or "UTC"$/],
    ['Europe/Atlantis', /"Europe\/Atlantis" is not an IANA time zone name/],
    // Abbreviations and POSIX-style names: Chronos (Java) took "PST"; ICU reads it too, tzdata does not have it.
    ['PST', /"PST" is not an IANA time zone name.*\(this runtime reads "PST" as "America\/Los_Angeles"\)/],
    ['EST', /"EST" is not an IANA time zone name/],
    ['EST5EDT', /"EST5EDT" is not an IANA time zone name.*"America\/New_York"/],
    ['BST', /"BST" is not an IANA time zone name/],
    ['CET', /"CET" is not an IANA time zone name/],
    ['america/new_york', /"america\/new_york" is not an IANA time zone name.*reads "america\/new_york" as "America\/New_York"/],
    ['SystemV/AST4', /"SystemV\/AST4" is not an IANA time zone name/],
    ['Z', /"Z" is not an IANA time zone name/],
    ['+05:00', /"\+05:00" is not an IANA time zone name/],
    ['UTC+1', /"UTC\+1" is not an IANA time zone name/],
    [' UTC', /" UTC" is not an IANA time zone name/],
  ];
  for (const [zone, message] of refused) {
    it(`refuses ${JSON.stringify(zone)}`, () => {
      assertInvalid(() => parseSchedule({ cron: '0 0 * * *', scheduleTimeZone: zone }), message);
      assertInvalid(() => parseSchedule({ schedule: 'R/2026-01-01T00:00:00Z/P1D', scheduleTimeZone: zone }), message);
    });
  }
});

describe('parseIsoDuration (epsilon)', () => {
  const accepted: Array<[string, number]> = [
    ['PT60S', 60_000], ['PT1M', 60_000], ['PT15M', 900_000], ['PT30M', 1_800_000], ['PT1H', 3_600_000], ['P1D', 86_400_000],
    ['P1W', 604_800_000], ['P1DT1H', 90_000_000], ['PT1.5S', 1500], ['PT0,25S', 250], ['PT0S', 0], ['P0D', 0],
  ];
  for (const [text, ms] of accepted) it(`${text} = ${ms} ms`, () => assert.equal(parseIsoDuration(text), ms));

  const refused: Array<[string, RegExp]> = [
    ['P1M', /^epsilon: duration "P1M" has years or months, which have no fixed length; use days or hours \(e.g. P30D\)$/],
    ['P1Y', /has years or months/],
    ['', /^epsilon: duration "" must start with "P"/],
    ['15M', /must start with "P"/],
    ['PT', /has "T" without hours, minutes or seconds/],
    ['P', /has no parts/],
    ['PT-1S', /is negative/],
    ['PT1.5M', /only seconds may have one/],
    ['pt1m', /must start with "P"/],
  ];
  for (const [text, message] of refused) it(`refuses ${JSON.stringify(text)}`, () => assertInvalid(() => parseIsoDuration(text), message));

  it('names the field it is given', () => {
    assertInvalid(() => parseIsoDuration('P1M', 'maxCompletionTime'), /^maxCompletionTime: duration "P1M"/);
  });
});

describe('describeSchedule', () => {
  const cases: Array<[Parameters<typeof parseSchedule>[0], string]> = [
    [{ schedule: 'R5/2026-03-01T09:00:00Z/P1D' }, 'every 1 day from 2026-03-01 09:00 (UTC), 5 times'],
    [{ schedule: 'R1/2026-03-01T09:00:00Z/P1D' }, 'every 1 day from 2026-03-01 09:00 (UTC), 1 time'],
    [{ schedule: 'R/2026-03-01T09:00:30/PT1H30M', scheduleTimeZone: 'America/New_York' }, 'every 1 hour 30 minutes from 2026-03-01 09:00:30 (America/New_York)'],
    [{ schedule: 'R/2026-03-01T09:00:00+05:30/P2WT1.5S' }, 'every 2 weeks 1.5 seconds from 2026-03-01 09:00 (UTC+5:30)'],
    [{ schedule: 'R0/2026-03-01T09:00:00Z/P1D' }, 'never (R0)'],
    [{ cron: '0 9 * * 1-5', scheduleTimeZone: 'Europe/Paris' }, 'cron "0 9 * * 1-5" (Europe/Paris)'],
  ];
  for (const [input, text] of cases) it(text, () => assert.equal(describeSchedule(parseSchedule(input)), text));
});
