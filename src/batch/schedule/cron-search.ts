// Finding a cron schedule's occurrences as instants. cron-parser walks matching wall-clock times in UTC
// (which has no DST); each wall-clock time becomes instants by the rules of wall-clock.ts, with one
// addition for cron: in a repeat, a job whose hour field is every hour also runs in the second pass.
//
// Wall-clock order is not instant order next to a DST change, so a search cannot stop at the first match:
// - going forward from `after`, the main walk starts at after's own wall-clock time and stops once no
//   later wall-clock time can give an instant earlier than the best found (inversions are bounded by the
//   offsets in between). Two kinds of instant come from wall-clock times before that start and each is
//   found with one extra cron step: a time in a spring-forward gap that just passed (moved forward, it
//   lands after `after`), and the second pass of a fall-back coming within a day (every-hour jobs only).
// - going back from `atOrBefore` mirrors it: the first pass of a fall-back that just happened (its
//   wall-clock times are later than atOrBefore's), and a gap time just passed.
// Like Temporal, this assumes a zone changes its offset at most once in any two days.
import { CronExpression, type CronFieldCollection } from 'cron-parser';
import type { Zone } from 'luxon';
import { DAY_MS, gapShiftedInstant, instantsOfWall, offsetAt } from './wall-clock.ts';

export interface CronMatcher {
  fields: CronFieldCollection;
  zone: Zone;
  /** The hour field matches all 24 hours: the job runs in both passes of a repeated hour. */
  everyHour: boolean;
}

// Only a per-second job walking through a DST change takes more than a handful of steps.
const MAX_STEPS = 100_000;

/** The instants a matching wall-clock time runs at. */
function instantsFor(matcher: CronMatcher, wallMs: number): number[] {
  const instants = instantsOfWall(matcher.zone, wallMs);
  if (instants.length === 0) return [gapShiftedInstant(matcher.zone, wallMs)];
  return matcher.everyHour ? instants : instants.slice(0, 1);
}

function walls(matcher: CronMatcher, fromWallMs: number): CronExpression {
  return new CronExpression(matcher.fields, { currentDate: new Date(fromWallMs), tz: 'UTC' });
}

/** The first matching wall-clock time strictly after `wallMs`, or null when cron-parser finds none. */
function wallAfter(matcher: CronMatcher, wallMs: number): number | null {
  try {
    return walls(matcher, wallMs).next().getTime();
  } catch {
    return null;
  }
}

/** The last matching wall-clock time at or before `wallMs` (cron matches whole seconds). */
function wallAtOrBefore(matcher: CronMatcher, wallMs: number): number | null {
  try {
    return walls(matcher, wallMs + 1).prev().getTime();
  } catch {
    return null;
  }
}

/** The instant at which the zone's offset changes, given offsets that differ at `fromMs` and `toMs`. */
function offsetChangeBetween(zone: Zone, fromMs: number, toMs: number): number {
  const offsetAtTo = offsetAt(zone, toMs);
  let [low, high] = [fromMs, toMs];
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetAt(zone, middle) === offsetAtTo) high = middle;
    else low = middle;
  }
  return high;
}

/** The first occurrence strictly after `afterMs`. */
export function nextInstant(matcher: CronMatcher, afterMs: number): number | null {
  const { zone } = matcher;
  const offsetNow = offsetAt(zone, afterMs);
  let best = Infinity;
  let stopWall = Infinity;
  const consider = (instant: number): void => {
    if (instant <= afterMs || instant >= best) return;
    best = instant;
    // Any later wall-clock time w gives instants ≥ w − (the largest offset between afterMs and best).
    stopWall = best + Math.max(offsetAt(zone, Math.max(afterMs + 1, best - DAY_MS)), offsetAt(zone, best));
  };

  const offsetDayBefore = offsetAt(zone, afterMs - DAY_MS);
  if (offsetDayBefore < offsetNow) {
    // Spring forward within the last day: a gap time moved forward may still be ahead.
    const wall = wallAfter(matcher, afterMs + offsetDayBefore);
    if (wall !== null && instantsOfWall(zone, wall).length === 0) consider(gapShiftedInstant(zone, wall));
  }
  const offsetDayAfter = offsetAt(zone, afterMs + DAY_MS);
  if (matcher.everyHour && offsetDayAfter < offsetNow) {
    // Fall back within the next day: the earliest second-pass instant, from the repeated wall-clock window.
    const change = offsetChangeBetween(zone, afterMs, afterMs + DAY_MS);
    const wall = wallAfter(matcher, Math.max(afterMs, change - 1) + offsetDayAfter);
    if (wall !== null && wall < change + offsetNow) consider(wall - offsetDayAfter);
  }

  const main = walls(matcher, afterMs + offsetNow);
  for (let step = 0; step < MAX_STEPS; step++) {
    let wall: number;
    try {
      wall = main.next().getTime();
    } catch {
      break; // no further match within cron-parser's search limits
    }
    if (wall >= stopWall) break;
    for (const instant of instantsFor(matcher, wall)) consider(instant);
  }
  return Number.isFinite(best) ? best : null;
}

/** The last occurrence at or before `atOrBeforeMs`: the mirror image of nextInstant. */
export function latestInstant(matcher: CronMatcher, atOrBeforeMs: number): number | null {
  const { zone } = matcher;
  const offsetNow = offsetAt(zone, atOrBeforeMs);
  let best = -Infinity;
  let stopWall = -Infinity;
  const consider = (instant: number): void => {
    if (instant > atOrBeforeMs || instant <= best) return;
    best = instant;
    // Any earlier wall-clock time w gives instants ≤ w − (the smallest offset between best and atOrBeforeMs).
    stopWall = best + Math.min(offsetAt(zone, best), offsetAt(zone, Math.min(atOrBeforeMs, best + DAY_MS)));
  };

  const offsetDayBefore = offsetAt(zone, atOrBeforeMs - DAY_MS);
  if (offsetDayBefore > offsetNow) {
    // Fall back within the last day: the latest first-pass instant, from the repeated wall-clock window.
    const change = offsetChangeBetween(zone, atOrBeforeMs - DAY_MS, atOrBeforeMs);
    const wall = wallAtOrBefore(matcher, change + offsetDayBefore - 1);
    if (wall !== null && wall >= change + offsetNow) consider(wall - offsetDayBefore);
  }
  if (offsetDayBefore < offsetNow) {
    // Spring forward within the last day: the latest gap time, moved forward, may be the answer.
    const change = offsetChangeBetween(zone, atOrBeforeMs - DAY_MS, atOrBeforeMs);
    const wall = wallAtOrBefore(matcher, Math.min(atOrBeforeMs + offsetDayBefore, change + offsetNow - 1));
    if (wall !== null && wall >= change + offsetDayBefore) consider(gapShiftedInstant(zone, wall));
  }

  const main = walls(matcher, atOrBeforeMs + offsetNow + 1);
  for (let step = 0; step < MAX_STEPS; step++) {
    let wall: number;
    try {
      wall = main.prev().getTime();
    } catch {
      break;
    }
    if (wall <= stopWall) break;
    for (const instant of instantsFor(matcher, wall)) consider(instant);
  }
  return Number.isFinite(best) ? best : null;
}
