// Integer range lists (`ports:[21000-24000,30000-34000]`) kept normalised: sorted by start,
// non-overlapping and non-adjacent. Every function returns a new array and never mutates its input,
// so a Resources value handed out by ClusterState stays a consistent snapshot.
import type { Range } from '../types.ts';

/** Sorts and merges overlapping or touching ranges: [[5,9],[1,3],[4,4]] → [[1,9]]. */
export function normalizeRanges(ranges: readonly Range[]): Range[] {
  if (ranges.length === 0) return [];
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** How many integers the ranges hold. */
export function countInRanges(ranges: readonly Range[]): number {
  let n = 0;
  for (const [lo, hi] of ranges) n += hi - lo + 1;
  return n;
}

/** Index of the range holding `value`, or -1 (binary search). */
function indexOfRange(ranges: readonly Range[], value: number): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (value < r[0]) hi = mid - 1;
    else if (value > r[1]) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export function rangesContain(ranges: readonly Range[], value: number): boolean {
  return indexOfRange(ranges, value) >= 0;
}

/**
 * The `count` lowest integers of the ranges, skipping `exclude`; fewer when the ranges run out.
 * Lowest-first keeps the choice deterministic and leaves the high end of the range unfragmented.
 */
export function takeLowest(ranges: readonly Range[], count: number, exclude?: ReadonlySet<number>): number[] {
  const out: number[] = [];
  if (count <= 0) return out;
  for (const [lo, hi] of ranges) {
    for (let v = lo; v <= hi; v++) {
      if (exclude?.has(v)) continue;
      out.push(v);
      if (out.length === count) return out;
    }
  }
  return out;
}

/** The ranges without the given integers (integers not in the ranges are ignored). */
export function removeFromRanges(ranges: readonly Range[], values: readonly number[]): Range[] {
  let out: Range[] = ranges as Range[];
  let copied = false;
  for (const value of values) {
    const i = indexOfRange(out, value);
    if (i < 0) continue;
    if (!copied) {
      out = [...out];
      copied = true;
    }
    const [lo, hi] = out[i]!;
    const pieces: Range[] = [];
    if (lo <= value - 1) pieces.push([lo, value - 1]);
    if (value + 1 <= hi) pieces.push([value + 1, hi]);
    out.splice(i, 1, ...pieces);
  }
  return copied ? out : [...ranges];
}

/** The ranges with the given integers added back, merged with their neighbours. */
export function addToRanges(ranges: readonly Range[], values: readonly number[]): Range[] {
  if (values.length === 0) return [...ranges];
  return normalizeRanges([...ranges, ...values.map((v): Range => [v, v])]);
}

/** `[1-3,8-8]` as Mesos writes it (a single value as `8-8`, which Marathon also matches against). */
export function formatRanges(ranges: readonly Range[]): string {
  return `[${ranges.map(([lo, hi]) => `${lo}-${hi}`).join(',')}]`;
}
