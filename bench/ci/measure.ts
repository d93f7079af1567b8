// Small measuring helpers: nearest-rank percentiles, summaries, and formatting of milliseconds.

import { percentile, summarize, type Summary } from '../shared/stats.ts';

export { percentile, summarize, type Summary };

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** "12.3 ms", "1.23 s", or "n/a". */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
}

/** A wall-clock time in ms since the epoch from an ISO string the API returned (ms resolution). */
export function at(iso: string | null | undefined): number {
  return iso ? Date.parse(iso) : NaN;
}

/** Prints rows as a left-aligned table. */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 2);
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w - 1)).join(' '));
  for (const row of rows) console.log(line(row));
}
