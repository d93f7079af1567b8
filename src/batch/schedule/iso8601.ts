// ISO 8601 repeating intervals, `Rn/start/period`, as Chronos reads them (Iso8601Expressions.scala),
// but strict: Chronos matched `(R[0-9]*)/(.*)/(P.*)` and let Joda parse the rest leniently.
// - `R` repeats without end, `Rn` runs n times (occurrences 0..n-1), `R0` never runs: Chronos likewise
//   stopped when the remaining count reached 0 without launching that occurrence.
// - The start: see iso-date-time.ts. When the job names a zone (`scheduleTimeZone`), the written
//   date-time is read as a wall-clock time in that zone and any offset written is ignored: Chronos did
//   exactly that (`withZoneRetainFields`), and its docs say the zone "takes precedence", so
//   `R/2014-10-10T18:32:00Z/PT60M` with America/Los_Angeles runs at 18:32 Los Angeles time. With no zone,
//   the written offset is the zone (a fixed offset, no daylight saving; `Z` is UTC), and a start with no
//   offset is read in UTC.
// - An empty start (`R//PT1H`) means, in Chronos, "from now". Gantry never rewrites the stored schedule,
//   so "now" must be a stored time: the caller passes the time the job was defined (`definedAt`).
import { Invalid } from '../../shared/errors.ts';
import { formatWall, parseStartDateTime } from './iso-date-time.ts';
import { isZeroPeriod, parsePeriod } from './iso-period.ts';
import type { IsoSchedule } from './types.ts';
import { instantOfWall, wallOfInstant } from './wall-clock.ts';
import { fixedOffsetZoneName, zoneOf } from './zone.ts';

const LAST_INSTANT_MS = 8.64e15;

/**
 * Parses `Rn/start/period`. `zone` is the job's validated IANA zone name, or null when it gave none.
 * `definedAt` anchors an empty start; without it an empty start is refused.
 */
export function parseIsoSchedule(text: string, zone: string | null, definedAt?: Date): IsoSchedule {
  const fail: (problem: string) => never = (problem) => {
    throw new Invalid(`schedule: "${text}" ${problem}`);
  };
  if (text === '') fail('is empty; write Rn/start/period (e.g. R/2026-03-01T09:00:00Z/P1D)');
  if (text.trim() !== text) fail('has spaces around it');
  const parts = text.split('/');
  if (parts.length !== 3) {
    fail(`must have three parts separated by "/", Rn/start/period (e.g. R/2026-03-01T09:00:00Z/P1D), but has ${parts.length}`);
  }
  const [repetitionsText = '', startText = '', periodText = ''] = parts;
  const repetitions = parseRepetitions(repetitionsText, fail);
  const period = parsePeriod(periodText, 'schedule: period');
  if (isZeroPeriod(period)) fail('has a period of zero; a schedule needs a period longer than zero');

  let zoneName: string;
  let startMs: number;
  let startWallMs: number;
  if (startText === '') {
    if (!definedAt) fail('has an empty start ("from when the job is defined"), but no definition time was given');
    zoneName = zone ?? 'UTC';
    startMs = definedAt.getTime();
    startWallMs = wallOfInstant(zoneOf(zoneName), startMs);
  } else {
    const written = parseStartDateTime(startText, 'schedule: start');
    zoneName = zone ?? (written.offsetMinutes === null ? 'UTC' : fixedOffsetZoneName(written.offsetMinutes));
    startWallMs = written.wallMs;
    startMs = instantOfWall(zoneOf(zoneName), startWallMs);
  }
  if (Math.abs(startMs) > LAST_INSTANT_MS) fail('has a start outside the range of dates');
  return { kind: 'iso8601', repetitions, start: new Date(startMs), startLocal: formatWall(startWallMs), period, zone: zoneName, text };
}

function parseRepetitions(text: string, fail: (problem: string) => never): number | null {
  if (!text.startsWith('R')) fail('must start with "R" (R repeats without end, Rn runs n times)');
  const count = text.slice(1);
  if (count === '') return null;
  if (!/^\d+$/.test(count)) fail(`has repetitions "${text}"; write R, or R and a whole number such as R5`);
  const n = Number(count);
  if (!Number.isSafeInteger(n)) fail(`has repetitions "${text}", too large`);
  return n;
}
