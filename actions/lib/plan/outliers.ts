// Replicate consistency, the second line behind the disturbance signal: a replicate far outside its
// point's others is measured again. Pure.
//
// The rule, stated once: over a point's clean (unflagged) replicates, with at least three of them,
// take the median m and the median absolute deviation MAD; a replicate x is an outlier when
// |x - m| > 3.5 s, where s = max(1.4826 MAD, 0.5% of |m|). 1.4826 MAD estimates the standard
// deviation of normal noise without being dragged by the outlier itself, and 3.5 is Iglewicz and
// Hoaglin's cut-off for the modified z-score; the floor keeps a point whose replicates agree to
// the last digit (a MAD near 0) from calling every small wobble an outlier: below 1.75% of the
// median nothing is one.

/** Robust standard deviations beyond which a replicate is an outlier. */
export const OUTLIER_CUTOFF = 3.5;
/** The smallest robust standard deviation, in percent of the median. */
export const OUTLIER_FLOOR_PERCENT = 0.5;
/** The fewest clean replicates a point needs before any of them can be called an outlier. */
export const OUTLIER_MIN_REPLICATES = 3;

export interface Outlier {
  replicate: number;
  value: number;
  median: number;
  /** How many robust standard deviations from the median, signed (negative: below). */
  deviations: number;
  /** In words, for the record and the terminal. */
  reason: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The replicates of one point (replicate -> value) that lie outside the rule above. */
export function replicateOutliers(values: ReadonlyMap<number, number>): Outlier[] {
  if (values.size < OUTLIER_MIN_REPLICATES) return [];
  const xs = [...values.values()];
  const m = median(xs);
  const mad = median(xs.map((x) => Math.abs(x - m)));
  const scale = Math.max(1.4826 * mad, (OUTLIER_FLOOR_PERCENT / 100) * Math.abs(m));
  if (scale === 0) return [];
  const out: Outlier[] = [];
  for (const [replicate, value] of [...values].sort(([a], [b]) => a - b)) {
    const deviations = (value - m) / scale;
    if (Math.abs(deviations) <= OUTLIER_CUTOFF) continue;
    const where = deviations < 0 ? 'below' : 'above';
    const reason = `replicate ${replicate}: ${value} is ${Math.abs(deviations).toFixed(1)} robust SDs ${where} the median ${Number(m.toFixed(2))} of its point's ${values.size} clean replicates (> ${OUTLIER_CUTOFF})`;
    out.push({ replicate, value, median: m, deviations, reason });
  }
  return out;
}
