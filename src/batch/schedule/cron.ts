// Cron schedules: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, or one
// of cron-parser's @macros (@hourly, @daily, ...), read in the job's zone.
//
// cron-parser matches the fields; the zone is handled in cron-search.ts, not by cron-parser's `tz`
// option, because its DST handling depends on where the iteration started: asked from inside the repeated
// hour of a fall-back day it returns the second 01:30 (a second run of a daily 01:30 job), and asked from
// 03:00 on a spring-forward day it skips that day's 02:30 job, which it runs at 03:30 when asked from
// earlier. Here the occurrences are one fixed set, whatever the question:
// - a time in a gap runs once, moved forward by the gap (02:30 → 03:30 EDT on 2026-03-08 in New York);
// - a time that repeats runs once, at the first instant (01:30 EDT on 2026-11-01), unless the hour field
//   is every hour (`*`, `*/1`, `0-23`): such a job counts elapsed hours, so it runs in both passes
//   (hourly: 01:00 EDT and 01:00 EST), like Vixie cron's wildcard jobs;
// - two wall-clock times that land on one instant run once.
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { Invalid } from '../../shared/errors.ts';
import type { CronSchedule, Occurrence } from './types.ts';
import { latestInstant, nextInstant, type CronMatcher } from './cron-search.ts';
import { zoneOf } from './zone.ts';

const FIELD_NAMES_5 = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
const FIELD_NAMES_6 = ['second', ...FIELD_NAMES_5];
// The macros cron-parser expands (its PredefinedExpressions, which its index does not export).
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@secondly', '@weekdays', '@weekends'];
const HASHED = /(^|,)H($|[(/,])/;
// Parsed fields per schedule object, so a question does not parse the expression again.
const matchers = new WeakMap<CronSchedule, CronMatcher>();

/** Parses a cron expression for a job in `zone` (a validated IANA name). */
export function parseCronSchedule(expression: string, zone: string): CronSchedule {
  checkCronExpression(expression);
  return { kind: 'cron', expression, zone, text: expression };
}

function checkCronExpression(expression: string): void {
  const fail: (problem: string) => never = (problem) => {
    throw new Invalid(`cron: "${expression}" ${problem}`);
  };
  if (expression.trim() !== expression) fail('has spaces around it');
  if (expression.startsWith('@')) {
    if (!MACROS.includes(expression)) fail(`is not a known macro; use one of ${MACROS.join(', ')}`);
  } else {
    const fields = expression.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      fail(`has ${expression === '' ? 0 : fields.length} fields; write 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`);
    }
    const names = fields.length === 5 ? FIELD_NAMES_5 : FIELD_NAMES_6;
    fields.forEach((field, i) => {
      // `H` picks a random value on every parse, so the schedule would change at every question.
      if (HASHED.test(field)) fail(`uses "H" in the ${names[i]} field; hashed (random) values are not supported`);
    });
    // Parse each field alone (the others `*`) so the message can name the field at fault.
    const fieldErrors = fields.map((field, i) => parseError(fields.map((_, j) => (i === j ? field : '*')).join(' ')));
    const bad = fieldErrors.findIndex((error) => error !== null);
    if (bad >= 0) fail(`has an invalid ${names[bad]} field "${fields[bad]}": ${fieldErrors[bad]}`);
  }
  let parsed: CronExpression;
  try {
    parsed = CronExpressionParser.parse(expression, { tz: 'UTC', currentDate: new Date(Date.UTC(2000, 0, 1)) });
  } catch (error) {
    const message = (error as Error).message;
    // cron-parser's words for a day of the month that none of the months given has (30 2, 31 4,6).
    if (message.includes('Invalid explicit day of month')) fail('never matches a date: none of its months has that day');
    fail(`is invalid: ${message}`);
  }
  try {
    parsed.next();
  } catch {
    fail('never matches a date');
  }
}

function parseError(expression: string): string | null {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function matcherOf(schedule: CronSchedule): CronMatcher {
  let matcher = matchers.get(schedule);
  if (!matcher) {
    const { fields } = CronExpressionParser.parse(schedule.expression, { tz: 'UTC' });
    matcher = { fields, zone: zoneOf(schedule.zone), everyHour: fields.hour.values.length === 24 };
    matchers.set(schedule, matcher);
  }
  return matcher;
}

export function nextCronOccurrence(schedule: CronSchedule, after: Date): Occurrence | null {
  const instant = nextInstant(matcherOf(schedule), after.getTime());
  return instant === null ? null : { at: new Date(instant), index: null };
}

export function latestCronOccurrence(schedule: CronSchedule, atOrBefore: Date): Occurrence | null {
  const instant = latestInstant(matcherOf(schedule), atOrBefore.getTime());
  return instant === null ? null : { at: new Date(instant), index: null };
}

export function cronOccurrencesBetween(schedule: CronSchedule, from: Date, to: Date, limit: number): Occurrence[] {
  const cron = matcherOf(schedule);
  const found: Occurrence[] = [];
  for (let after = from.getTime(); found.length < limit;) {
    const instant = nextInstant(cron, after);
    if (instant === null || instant > to.getTime()) break;
    found.push({ at: new Date(instant), index: null });
    after = instant;
  }
  return found;
}
