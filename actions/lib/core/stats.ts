// Small-sample statistics for replicated measurements. Pure.

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

// ---- Student's t distribution, via the regularized incomplete beta function ----

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const maxIterations = 300;
  const eps = 1e-15;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < 1e-300) d = 1e-300;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = 1 + aa / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = 1 + aa / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < eps) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with df degrees of freedom (df may be fractional, as in Welch's test). */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

// Confidence intervals ask for the same few (p, df) pairs at every point (df = replicates - 1), and
// each bisection costs ~100 CDF evaluations: remember the answers (bounded, as df may be fractional).
const quantiles = new Map<string, number>();
const MAX_QUANTILES = 4096;

/** The t value with P(T <= t) = p, by bisection on the CDF (monotone, so bounded in steps). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1), got ${p}`);
  const key = `${p}|${df}`;
  let q = quantiles.get(key);
  if (q === undefined) {
    q = bisectTQuantile(p, df);
    if (quantiles.size >= MAX_QUANTILES) quantiles.clear();
    quantiles.set(key, q);
  }
  return q;
}

function bisectTQuantile(p: number, df: number): number {
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
    if (hi - lo < 1e-12) break;
  }
  return (lo + hi) / 2;
}

export interface Summary {
  n: number;
  mean: number;
  stdev: number;
  /** Half-width of the two-sided t confidence interval of the mean; null with fewer than 2 values. */
  ciHalfWidth: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  level: number;
}

/** Mean with a Student-t confidence interval (the right interval for 3-10 replicates). */
export function summarize(xs: readonly number[], level = 0.95): Summary {
  const n = xs.length;
  const m = mean(xs);
  const s = stdev(xs);
  if (n < 2) return { n, mean: m, stdev: s, ciHalfWidth: null, ciLow: null, ciHigh: null, level };
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * (s / Math.sqrt(n));
  return { n, mean: m, stdev: s, ciHalfWidth: half, ciLow: m - half, ciHigh: m + half, level };
}

export interface WelchResult {
  t: number;
  df: number;
  /** Two-sided p-value; null when it cannot be computed (too few replicates). */
  p: number | null;
  /** Why p is null, or a caveat for the reader. */
  note: string | null;
}

/**
 * Welch's t-test of two samples' means (unequal variances): the usual test for replicated
 * benchmark means. Needs at least 2 values per side. When both sides have zero variance the
 * test degenerates: equal means give p = 1, different means p = 0 (the values are exact).
 */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult {
  if (a.length < 2 || b.length < 2)
    return {
      t: Number.NaN,
      df: Number.NaN,
      p: null,
      note: `too few replicates (${a.length} and ${b.length}; need at least 2 each)`,
    };
  const ma = mean(a);
  const mb = mean(b);
  const va = stdev(a) ** 2 / a.length;
  const vb = stdev(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0)
    return {
      t: ma === mb ? 0 : Number.POSITIVE_INFINITY,
      df: a.length + b.length - 2,
      p: ma === mb ? 1 : 0,
      note: 'no variance in either sample',
    };
  const t = (ma - mb) / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const p = 2 * (1 - studentTCdf(Math.abs(t), df));
  return { t, df, p: Math.min(1, Math.max(0, p)), note: null };
}

/**
 * Holm's step-down adjusted p-values, in the input order: sort ascending, multiply the i-th
 * smallest (0-based) by (m - i), keep them monotone, cap at 1. A test is significant when its
 * adjusted p is below alpha, which is exactly Holm's procedure at level alpha.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p || x.i - y.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * An estimate whose sampling distribution is Student's t: (estimate - true value) / se ~ t(df).
 * Every claim rule reduces its question to one or two of these and asks on which side of a
 * threshold the true value lies.
 */
export interface TEstimate {
  value: number;
  se: number;
  df: number;
}

/** One-sided p-value of "the true value is above c": small when the estimate is clearly above. */
export function pAbove(e: TEstimate, c: number): number {
  if (!(e.se > 0)) return e.value > c ? 0 : 1;
  return 1 - studentTCdf((e.value - c) / e.se, e.df);
}

/** One-sided p-value of "the true value is below c". */
export function pBelow(e: TEstimate, c: number): number {
  if (!(e.se > 0)) return e.value < c ? 0 : 1;
  return studentTCdf((e.value - c) / e.se, e.df);
}

/** Two-sided interval of a t estimate at `level` ([value, value] without spread). */
export function tInterval(e: TEstimate, level: number): [number, number] {
  if (!(e.se > 0)) return [e.value, e.value];
  const half = studentTQuantile(1 - (1 - level) / 2, e.df) * e.se;
  return [e.value - half, e.value + half];
}

/** The mean of xs as a t estimate (df = n - 1); null below 2 values. */
export function meanEstimate(xs: readonly number[]): TEstimate | null {
  if (xs.length < 2) return null;
  return { value: mean(xs), se: stdev(xs) / Math.sqrt(xs.length), df: xs.length - 1 };
}

/** mean(a) - factor * mean(b) of two independent samples, with Welch's standard error and degrees of freedom; null below 2 values a side. */
export function welchEstimate(a: readonly number[], b: readonly number[], factor = 1): TEstimate | null {
  if (a.length < 2 || b.length < 2) return null;
  const va = stdev(a) ** 2 / a.length;
  const vb = (factor ** 2 * stdev(b) ** 2) / b.length;
  const se = Math.sqrt(va + vb);
  const df =
    se === 0 ? a.length + b.length - 2 : (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { value: mean(a) - factor * mean(b), se, df };
}

// ---- chi-square, via the regularized incomplete gamma function ----

/** Regularized lower incomplete gamma P(a, x): series below a + 1, continued fraction above. */
export function regularizedGammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const logFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.min(1, sum * Math.exp(logFront));
  }
  // Lentz's method for the continued fraction of Q(a, x).
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.max(0, 1 - Math.exp(logFront) * h);
}

/** P(X <= x) for a chi-square variable with k degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  return regularizedGammaP(k / 2, x / 2);
}

/** The chi-square value with P(X <= x) = p, by bisection on the CDF. */
export function chiSquareQuantile(p: number, k: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`chiSquareQuantile: p must be in (0, 1), got ${p}`);
  let lo = 0;
  let hi = Math.max(10, 10 * k);
  while (chiSquareCdf(hi, k) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (chiSquareCdf(mid, k) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The non-decreasing sequence closest to ys in weighted least squares (isotonic regression, by
 * pooling adjacent violators). A curve that "gradually increases" is one that stays close to it.
 */
export function isotonicFit(ys: readonly number[], weights: readonly number[] = ys.map(() => 1)): number[] {
  const blocks: { sum: number; weight: number; count: number }[] = [];
  ys.forEach((y, i) => {
    const w = weights[i]!;
    blocks.push({ sum: y * w, weight: w, count: 1 });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1]!;
      const prev = blocks[blocks.length - 2]!;
      if (prev.sum / prev.weight <= last.sum / last.weight) break;
      blocks.splice(blocks.length - 2, 2, {
        sum: prev.sum + last.sum,
        weight: prev.weight + last.weight,
        count: prev.count + last.count,
      });
    }
  });
  return blocks.flatMap((b) => new Array<number>(b.count).fill(b.sum / b.weight));
}
