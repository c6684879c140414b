// Small statistics for benchmark figures: percentiles and a rate-per-time-bucket series.

/** Nearest-rank percentile (`p` in 0..100) of `values`; NaN when empty. Does not change `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

/** Work done between two instants of the benchmark clock, in ms. */
export interface Interval {
  startMs: number;
  endMs: number;
  count: number;
}

/**
 * Rate per second in `buckets` equal slices of [0, end of the last interval], as [bucket midpoint
 * ms, count/s]. An interval's count is spread evenly over its duration, so a batch that crosses
 * a bucket edge is split between both buckets rather than credited to one.
 */
export function ratePerBucket(intervals: readonly Interval[], buckets: number): [number, number][] {
  const end = intervals.reduce((m, iv) => Math.max(m, iv.endMs), 0);
  if (end <= 0 || buckets < 1) return [];
  const width = end / buckets;
  const counts = new Float64Array(buckets);
  for (const iv of intervals) {
    const span = iv.endMs - iv.startMs;
    if (span <= 0) {
      const b = Math.min(buckets - 1, Math.floor(iv.startMs / width));
      counts[b] = (counts[b] ?? 0) + iv.count;
      continue;
    }
    const first = Math.floor(iv.startMs / width);
    const last = Math.min(buckets - 1, Math.floor(iv.endMs / width));
    for (let b = first; b <= last; b++) {
      const overlap = Math.min(iv.endMs, (b + 1) * width) - Math.max(iv.startMs, b * width);
      if (overlap > 0) counts[b] = (counts[b] ?? 0) + (iv.count * overlap) / span;
    }
  }
  return Array.from(counts, (c, b) => [(b + 0.5) * width, c / (width / 1000)]);
}
