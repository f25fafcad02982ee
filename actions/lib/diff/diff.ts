// Run A (the baseline) vs run B (the candidate): what changed between two runs, point by point and
// curve by curve, and whether each change is real or noise. Pure: loaded runs in, a RunDiff out.
//
// Statistics, and why:
// - Each point's replicates are compared with Welch's t-test (unequal variances; it works with the
//   3-10 replicates a sweep can afford). A run has dozens to hundreds of points, so testing each at
//   alpha would flag about alpha x points of them by chance alone: by default the p-values are
//   Holm-corrected across every point tested in the diff (step-down Bonferroni: controls the
//   chance of even one false alarm in the whole diff at alpha, and is uniformly more powerful than
//   plain Bonferroni). `correction: 'none'` tests each point at alpha instead.
// - With fewer than 2 replicates on a side there is no variance to test against. If netperf's own
//   confidence intervals were asked for (-I/-i), the two intervals decide (no overlap: significant);
//   otherwise the point is "too few replicates".
// - A point is improved or regressed only when the change is significant AND at least the threshold
//   in percent: a 0.3 % shift can be significant with tight replicates but matters to no one.
//   Throughput is the compared value: higher is better.
// - The server's CPU cost per gigabyte (aggregate.ts cpuPerGigabyte), where both runs recorded it,
//   is compared the same way as a second family, Holm-corrected on its own so that it never moves
//   the throughput verdicts: lower is better. It does not decide hasRegression (the gate stays
//   throughput's); its changes are listed beside.

import { recordsByPoint, summarizePoints, type PointSummary } from '../analyse/aggregate.ts';
import type { Parameter, TestName } from '../plan/plan.ts';
import type { Manifest, MeasurementRecord } from '../measure/records.ts';
import { InputError, quoted } from '../core/input.ts';
import { holmAdjust, welchTTest } from '../core/stats.ts';
import { own } from '../core/own.ts';

export const DIFF_FORMAT_VERSION = 1;

/** A claim of the paper judged on one run (claims.ts produces these; typed here to stay independent). */
export interface ClaimVerdict {
  id: string;
  text: string;
  verdict: 'supported' | 'refuted' | 'inconclusive';
  /** Per environment, where some were not judged ("kvm and osv not judged: TCG"): shown with the verdict. */
  qualifier?: string | null;
}

export interface DiffInput {
  /** How the user named the run: a directory, a ref, "previous". */
  label: string;
  manifest: Manifest;
  records: readonly MeasurementRecord[];
  /** Claim verdicts on this run; claim changes are listed only when both sides have them. */
  verdicts?: readonly ClaimVerdict[];
}

export interface DiffOptions {
  /** Smallest change, in percent of A's mean, that counts as improved or regressed. */
  thresholdPercent: number;
  /** Significance level (family-wise with Holm). */
  alpha: number;
  correction: 'holm' | 'none';
}

export const DEFAULT_DIFF_OPTIONS: DiffOptions = { thresholdPercent: 5, alpha: 0.05, correction: 'holm' };

/** A bad diff option: an InputError naming the option (threshold, alpha, correction). */
export class DiffOptionsError extends InputError {
  override name = 'DiffOptionsError';
}

// The options' rules, once for every way they are given: numbers (validateDiffOptions) and text
// (an option or action input, through the *From parsers).
const THRESHOLD = {
  ok: (n: number) => Number.isFinite(n) && n >= 0 && n <= 1000,
  expected: 'a number from 0 to 1000 such as 5 or 2.5',
};
const ALPHA = {
  ok: (n: number) => Number.isFinite(n) && n > 0 && n < 1,
  expected: 'a probability strictly between 0 and 1',
};
const CORRECTIONS = ['holm', 'none'] as const;

/** A plain decimal such as 5, 2.5 or .05: no sign, exponent or blanks. */
function decimal(text: string): number {
  return /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
}

