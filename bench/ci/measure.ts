// Small measuring helpers: nearest-rank percentiles, summaries, and formatting of milliseconds.

/** Nearest-rank percentile (q in 0..1) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    count: finite.length,
    mean: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN,
    p50: percentile(finite, 0.5),
    p99: percentile(finite, 0.99),
    max: finite.length ? Math.max(...finite) : NaN,
  };
}

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
