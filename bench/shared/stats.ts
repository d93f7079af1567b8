// Statistics every benchmark prints: nearest-rank percentiles and a summary of a sample.

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

/** count, mean, p50, p99 and max of the finite values (NaN figures when there are none). */
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