function checked(
  field: string,
  rule: { ok: (n: number) => boolean; expected: string },
  value: number,
  shown: string,
): number {
  if (!rule.ok(value)) throw new DiffOptionsError(field, `expected ${rule.expected}, got ${shown}`);
  return value;
}

/** The threshold (percent) written as text; `field` names where it came from. */
export function thresholdFrom(field: string, text: string): number {
  return checked(field, THRESHOLD, decimal(text), quoted(text));
}

/** The significance level written as text. */
export function alphaFrom(field: string, text: string): number {
  return checked(field, ALPHA, decimal(text), quoted(text));
}

export function correctionFrom(field: string, text: string): DiffOptions['correction'] {
  const found = CORRECTIONS.find((c) => c === text);
  if (found === undefined) throw new DiffOptionsError(field, `expected holm or none, got ${quoted(text)}`);
  return found;
}

export function validateDiffOptions(o: DiffOptions): DiffOptions {
  checked('threshold', THRESHOLD, o.thresholdPercent, String(o.thresholdPercent));
  checked('alpha', ALPHA, o.alpha, String(o.alpha));
  correctionFrom('correction', o.correction);
  return o;
}

// ---------------------------------------------------------------- types of the result

export interface RunRef {
  label: string;
  runId: string;
  commit: string | null;
  branch: string | null;
  subject: string | null;
  createdAt: string;
  status: Manifest['status'];
  plan: string;
  environments: string[];
}

export type DifferenceCategory =
  'run' | 'plan' | 'environments' | 'testbed' | 'accelerator' | 'versions' | 'kernel' | 'hardware' | 'sysctls';

/** One manifest field that differs; values as text, null where the field is absent on that side. */
export interface ManifestDifference {
  category: DifferenceCategory;
  field: string;
  a: string | null;
  b: string | null;
}

export interface SideStats {
  /** Ok replicates. */
  n: number;
  mean: number | null;
  stdev: number | null;
  /** 95 % Student-t interval of the mean (null with fewer than 2 replicates). */
  ciLow: number | null;
  ciHigh: number | null;
  failed: number;
  okRate: number | null;
}

export type Significance = 'significant' | 'not-significant' | 'too-few-replicates' | 'all-failed';
export type Classification = 'improved' | 'regressed' | 'unchanged' | 'undecided';

/** What names a point across runs: the identity fields of a PointSummary. */
export type PointKey = Pick<PointSummary, 'environment' | 'test' | 'series' | 'parameter' | 'value' | 'pointId'>;

export interface PointDiff extends PointKey {
  a: SideStats;
  b: SideStats;
  /** (B - A) / A in percent; null when A's mean is 0 or a side has no data. */
  changePercent: number | null;
  /** How significance was decided: Welch's t-test, netperf's confidence intervals, or not at all. */
  method: 'welch' | 'netperf-confidence' | null;
  /** Welch's two-sided p-value, and after the correction (equal to p with correction none). */
  p: number | null;
  pAdjusted: number | null;
  significance: Significance;
  classification: Classification;
  /** Why the point is undecided, or how it was decided when that is unusual. */
  note: string | null;
  /** The CPU cost per gigabyte, when both runs recorded it. */
  cpu?: CpuPointDiff;
}

/** The server's CPU-seconds per gigabyte at a point both runs recorded it: lower is better. */
export interface CpuPointDiff {
  a: { n: number; mean: number; ciLow: number | null; ciHigh: number | null };
  b: { n: number; mean: number; ciLow: number | null; ciHigh: number | null };
  changePercent: number | null;
  p: number | null;
  pAdjusted: number | null;
  significance: Exclude<Significance, 'all-failed'>;
  classification: Classification;
}

/** A point in one run only. */
export interface OneSidedPoint extends PointKey {
  stats: SideStats;
}

