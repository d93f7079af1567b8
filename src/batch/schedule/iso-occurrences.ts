// Occurrences of an ISO 8601 schedule, anchored on the start: occurrence k is the written start plus
// k·(years, months) and k·(weeks, days) on the calendar in the zone (wall-clock: P1D keeps 09:00 local
// across DST, P1M from January 31 gives February 28, March 31, April 30), then plus k·(hours, minutes,
// seconds) of elapsed time (PT24H is always 86,400 s). Never chained from the previous occurrence.
// Gaps and repeats resolve as in wall-clock.ts: moved forward by the gap, or the first of the two instants.
// Finding the occurrence after a time estimates k by division and corrects it in a few steps, so a PT1S
// schedule started years ago costs the same as one started today.
import { DateTime } from 'luxon';
import type { IsoSchedule, Occurrence } from './types.ts';
import { calendarDays, calendarMonths, exactMilliseconds } from './iso-period.ts';
import { DAY_MS, instantOfWall } from './wall-clock.ts';
import { zoneOf } from './zone.ts';

const AVERAGE_MONTH_MS = (365.2425 / 12) * DAY_MS;
const LAST_INSTANT_MS = 8.64e15;
const MAX_CORRECTION_STEPS = 10_000;

/** The instant of occurrence k (ignoring the repetition count), or null past the range of dates. */
export function isoOccurrenceAt(schedule: IsoSchedule, k: number): number | null {
  const { period } = schedule;
  const months = calendarMonths(period) * k;
  const days = calendarDays(period) * k;
  const exact = exactMilliseconds(period) * k;
  let instant: number;
  if (months === 0 && days === 0) {
    instant = schedule.start.getTime() + exact;
  } else {
    // Calendar parts: add them to the written wall-clock start, months first (clamping to the month's
    // last day), then days; then find the instant the zone's clocks show it.
    const wall = DateTime.fromMillis(Date.parse(`${schedule.startLocal}Z`), { zone: 'utc' }).plus({ months, days });
    if (!wall.isValid) return null;
    instant = instantOfWall(zoneOf(schedule.zone), wall.toMillis()) + exact;
  }
  return Number.isFinite(instant) && Math.abs(instant) <= LAST_INSTANT_MS ? instant : null;
}

/**
 * The smallest k ≥ 0 whose occurrence is strictly after `afterMs` (the repetition count aside), with that
 * occurrence's instant (Infinity past the range of dates).
 */
export function firstIndexAfter(schedule: IsoSchedule, afterMs: number): { k: number; instant: number } {
  const occurrence = (index: number): number => isoOccurrenceAt(schedule, index) ?? Infinity;
  const startMs = schedule.start.getTime();
  if (afterMs < startMs) return { k: 0, instant: startMs };
  const { period } = schedule;
  const exact = exactMilliseconds(period);
  if (calendarMonths(period) === 0 && calendarDays(period) === 0) {
    const k = Math.floor((afterMs - startMs) / exact) + 1;
    return { k, instant: occurrence(k) };
  }
  const averagePeriod = calendarMonths(period) * AVERAGE_MONTH_MS + calendarDays(period) * DAY_MS + exact;
  let k = Math.max(0, Math.floor((afterMs - startMs) / averagePeriod));
  const known = new Map<number, number>();
  const occurrenceOnce = (index: number): number => {
    let instant = known.get(index);
    if (instant === undefined) known.set(index, (instant = occurrence(index)));
    return instant;
  };
  // Occurrences increase with k (a calendar period is at least a day, more than any DST shift), so the
  // estimate only needs moving until occurrence k-1 is at or before `afterMs` and occurrence k after it.
  for (let steps = 0; ; steps++) {
    if (steps > MAX_CORRECTION_STEPS) throw new Error(`schedule "${schedule.text}": occurrence search did not converge`);
    if (k > 0 && occurrenceOnce(k - 1) > afterMs) k -= 1;
    else if (occurrenceOnce(k) <= afterMs) k += 1;
    else return { k, instant: occurrenceOnce(k) };
  }
}

/** Occurrence k as handed out, or null when k is not one of the repetitions or is past the range of dates. */
function occurrenceOrNull(schedule: IsoSchedule, k: number, instant = isoOccurrenceAt(schedule, k) ?? Infinity): Occurrence | null {
  if (k < 0 || (schedule.repetitions !== null && k >= schedule.repetitions) || !Number.isFinite(instant)) return null;
  return { at: new Date(instant), index: k };
}

export function nextIsoOccurrence(schedule: IsoSchedule, after: Date): Occurrence | null {
  if (schedule.repetitions === 0) return null;
  const { k, instant } = firstIndexAfter(schedule, after.getTime());
  return occurrenceOrNull(schedule, k, instant);
}

/** The last occurrence at or before `atOrBefore`, if any (the last repetition when all are past). */
export function latestIsoOccurrence(schedule: IsoSchedule, atOrBefore: Date): Occurrence | null {
  if (schedule.repetitions === 0) return null;
  let k = firstIndexAfter(schedule, atOrBefore.getTime()).k - 1;
  if (schedule.repetitions !== null) k = Math.min(k, schedule.repetitions - 1);
  return occurrenceOrNull(schedule, k);
}

export function isoOccurrencesBetween(schedule: IsoSchedule, from: Date, to: Date, limit: number): Occurrence[] {
  const found: Occurrence[] = [];
  if (schedule.repetitions === 0) return found;
  const first = firstIndexAfter(schedule, from.getTime());
  for (let k = first.k; found.length < limit; k++) {
    const occurrence = occurrenceOrNull(schedule, k, k === first.k ? first.instant : undefined);
    if (!occurrence || occurrence.at.getTime() > to.getTime()) break;
    found.push(occurrence);
  }
  return found;
}
