// The start of an ISO 8601 repeating interval, parsed strictly: extended format only,
// `YYYY-MM-DD`, optionally `Thh:mm`, `:ss`, a fraction of 1-9 digits (kept to the millisecond, as Joda did
// for Chronos), and then `Z`, `±hh:mm`, `±hhmm` or `±hh`. Every field is range-checked against the
// calendar (no month 13, no February 30, no hour 24, no second 60).
import { Invalid } from '../../shared/errors.ts';

export interface WrittenDateTime {
  /** The written local date-time as milliseconds, read as if it were UTC (a "wall"). */
  wallMs: number;
  /** The written offset in minutes; null when none was written. */
  offsetMinutes: number | null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const TIME = /^T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?/;
const OFFSET = /^(?:Z|([+-])(\d{2})(?::?(\d{2}))?)/;
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Parses a start date-time; `label` starts the error messages (e.g. "schedule: start"). */
export function parseStartDateTime(text: string, label: string): WrittenDateTime {
  const fail: (problem: string) => never = (problem) => {
    throw new Invalid(`${label} "${text}" ${problem}`);
  };
  const date = DATE.exec(text);
  if (!date) {
    if (/^\d{8}/.test(text)) fail('is in the basic format; write it as YYYY-MM-DDThh:mm:ss with Z or an offset');
    fail('must look like YYYY-MM-DDThh:mm:ss with Z or an offset (e.g. 2026-03-01T09:00:00Z)');
  }
  const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
  if (month < 1 || month > 12) fail(`has month ${date[2]}, out of range 01-12`);
  const lastDay = daysInMonth(year, month);
  if (day < 1 || day > lastDay) fail(`has day ${date[3]}, out of range for ${MONTH_NAMES[month - 1]} ${year} (01-${lastDay})`);

  let rest = text.slice(date[0].length);
  let [hour, minute, second, millisecond] = [0, 0, 0, 0];
  let offsetMinutes: number | null = null;
  if (rest.startsWith('T')) {
    const time = TIME.exec(rest);
    if (!time) fail(`has time "${rest}"; it must be Thh:mm or Thh:mm:ss (24-hour, two digits each)`);
    [hour, minute, second] = [Number(time[1]), Number(time[2]), Number(time[3] ?? 0)];
    millisecond = Number((time[4] ?? '0').padEnd(3, '0').slice(0, 3));
    if (hour > 23) fail(`has hour ${time[1]}, out of range 00-23`);
    if (minute > 59) fail(`has minute ${time[2]}, out of range 00-59`);
    if (second > 59) fail(`has second ${time[3]}, out of range 00-59`);
    rest = rest.slice(time[0].length);
    const offset = OFFSET.exec(rest);
    if (offset) {
      offsetMinutes = offset[1] ? offsetOf(offset[1], offset[2]!, offset[3], fail) : 0;
      rest = rest.slice(offset[0].length);
    }
  }
  if (rest !== '') fail(`has "${rest}" after the date-time (an offset needs a time before it: 2026-03-01T00:00:00Z)`);

  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, millisecond);
  return { wallMs: wall.getTime(), offsetMinutes };
}

function offsetOf(sign: string, hours: string, minutes: string | undefined, fail: (problem: string) => never): number {
  const total = Number(hours) * 60 + Number(minutes ?? 0);
  if (Number(minutes ?? 0) > 59) fail(`has offset minutes ${minutes}, out of range 00-59`);
  if (total > 18 * 60) fail(`has offset ${sign}${hours}:${minutes ?? '00'}, beyond ±18:00`);
  return sign === '-' ? -total : total;
}

export function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** A wall-clock time as the ISO local date-time `YYYY-MM-DDThh:mm:ss.sss`. */
export function formatWall(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 23);
}
