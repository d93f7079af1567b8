// ISO 8601 durations, `PnYnMnWnDTnHnMnS`, parsed strictly: the schedule's period and Chronos's `epsilon`.
// As in Chronos (Joda's ISOPeriodFormat.standard), weeks may be combined with the other parts and only the
// seconds may have a fraction (to the millisecond, `.` or `,`). Signs, lower-case units, repeated or
// out-of-order parts, a bare `P` or `PT`, and a `T` with nothing after it are refused.
import { Invalid } from '../../shared/errors.ts';
import type { IsoPeriod } from './types.ts';

const DATE_UNITS = ['Y', 'M', 'W', 'D'] as const;
const TIME_UNITS = ['H', 'M', 'S'] as const;
const PART = /^(\d+)(?:[.,](\d+))?([A-Za-z])/;

/** Parses an ISO 8601 duration; `label` starts the error messages (e.g. "schedule: period"). */
export function parsePeriod(text: string, label: string): IsoPeriod {
  const fail: (problem: string) => never = (problem) => {
    throw new Invalid(`${label} "${text}" ${problem}`);
  };
  if (!text.startsWith('P')) fail('must start with "P" (e.g. P1D, PT1H)');
  const period: IsoPeriod = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0, milliseconds: 0 };
  let inTime = false;
  let lastUnitIndex = -1;
  let parts = 0;
  let i = 1;
  while (i < text.length) {
    const rest = text.slice(i);
    if (rest[0] === 'T') {
      if (inTime) fail('has a second "T"');
      if (rest.length === 1) fail('has "T" without hours, minutes or seconds after it');
      inTime = true;
      lastUnitIndex = -1;
      i += 1;
      continue;
    }
    if (rest[0] === '-') fail('is negative; a duration must be positive');
    if (rest[0] === '+') fail('has a sign; write the number alone');
    const match = PART.exec(rest);
    if (!match) {
      if (/^\d/.test(rest)) fail(`has "${rest}": a number needs a unit after it (Y, M, W, D, or H, M, S after "T")`);
      fail(`has "${rest[0]}" where a number was expected`);
    }
    const [whole, digits = '', fraction, unit = ''] = match;
    const units: readonly string[] = inTime ? TIME_UNITS : DATE_UNITS;
    const unitIndex = units.indexOf(unit);
    if (unitIndex < 0) {
      if (!inTime && (unit === 'H' || unit === 'S')) fail(`has "${whole}" before "T": hours, minutes and seconds come after "T" (e.g. PT${whole})`);
      if (inTime && (unit === 'Y' || unit === 'W' || unit === 'D')) fail(`has "${whole}" after "T": years, weeks and days come before it`);
      fail(`has an unknown unit "${unit}" (units are Y, M, W, D, and H, M, S after "T", in upper case)`);
    }
    if (unitIndex <= lastUnitIndex) fail(`has "${whole}" out of order or twice; the order is PnYnMnWnDTnHnMnS`);
    if (fraction !== undefined && !(inTime && unit === 'S')) fail(`has a fraction in "${whole}"; only seconds may have one (e.g. PT1.5S)`);
    if (fraction !== undefined && fraction.length > 3) fail('has seconds finer than a millisecond');
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) fail(`has a number too large in "${whole}"`);
    assignPart(period, inTime, unit, value, fraction);
    lastUnitIndex = unitIndex;
    parts += 1;
    i += whole.length;
  }
  if (parts === 0) fail('has no parts (e.g. P1D, PT1H)');
  return period;
}

function assignPart(period: IsoPeriod, inTime: boolean, unit: string, value: number, fraction: string | undefined): void {
  if (!inTime) {
    if (unit === 'Y') period.years = value;
    else if (unit === 'M') period.months = value;
    else if (unit === 'W') period.weeks = value;
    else period.days = value;
    return;
  }
  if (unit === 'H') period.hours = value;
  else if (unit === 'M') period.minutes = value;
  else {
    period.seconds = value;
    period.milliseconds = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0'));
  }
}

/** Months added on the calendar (years count as 12). */
export function calendarMonths(period: IsoPeriod): number {
  return period.years * 12 + period.months;
}

/** Days added on the calendar in the zone (weeks count as 7): wall-clock days, 23 or 25 hours across DST. */
export function calendarDays(period: IsoPeriod): number {
  return period.weeks * 7 + period.days;
}

/** The hours, minutes and seconds: elapsed time, whatever the clocks do. */
export function exactMilliseconds(period: IsoPeriod): number {
  return ((period.hours * 60 + period.minutes) * 60 + period.seconds) * 1000 + period.milliseconds;
}

export function isZeroPeriod(period: IsoPeriod): boolean {
  return calendarMonths(period) === 0 && calendarDays(period) === 0 && exactMilliseconds(period) === 0;
}

/**
 * Chronos's `epsilon` (and any other tolerance given as an ISO 8601 duration) in milliseconds. Weeks and
 * days count as 7×24 and 24 hours; years and months have no fixed length and are refused. Zero is allowed.
 */
export function parseIsoDuration(text: string, field = 'epsilon'): number {
  const period = parsePeriod(text, `${field}: duration`);
  if (calendarMonths(period) !== 0) {
    throw new Invalid(`${field}: duration "${text}" has years or months, which have no fixed length; use days or hours (e.g. P30D)`);
  }
  const ms = calendarDays(period) * 86_400_000 + exactMilliseconds(period);
  if (!Number.isSafeInteger(ms)) throw new Invalid(`${field}: duration "${text}" is too large`);
  return ms;
}
