// Wall-clock times in a zone and the instants they name. Both schedule kinds compute in wall-clock time
// (a "wall" is a local date-time written as milliseconds as if it were UTC) and turn walls into instants
// here, so daylight-saving gaps and repeats are handled in one place, by one rule:
// - a wall-clock time in a gap (02:30 on a spring-forward day) is moved forward by the length of the gap
//   (03:30 in the new offset);
// - a wall-clock time that happens twice (01:30 on a fall-back day) names both instants; callers take the
//   first (the one in the offset before the change) unless they ask for both.
// luxon resolves the repeat inconsistently (DateTime.fromObject picks the second instant, plus() from a
// day before picks the first), so the offsets are compared here instead of relying on it.
import type { Zone } from 'luxon';

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

// luxon asks Intl for every offset (about 8 µs each), and a search asks for many near the same instants,
// so offsets at 15-minute marks are remembered per zone. Between two marks with the same offset there is
// no change (zones do not change twice within 15 minutes); otherwise the instant itself is asked.
const MARK_MS = 15 * MINUTE_MS;
const MAX_REMEMBERED_MARKS = 100_000;
const offsetsAtMarks = new Map<string, Map<number, number>>();

/** The zone's UTC offset at an instant, in milliseconds. */
export function offsetAt(zone: Zone, instantMs: number): number {
  if (zone.isUniversal) return zone.offset(instantMs) * MINUTE_MS;
  const mark = Math.floor(instantMs / MARK_MS);
  const before = offsetAtMark(zone, mark);
  return before === offsetAtMark(zone, mark + 1) ? before : zone.offset(instantMs) * MINUTE_MS;
}

function offsetAtMark(zone: Zone, mark: number): number {
  let marks = offsetsAtMarks.get(zone.name);
  if (!marks) offsetsAtMarks.set(zone.name, (marks = new Map()));
  let offset = marks.get(mark);
  if (offset === undefined) {
    if (marks.size >= MAX_REMEMBERED_MARKS) marks.clear();
    offset = zone.offset(mark * MARK_MS) * MINUTE_MS;
    marks.set(mark, offset);
  }
  return offset;
}

/**
 * The instants at which the zone's clocks show `wallMs`: none in a gap, two in a repeat, else one; ascending.
 * Like Temporal's disambiguation it assumes at most one offset change within a day either side.
 */
export function instantsOfWall(zone: Zone, wallMs: number): number[] {
  const offsetBefore = offsetAt(zone, wallMs - DAY_MS);
  const offsetAfter = offsetAt(zone, wallMs + DAY_MS);
  // The same offset a day either side: no change in between, so exactly one instant.
  if (offsetBefore === offsetAfter) return [wallMs - offsetBefore];
  const instants: number[] = [];
  for (const offset of [offsetBefore, offsetAfter]) {
    const instant = wallMs - offset;
    if (offsetAt(zone, instant) === offset) instants.push(instant);
  }
  return instants.sort((a, b) => a - b);
}

/** The instant a wall-clock time runs at: the first of a repeat, or moved forward by the gap. */
export function instantOfWall(zone: Zone, wallMs: number): number {
  return instantsOfWall(zone, wallMs)[0] ?? gapShiftedInstant(zone, wallMs);
}

/** A wall-clock time inside a gap, read with the offset from before the gap: later by the gap's length. */
export function gapShiftedInstant(zone: Zone, wallMs: number): number {
  return wallMs - offsetAt(zone, wallMs - DAY_MS);
}

/** The wall-clock time of an instant in the zone. */
export function wallOfInstant(zone: Zone, instantMs: number): number {
  return instantMs + offsetAt(zone, instantMs);
}