/** The whole curve of one environment, test and series: how far B sits from A overall. */
export interface CurveDiff {
  environment: string;
  test: TestName;
  series: string;
  parameter: Parameter;
  commonPoints: number;
  onlyInA: number;
  onlyInB: number;
  /** Mean of the per-point relative changes, in percent. */
  meanChangePercent: number | null;
  minChangePercent: number | null;
  maxChangePercent: number | null;
  /**
   * Signed area between the curves, trapezoid rule over the common points' x values:
   * integral of (B - A) dx, in (10^6 bits/s) x (parameter unit, bytes). Needs 2 common points.
   */
  signedArea: number | null;
  /** signedArea / integral of A dx, in percent: the curve's overall shift, weighted by x spacing. */
  areaChangePercent: number | null;
  improved: number;
  regressed: number;
  unchanged: number;
  undecided: number;
}

export interface ClaimChange {
  id: string;
  text: string;
  /** The verdict with its qualifier, e.g. "inconclusive (kvm not judged: TCG)"; null when the claim is absent. */
  a: string | null;
  b: string | null;
}

export interface DiffSummary {
  /** Points measured in both runs. */
  compared: number;
  improved: number;
  regressed: number;
  unchanged: number;
  undecided: number;
  significant: number;
  /** Points tested with Welch's test: the size of the Holm family. */
  tested: number;
  added: number;
  removed: number;
  /** The CPU cost per gigabyte at the points both runs recorded it; absent when none did. */
  cpu?: { compared: number; tested: number; improved: number; regressed: number; unchanged: number; undecided: number };
  /** Up to 5 common points with the largest absolute change, largest first. */
  largest: {
    environment: string;
    test: TestName;
    series: string;
    parameter: Parameter;
    value: number;
    changePercent: number;
    classification: Classification;
  }[];
}

export interface RunDiff {
  format: 'virtnet-diff';
  formatVersion: number;
  options: DiffOptions;
  a: RunRef;
  b: RunRef;
  /** Listed first by every formatter: they explain most result changes. */
  manifestDifferences: ManifestDifference[];
  summary: DiffSummary;
  curves: CurveDiff[];
  points: PointDiff[];
  /** Points in B only. */
  added: OneSidedPoint[];
  /** Points in A only. */
  removed: OneSidedPoint[];
  /** Null when a side has no verdicts: claims were not compared. */
  claimChanges: ClaimChange[] | null;
}

// ---------------------------------------------------------------- statistics helpers

// Holm's step-down adjustment lives with the other statistics (core/stats.ts); re-exported for callers of the diff.
export { holmAdjust };

/** Relative change in percent, or null when A is 0 (no finite ratio). */
export function changePercent(a: number, b: number): number | null {
  if (a === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  return ((b - a) / Math.abs(a)) * 100;
}

/** Trapezoid integral of ys over xs (sorted ascending); null with fewer than 2 points. */
export function trapezoid(xs: readonly number[], ys: readonly number[]): number | null {
  if (xs.length < 2) return null;
  let s = 0;
  for (let i = 1; i < xs.length; i++) s += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return s;
}

/** An interval from netperf's -I/-i result for one replicate: achieved full width in percent of the mean. */
interface Interval {
  low: number;
  high: number;
}

function sideStats(p: PointSummary): SideStats {
  const t = p.throughput;
  return {
    n: t.n,
    mean: t.n > 0 ? t.mean : null,
    stdev: t.n > 0 ? t.stdev : null,
    ciLow: t.ciLow,
    ciHigh: t.ciHigh,
    failed: p.failed,
    okRate: p.okRate,
  };
}

/**
 * The interval a side gives for its mean when it has too few replicates for Welch's test: with 2+
 * replicates the Student-t interval, with 1 netperf's own interval (if the plan asked for one).
 */
function sideInterval(point: PointSummary, records: readonly MeasurementRecord[]): Interval | null {
  if (point.throughput.n >= 2 && point.throughput.ciLow !== null && point.throughput.ciHigh !== null)
    return { low: point.throughput.ciLow, high: point.throughput.ciHigh };
  if (point.throughput.n !== 1) return null;
  const record = records.find((r) => r.status === 'ok' && r.metrics !== null);
  const c = record?.metrics?.confidence;
  if (!record || !c || !(c.achievedWidth >= 0)) return null;
  const value = record.metrics!.throughputMbps;
  const half = (value * c.achievedWidth) / 200;
  return { low: value - half, high: value + half };
}

// ---------------------------------------------------------------- manifests

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function compare(out: ManifestDifference[], category: DifferenceCategory, field: string, a: unknown, b: unknown): void {
  const ta = text(a);
  const tb = text(b);
  if (ta !== tb) out.push({ category, field, a: ta, b: tb });
}

function keysOf(...objects: (Record<string, unknown> | null | undefined)[]): string[] {
  return [...new Set(objects.flatMap((o) => (o ? Object.keys(o) : [])))].sort();
}

/** Hardware facts of a host; hostname included, since the same name on different runs means the same machine. */
const HOST_FIELDS: [keyof NonNullable<Manifest['hosts']['client']>, DifferenceCategory][] = [
  ['hostname', 'hardware'],
  ['cpuModel', 'hardware'],
  ['cores', 'hardware'],
  ['memoryBytes', 'hardware'],
  ['virtualizationFlags', 'hardware'],
  ['kernel', 'kernel'],
  ['distribution', 'versions'],
  ['netperfVersion', 'versions'],
];

/**
 * Environment details that differ on every run and say nothing of its configuration: its own process
 * and container ids, log paths, start and build times (the noise a reader would have to skip).
 */
const PER_RUN_DETAILS = new Set([
  'pid',
  'qemuPid',
  'container',
  'consoleLog',
  'imageBuildSeconds',
  'imageBuildReason',
  'bootSeconds',
  'containerStartSeconds',
  'guestBuild',
  'cpuCgroup',
]);

/** A host's memory as the kernel reports it moves by a few MB between boots of one machine: compared in whole GiB. */
function memoryGiB(bytes: unknown): string | null {
  return typeof bytes === 'number' && Number.isFinite(bytes) ? `${Math.round(bytes / 2 ** 30)} GiB` : text(bytes);
}

const PLAN_FIELDS = [
  'name',
  'testLengthSeconds',
  'replicates',
  'warmupSeconds',
  'confidence',
  'order',
  'ports',
  'ipVersion',
  'retries',
] as const;

/**
 * Every configuration difference between two manifests that can move results: plan, environments,
 * testbed link, accelerators, versions, kernel, hardware, sysctls. Not compared: run ids, times,
 * sessions, startup and boot times, per-run process and container ids and log paths (PER_RUN_DETAILS:
 * they differ on every run), memory below a GiB, and git
 * (shown in the run header).
 */
export function manifestDifferences(a: Manifest, b: Manifest): ManifestDifference[] {
  const out: ManifestDifference[] = [];
  compare(out, 'run', 'status', a.status, b.status);
  compare(out, 'plan', 'planSource', a.planSource, b.planSource);
  for (const f of PLAN_FIELDS) compare(out, 'plan', `plan.${f}`, a.plan?.[f], b.plan?.[f]);
  const sweepKey = (s: Manifest['plan']['sweeps'][number]) => `${s.test}/${s.series}`;
  const sweepsA = new Map((a.plan?.sweeps ?? []).map((s) => [sweepKey(s), s]));
  const sweepsB = new Map((b.plan?.sweeps ?? []).map((s) => [sweepKey(s), s]));
  for (const key of [...new Set([...sweepsA.keys(), ...sweepsB.keys()])].sort())
    compare(out, 'plan', `plan.sweeps[${key}]`, sweepsA.get(key), sweepsB.get(key));
  compare(out, 'environments', 'environments', a.environments, b.environments);
  // Another runner pair is other machines (null: the embedded testbed, or a run from before pairs).
  compare(out, 'hardware', 'runnerPair', a.runnerPair ?? null, b.runnerPair ?? null);
  for (const env of keysOf(a.environmentErrors, b.environmentErrors))
    compare(out, 'run', `environmentErrors.${env}`, own(a.environmentErrors, env), own(b.environmentErrors, env));
  // A run recorded before the delay line existed had none: absent reads as 0, not as a difference.
  const linkA = (a.link ? { oneWayDelayMicroseconds: 0, ...a.link } : {}) as unknown as Record<string, unknown>;
  const linkB = (b.link ? { oneWayDelayMicroseconds: 0, ...b.link } : {}) as unknown as Record<string, unknown>;
  if ((a.link === null) !== (b.link === null)) compare(out, 'testbed', 'link', a.link, b.link);
  else for (const k of keysOf(linkA, linkB)) compare(out, 'testbed', `link.${k}`, own(linkA, k), own(linkB, k));
  for (const env of keysOf(a.environmentDescriptions, b.environmentDescriptions)) {
    const da = own(a.environmentDescriptions, env);
    const db = own(b.environmentDescriptions, env);
    if (!da || !db) continue; // an environment in one run only: already in "environments"
    compare(out, 'accelerator', `environmentDescriptions.${env}.accelerator`, da.accelerator, db.accelerator);
    // A variant's base and options are its configuration (a run from before variants had none).
    compare(out, 'environments', `environmentDescriptions.${env}.variant.base`, da.variant?.base, db.variant?.base);
    for (const k of keysOf(da.variant?.options ?? {}, db.variant?.options ?? {}))
      compare(
        out,
        'environments',
        `environmentDescriptions.${env}.variant.options.${k}`,
        own(da.variant?.options ?? {}, k),
        own(db.variant?.options ?? {}, k),
      );
    compare(out, 'versions', `environmentDescriptions.${env}.summary`, da.summary, db.summary);
    for (const k of keysOf(da.details, db.details))
      if (!PER_RUN_DETAILS.has(k))
        compare(out, 'versions', `environmentDescriptions.${env}.details.${k}`, own(da.details, k), own(db.details, k));
  }
  for (const role of ['client', 'server'] as const) {
    const ha = a.hosts?.[role];
    const hb = b.hosts?.[role];
    if (!ha || !hb) {
      if (!ha !== !hb) compare(out, 'hardware', `hosts.${role}`, ha ? 'recorded' : null, hb ? 'recorded' : null);
      continue;
    }
    for (const [field, category] of HOST_FIELDS) {
      if (field === 'memoryBytes')
        compare(out, category, `hosts.${role}.memory`, memoryGiB(ha[field]), memoryGiB(hb[field]));
      else compare(out, category, `hosts.${role}.${field}`, ha[field], hb[field]);
    }
    for (const k of keysOf(ha.sysctls, hb.sysctls))
      compare(out, 'sysctls', `hosts.${role}.sysctls.${k}`, own(ha.sysctls, k), own(hb.sysctls, k));
  }
  return out;
}

// ---------------------------------------------------------------- the diff

function runRef(input: DiffInput): RunRef {
  const m = input.manifest;
  return {
    label: input.label,
    runId: m.runId,
    commit: m.git?.commit ?? null,
    branch: m.git?.branch ?? null,
    subject: m.git?.subject ?? null,
    createdAt: m.createdAt,
    status: m.status,
    plan: m.plan?.name ?? '?',
    environments: [...m.environments],
  };
}

function keyOf(p: PointKey): string {
  return `${p.environment}|${p.pointId}`;
}

function pointKey(p: PointSummary): PointKey {
  return {
    environment: p.environment,
    test: p.test,
    series: p.series,
    parameter: p.parameter,
    value: p.value,
    pointId: p.pointId,
  };
}

function compareKeys(x: PointKey, y: PointKey): number {
  return (
    x.environment.localeCompare(y.environment) ||
    x.test.localeCompare(y.test) ||
    x.series.localeCompare(y.series) ||
    x.value - y.value
  );
}

/** The CPU cost of a point in both runs, before the correction (Welch p still raw); null unless both recorded it. */
function compareCpu(pa: PointSummary, pb: PointSummary, options: DiffOptions): CpuPointDiff | null {
  const ca = pa.cpuPerGigabyte;
  const cb = pb.cpuPerGigabyte;
  if (ca === undefined || cb === undefined) return null;
  const side = (c: typeof ca) => ({
    n: c.summary.n,
    mean: c.summary.mean,
    ciLow: c.summary.ciLow,
    ciHigh: c.summary.ciHigh,
  });
  const change = changePercent(ca.summary.mean, cb.summary.mean);
  const bigEnough =
    change === null ? ca.summary.mean !== cb.summary.mean : Math.abs(change) >= options.thresholdPercent;
  const testable = ca.samples.length >= 2 && cb.samples.length >= 2;
  const p = testable ? welchTTest(ca.samples, cb.samples).p : null;
  return {
    a: side(ca),
    b: side(cb),
    changePercent: change,
    p,
    pAdjusted: p,
    significance: testable ? 'not-significant' : 'too-few-replicates',
    classification: testable || !bigEnough ? 'unchanged' : 'undecided',
  };
}

/** Decides one common point before the multiple-comparison correction (Welch p still raw). */
function comparePoint(
  pa: PointSummary,
  pb: PointSummary,
  recordsA: readonly MeasurementRecord[],
  recordsB: readonly MeasurementRecord[],
  options: DiffOptions,
): PointDiff {
  const a = sideStats(pa);
  const b = sideStats(pb);
  const base = { ...pointKey(pb), a, b, changePercent: null, method: null, p: null, pAdjusted: null };
  if (a.n === 0 || b.n === 0) {
    // Every replicate failed on a side: no throughput to compare. Losing a point that worked is a
    // regression (and gaining one an improvement), whatever the statistics.
    if (a.n === 0 && b.n === 0)
      return {
        ...base,
        significance: 'all-failed',
        classification: 'undecided',
        note: 'every replicate failed in both runs',
      };
    return a.n === 0
      ? {
          ...base,
          significance: 'all-failed',
          classification: 'improved',
          note: `every replicate failed in A (${a.failed}); B measured ${b.n}`,
        }
      : {
          ...base,
          significance: 'all-failed',
          classification: 'regressed',
          note: `every replicate failed in B (${b.failed}); A measured ${a.n}`,
        };
  }
  const change = changePercent(a.mean!, b.mean!);
  const bigEnough = change === null ? a.mean !== b.mean : Math.abs(change) >= options.thresholdPercent;
  const direction: Classification = b.mean! > a.mean! ? 'improved' : 'regressed';
  if (a.n >= 2 && b.n >= 2) {
    const w = welchTTest(pa.samples, pb.samples);
    // Classification waits for the correction; see diffRuns.
    return {
      ...base,
      changePercent: change,
      method: 'welch',
      p: w.p,
      pAdjusted: w.p,
      significance: 'not-significant',
      classification: 'unchanged',
      note: w.note,
    };
  }
  const ia = sideInterval(pa, recordsA);
  const ib = sideInterval(pb, recordsB);
  if (ia && ib) {
    const separate = ia.high < ib.low || ib.high < ia.low;
    return {
      ...base,
      changePercent: change,
      method: 'netperf-confidence',
      significance: separate ? 'significant' : 'not-significant',
      classification: separate && bigEnough ? direction : 'unchanged',
      note: `${Math.min(a.n, b.n)} replicate on a side: decided by netperf's own confidence intervals (${separate ? 'disjoint' : 'overlapping'})`,
    };
  }
  // Cannot test. Below the threshold the change does not count either way, so it is "unchanged".
  return {
    ...base,
    changePercent: change,
    significance: 'too-few-replicates',
    classification: bigEnough ? 'undecided' : 'unchanged',
    note: `too few replicates (${a.n} and ${b.n}; Welch's test needs 2 each) and no netperf confidence interval`,
  };
}

function oneSided(p: PointSummary): OneSidedPoint {
  return { ...pointKey(p), stats: sideStats(p) };
}

function curveDiffs(
  points: readonly PointDiff[],
  added: readonly OneSidedPoint[],
  removed: readonly OneSidedPoint[],
): CurveDiff[] {
  const curveKey = (p: PointKey) => `${p.environment}|${p.test}|${p.series}`;
  const keys = new Map<string, PointKey>();
  for (const p of [...points, ...added, ...removed]) if (!keys.has(curveKey(p))) keys.set(curveKey(p), p);
  const curves: CurveDiff[] = [];
  for (const [key, first] of keys) {
    const mine = points.filter((p) => curveKey(p) === key).sort((x, y) => x.value - y.value);
    const both = mine.filter((p) => p.a.mean !== null && p.b.mean !== null);
    const changes = both.map((p) => p.changePercent).filter((c): c is number => c !== null);
    const xs = both.map((p) => p.value);
    const areaA = trapezoid(
      xs,
      both.map((p) => p.a.mean!),
    );
    const signedArea = trapezoid(
      xs,
      both.map((p) => p.b.mean! - p.a.mean!),
    );
    const count = (c: Classification) => mine.filter((p) => p.classification === c).length;
    curves.push({
      environment: first.environment,
      test: first.test,
      series: first.series,
      parameter: first.parameter,
      commonPoints: mine.length,
      onlyInA: removed.filter((p) => curveKey(p) === key).length,
      onlyInB: added.filter((p) => curveKey(p) === key).length,
      meanChangePercent: changes.length ? changes.reduce((s, c) => s + c, 0) / changes.length : null,
      minChangePercent: changes.length ? Math.min(...changes) : null,
      maxChangePercent: changes.length ? Math.max(...changes) : null,
      signedArea,
      areaChangePercent: signedArea !== null && areaA !== null && areaA !== 0 ? (signedArea / areaA) * 100 : null,
      improved: count('improved'),
      regressed: count('regressed'),
      unchanged: count('unchanged'),
      undecided: count('undecided'),
    });
  }
  return curves.sort(
    (x, y) =>
      x.environment.localeCompare(y.environment) || x.test.localeCompare(y.test) || x.series.localeCompare(y.series),
  );
}

const label = (c: ClaimVerdict | undefined) => (c ? (c.qualifier ? `${c.verdict} (${c.qualifier})` : c.verdict) : null);

function claimChanges(
  a: readonly ClaimVerdict[] | undefined,
  b: readonly ClaimVerdict[] | undefined,
): ClaimChange[] | null {
  if (!a || !b) return null;
  const byA = new Map(a.map((c) => [c.id, c]));
  const byB = new Map(b.map((c) => [c.id, c]));
  const ids = [...new Set([...byA.keys(), ...byB.keys()])].sort();
  return (
    ids
      // A change is a change of verdict (or a claim only one side has); the qualifier, which names
      // each environment's state, is shown with it but shifts with noise on its own.
      .filter((id) => byA.get(id)?.verdict !== byB.get(id)?.verdict)
      .map((id) => ({ id, text: (byB.get(id) ?? byA.get(id))!.text, a: label(byA.get(id)), b: label(byB.get(id)) }))
  );
}

export function diffRuns(inputA: DiffInput, inputB: DiffInput, options: DiffOptions = DEFAULT_DIFF_OPTIONS): RunDiff {
  validateDiffOptions(options);
  const summariesA = new Map(summarizePoints(inputA.records).map((p) => [keyOf(p), p]));
  const summariesB = new Map(summarizePoints(inputB.records).map((p) => [keyOf(p), p]));
  const groupsA = recordsByPoint(inputA.records);
  const groupsB = recordsByPoint(inputB.records);

  const points: PointDiff[] = [];
  const added: OneSidedPoint[] = [];
  const removed: OneSidedPoint[] = [];
  for (const [key, pa] of summariesA) {
    const pb = summariesB.get(key);
    if (!pb) {
      removed.push(oneSided(pa));
      continue;
    }
    const point = comparePoint(pa, pb, groupsA.get(key) ?? [], groupsB.get(key) ?? [], options);
    const cpu = compareCpu(pa, pb, options);
    points.push(cpu === null ? point : { ...point, cpu });
  }
  for (const [key, pb] of summariesB) if (!summariesA.has(key)) added.push(oneSided(pb));

  // The Welch-tested points form one family for the correction.
  const tested = points.filter((p) => p.method === 'welch' && p.p !== null);
  const adjusted = options.correction === 'holm' ? holmAdjust(tested.map((p) => p.p!)) : tested.map((p) => p.p!);
  tested.forEach((p, i) => {
    p.pAdjusted = adjusted[i]!;
    const significant = p.pAdjusted < options.alpha;
    p.significance = significant ? 'significant' : 'not-significant';
    const change = p.changePercent;
    const bigEnough = change === null ? p.a.mean !== p.b.mean : Math.abs(change) >= options.thresholdPercent;
    p.classification = significant && bigEnough ? (p.b.mean! > p.a.mean! ? 'improved' : 'regressed') : 'unchanged';
  });

  // The CPU cost: a family of its own, so it never moves the throughput verdicts; lower is better.
  const cpuTested = points.map((p) => p.cpu).filter((c): c is CpuPointDiff => c !== undefined && c.p !== null);
  const cpuAdjusted =
    options.correction === 'holm' ? holmAdjust(cpuTested.map((c) => c.p!)) : cpuTested.map((c) => c.p!);
  cpuTested.forEach((c, i) => {
    c.pAdjusted = cpuAdjusted[i]!;
    const significant = c.pAdjusted < options.alpha;
    c.significance = significant ? 'significant' : 'not-significant';
    const bigEnough =
      c.changePercent === null ? c.a.mean !== c.b.mean : Math.abs(c.changePercent) >= options.thresholdPercent;
    c.classification = significant && bigEnough ? (c.b.mean < c.a.mean ? 'improved' : 'regressed') : 'unchanged';
  });
  const cpuPoints = points.map((p) => p.cpu).filter((c): c is CpuPointDiff => c !== undefined);
  const cpuCount = (c: Classification) => cpuPoints.filter((x) => x.classification === c).length;
  const cpuSummary =
    cpuPoints.length === 0
      ? {}
      : {
          cpu: {
            compared: cpuPoints.length,
            tested: cpuTested.length,
            improved: cpuCount('improved'),
            regressed: cpuCount('regressed'),
            unchanged: cpuCount('unchanged'),
            undecided: cpuCount('undecided'),
          },
        };

  points.sort(compareKeys);
  added.sort(compareKeys);
  removed.sort(compareKeys);
  const count = (c: Classification) => points.filter((p) => p.classification === c).length;
  const largest = points
    .filter((p) => p.changePercent !== null)
    .sort((x, y) => Math.abs(y.changePercent!) - Math.abs(x.changePercent!) || compareKeys(x, y))
    .slice(0, 5)
    .map((p) => ({
      environment: p.environment,
      test: p.test,
      series: p.series,
      parameter: p.parameter,
      value: p.value,
      changePercent: p.changePercent!,
      classification: p.classification,
    }));

  return {
    format: 'virtnet-diff',
    formatVersion: DIFF_FORMAT_VERSION,
    options: { ...options },
    a: runRef(inputA),
    b: runRef(inputB),
    manifestDifferences: manifestDifferences(inputA.manifest, inputB.manifest),
    summary: {
      compared: points.length,
      improved: count('improved'),
      regressed: count('regressed'),
      unchanged: count('unchanged'),
      undecided: count('undecided'),
      significant: points.filter((p) => p.significance === 'significant').length,
      tested: tested.length,
      added: added.length,
      removed: removed.length,
      ...cpuSummary,
      largest,
    },
    curves: curveDiffs(points, added, removed),
    points,
    added,
    removed,
    claimChanges: claimChanges(inputA.verdicts, inputB.verdicts),
  };
}

export function hasRegression(diff: RunDiff): boolean {
  return diff.summary.regressed > 0;
}
