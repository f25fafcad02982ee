// The paper's claims, judged on a run: supported, refuted or inconclusive, with the numbers behind
// each verdict. The claims are data (env/plans/paper-claims.json); this module validates them and
// applies the judging rule of each kind. Pure: the claims file is parsed by the caller or bundled.

import type { PointSummary } from './aggregate.ts';
import { summarizePoints } from './aggregate.ts';
import { BASELINE, compareRange, signedAreas, environmentsOf, relativeThroughput, type Metric, type RangeComparison, MIN_REPLICATES_TO_DECIDE } from './analysis.ts';
import type { TestName } from '../plan/plan.ts';
import type { Manifest, MeasurementRecord } from '../measure/records.ts';
import { mean, stdev, studentTQuantile, welchTTest } from '../core/stats.ts';
import paperClaimsFile from '../../../env/plans/paper-claims.json' with { type: 'json' };

export type Verdict = 'supported' | 'refuted' | 'inconclusive';

interface ClaimBase {
  id: string;
  text: string;
  section: string;
  test: TestName;
  judged: string;
}

export interface CompareClaim extends ClaimBase {
  kind: 'compare';
  range: [number, number];
  metric: Metric;
  /** Every environment in `above` is above every one in `below`; or each in `order` above the next. */
  above?: string[];
  below?: string[];
  order?: string[];
  environments?: string[];
  /** Smallest mean difference that counts (10^6 bits/s, or a fraction for okRate). */
  margin: number;
}

export interface UnstableClaim extends ClaimBase {
  kind: 'unstable';
  range: [number, number];
  environment: string;
  baseline: string;
  minimumDrop: number;
}

export interface ConvergeClaim extends ClaimBase {
  kind: 'converge';
  range: [number, number];
  environments: string[];
  baseline: string;
  tolerance: number;
}

export interface DropAtClaim extends ClaimBase {
  kind: 'drop-at';
  at: number;
  environments: string[];
  minimumDrop: number;
}

export type Claim = CompareClaim | UnstableClaim | ConvergeClaim | DropAtClaim;

export interface ClaimsFile {
  formatVersion: number;
  alpha: number;
  claims: Claim[];
}

export interface ClaimResult {
  id: string;
  text: string;
  section: string;
  verdict: Verdict;
  /** The numbers behind the verdict, in one or a few sentences. */
  evidence: string;
  /** How the claim is judged (from the claims file). */
  judged: string;
  /** Environments the claim needs that the run lacks. */
  missing: string[];
}

export class ClaimsFormatError extends Error {
  override name = 'ClaimsFormatError';
}

const KINDS = ['compare', 'unstable', 'converge', 'drop-at'];

/** Validates a parsed claims file; every problem names the claim and field. */
export function validateClaims(value: unknown, source = 'paper-claims.json'): ClaimsFile {
  const problems: string[] = [];
  const v = value as Partial<ClaimsFile> | null;
  if (typeof v !== 'object' || v === null || !Array.isArray(v.claims)) throw new ClaimsFormatError(`${source}: expected an object with a "claims" list`);
  if (typeof v.alpha !== 'number' || !(v.alpha > 0 && v.alpha < 1)) problems.push(`alpha: expected a number in (0, 1), got ${JSON.stringify(v.alpha)}`);
  const ids = new Set<string>();
  (v.claims as unknown as Record<string, unknown>[]).forEach((c, i) => {
    const where = `claims[${i}]${typeof c?.id === 'string' ? ` (${c.id})` : ''}`;
    for (const f of ['id', 'text', 'section', 'judged', 'test']) if (typeof c?.[f] !== 'string') problems.push(`${where}.${f}: expected a string`);
    if (typeof c?.id === 'string') {
      if (ids.has(c.id)) problems.push(`${where}.id: duplicate id`);
      ids.add(c.id);
    }
    if (!KINDS.includes(c?.kind as string)) problems.push(`${where}.kind: expected one of ${KINDS.join(', ')}, got ${JSON.stringify(c?.kind)}`);
    if (c?.kind !== 'drop-at') {
      const r = c?.range as unknown;
      if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'number' || typeof r[1] !== 'number' || r[0] > r[1]) problems.push(`${where}.range: expected [from, to] with from <= to`);
    }
    if (c?.kind === 'compare') {
      const hasPairs = Array.isArray(c.above) && Array.isArray(c.below);
      if (!hasPairs && !(Array.isArray(c.order) && c.order.length >= 2)) problems.push(`${where}: a compare claim needs "above" and "below", or an "order" of at least 2`);
      if (typeof c.margin !== 'number' || c.margin < 0) problems.push(`${where}.margin: expected a number >= 0`);
      if (c.metric !== 'throughput' && c.metric !== 'okRate') problems.push(`${where}.metric: expected throughput or okRate`);
    }
  });
  if (problems.length > 0) throw new ClaimsFormatError(`${source} is invalid:\n  - ${problems.join('\n  - ')}`);
  return v as ClaimsFile;
}

export const PAPER_CLAIMS: ClaimsFile = validateClaims(paperClaimsFile);

/** What a loaded run gives: its manifest and records, or summaries already computed. */
export interface ClaimsInput {
  manifest?: Partial<Pick<Manifest, 'environments' | 'environmentErrors'>> | null;
  records?: readonly MeasurementRecord[];
  /** A LoadedRun (run-dir.ts) can be passed as it is. */
  results?: { records: readonly MeasurementRecord[] };
  points?: readonly PointSummary[];
}

export function claimEnvironments(c: Claim): string[] {
  switch (c.kind) {
    case 'compare':
      return [...new Set([...(c.environments ?? []), ...(c.above ?? []), ...(c.below ?? []), ...(c.order ?? [])])];
    case 'unstable':
      return [c.environment, c.baseline];
    case 'converge':
      return [c.baseline, ...c.environments];
    case 'drop-at':
      return c.environments;
  }
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const fmtP = (p: number) => (p < 1e-4 ? '< 0.0001' : `= ${p.toPrecision(2)}`);

/** Judges every claim on one run. Claims needing an environment the run lacks are never "refuted" by its absence. */
export function judgeClaims(input: ClaimsInput, claimsFile: ClaimsFile = PAPER_CLAIMS): ClaimResult[] {
  const points = input.points ?? summarizePoints(input.records ?? input.results?.records ?? []);
  const present = new Set(environmentsOf(points));
  return claimsFile.claims.map((claim) => {
    const missing = claimEnvironments(claim).filter((e) => !present.has(e));
    const base = { id: claim.id, text: claim.text, section: claim.section, judged: claim.judged, missing };
    const judged = judgeOne(claim, points, present, claimsFile.alpha);
    let { verdict, evidence } = judged;
    if (missing.length > 0 && verdict === 'supported') verdict = 'inconclusive';
    const why = (e: string) => (input.manifest?.environmentErrors?.[e] ? `${e} (it failed: ${input.manifest.environmentErrors[e]})` : e);
    if (missing.length > 0) evidence = `Not measured in this run: ${missing.map(why).join(', ')}. ${evidence}`.trim();
    return { ...base, verdict, evidence };
  });
}

interface Judgement {
  verdict: Verdict;
  evidence: string;
}

function judgeOne(claim: Claim, points: readonly PointSummary[], present: Set<string>, alpha: number): Judgement {
  switch (claim.kind) {
    case 'compare':
      return judgeCompare(claim, points, present);
    case 'unstable':
      return judgeUnstable(claim, points, present, alpha);
    case 'converge':
      return judgeConverge(claim, points, present);
    case 'drop-at':
      return judgeDropAt(claim, points, present);
  }
}

function comparePairs(c: CompareClaim): [string, string][] {
  if (c.order) return c.order.slice(1).map((b, i) => [c.order![i]!, b]);
  return (c.above ?? []).flatMap((a) => (c.below ?? []).map((b) => [a, b] as [string, string]));
}

/** Supported: interval above 0 and mean >= margin. Refuted: interval wholly below the margin. */
export function pairVerdict(r: RangeComparison, margin: number): Verdict {
  if (r.low === null || r.high === null || r.minReplicates < MIN_REPLICATES_TO_DECIDE) return 'inconclusive';
  if (r.low > 0 && r.meanDifference >= margin) return 'supported';
  if (r.high < margin) return 'refuted';
  return 'inconclusive';
}

function combine(verdicts: Verdict[]): Verdict {
  if (verdicts.includes('refuted')) return 'refuted';
  if (verdicts.length > 0 && verdicts.every((v) => v === 'supported')) return 'supported';
  return 'inconclusive';
}

function judgeCompare(c: CompareClaim, points: readonly PointSummary[], present: Set<string>): Judgement {
  const unit = c.metric === 'okRate' ? '' : ' x 10^6 bits/s';
  const digits = c.metric === 'okRate' ? 4 : 2;
  const verdicts: Verdict[] = [];
  const parts: string[] = [];
  for (const [a, b] of comparePairs(c)) {
    if (!present.has(a) || !present.has(b)) continue;
    const r = compareRange(points, c.test, a, b, c.range[0], c.range[1], c.metric);
    const v = pairVerdict(r, c.margin);
    verdicts.push(v);
    const interval = r.low === null ? 'no interval' : `95% CI [${fmt(r.low, digits)}, ${fmt(r.high!, digits)}]`;
    parts.push(`${a} - ${b}: mean ${fmt(r.meanDifference, digits)}${unit} over ${r.points} points, ${interval}${r.p === null ? '' : `, p ${fmtP(r.p)}`} (${v})${r.note ? `; ${r.note}` : ''}`);
  }
  if (parts.length === 0) return { verdict: 'inconclusive', evidence: 'No pair of the claim\'s environments was measured.' };
  let areas = '';
  if (c.order && c.metric === 'throughput') {
    // The Discussion ranks by signed area against native: show those areas beside the tests.
    const list = signedAreas(points, c.test, c.range[0], c.range[1]).filter((a) => c.order!.includes(a.environment));
    if (list.length > 0) areas = ` Signed areas vs native over ${c.range[0]}-${c.range[1]} B (trapezoid rule): ${list.map((a) => `${a.environment} ${fmt(a.area / 1000, 1)}`).join(', ')} x 10^6 bits/s x kB.`;
  }
  return { verdict: combine(verdicts), evidence: `${parts.join('. ')}. Margin ${c.margin}${unit}.${areas}` };
}

interface Drop {
  series: string;
  from: number;
  to: number;
  before: number;
  after: number;
  p: number | null;
}

function significantDrops(points: readonly PointSummary[], env: string, c: UnstableClaim, alpha: number): { drops: Drop[]; apparent: number; minReplicates: number } {
  const mine = points.filter((p) => p.environment === env && p.test === c.test && p.value >= c.range[0] && p.value <= c.range[1] && p.throughput.n > 0);
  const bySeries = new Map<string, PointSummary[]>();
  for (const p of mine) bySeries.set(p.series, [...(bySeries.get(p.series) ?? []), p]);
  const drops: Drop[] = [];
  // Falls of the mean by at least the minimum, significant or not: a curve with none is steady.
  let apparent = 0;
  let minReplicates = mine.length === 0 ? 0 : Number.POSITIVE_INFINITY;
  for (const [series, ps] of [...bySeries.entries()].sort()) {
    ps.sort((a, b) => a.value - b.value);
    for (const p of ps) minReplicates = Math.min(minReplicates, p.throughput.n);
    for (let i = 1; i < ps.length; i++) {
      const prev = ps[i - 1]!;
      const next = ps[i]!;
      const fall = (prev.throughput.mean - next.throughput.mean) / prev.throughput.mean;
      if (!(fall >= c.minimumDrop)) continue;
      apparent++;
      const w = welchTTest(prev.samples, next.samples);
      if (w.p !== null && w.p < alpha) drops.push({ series, from: prev.value, to: next.value, before: prev.throughput.mean, after: next.throughput.mean, p: w.p });
    }
  }
  return { drops, apparent, minReplicates };
}

function judgeUnstable(c: UnstableClaim, points: readonly PointSummary[], present: Set<string>, alpha: number): Judgement {
  if (!present.has(c.environment)) return { verdict: 'inconclusive', evidence: '' };
  const env = significantDrops(points, c.environment, c, alpha);
  const base = present.has(c.baseline) ? significantDrops(points, c.baseline, c, alpha) : null;
  const list = env.drops.slice(0, 6).map((d) => `${d.from}->${d.to} B (${d.series}): ${fmt(d.before)} -> ${fmt(d.after)}, p ${fmtP(d.p!)}`);
  const evidence = `${c.environment}: ${env.drops.length} significant drops of at least ${c.minimumDrop * 100}%${list.length ? ` (${list.join('; ')}${env.drops.length > list.length ? '; ...' : ''})` : ''}; ${c.baseline}: ${base ? base.drops.length : 'not measured'}.`;
  if (env.minReplicates < MIN_REPLICATES_TO_DECIDE) return { verdict: 'inconclusive', evidence: `${evidence} Too few replicates (${env.minReplicates}) to test a drop.` };
  if (env.drops.length > 0 && base && env.drops.length > base.drops.length) return { verdict: 'supported', evidence };
  // Refuted only by a steady curve: falls of the mean that the replicates' spread leaves
  // insignificant are noise we cannot see through, not evidence of stability.
  if (env.apparent === 0) return { verdict: 'refuted', evidence };
  return { verdict: 'inconclusive', evidence: env.drops.length === 0 ? `${evidence} ${env.apparent} falls of the mean of at least ${c.minimumDrop * 100}%, none significant with these replicates.` : evidence };
}

function judgeConverge(c: ConvergeClaim, points: readonly PointSummary[], present: Set<string>): Judgement {
  if (!present.has(c.baseline)) return { verdict: 'inconclusive', evidence: '' };
  const relative = relativeThroughput(points, c.baseline).filter((r) => r.test === c.test && r.x >= c.range[0] && r.x <= c.range[1]);
  const verdicts: Verdict[] = [];
  const parts: string[] = [];
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const devs = relative.filter((r) => r.environment === env).map((r) => r.relative - 1);
    if (devs.length < 2) {
      verdicts.push('inconclusive');
      parts.push(`${env}: ${devs.length} shared points beyond ${c.range[0]} B, too few`);
      continue;
    }
    const fewest = Math.min(...points.filter((p) => (p.environment === env || p.environment === c.baseline) && p.test === c.test && p.value >= c.range[0] && p.value <= c.range[1]).map((p) => p.throughput.n));
    if (fewest < MIN_REPLICATES_TO_DECIDE) {
      verdicts.push('inconclusive');
      parts.push(`${env}: too few replicates (${fewest} at some point; need at least ${MIN_REPLICATES_TO_DECIDE})`);
      continue;
    }
    const m = mean(devs);
    const half = studentTQuantile(0.975, devs.length - 1) * (stdev(devs) / Math.sqrt(devs.length));
    const low = m - half;
    const high = m + half;
    const v: Verdict = low >= -c.tolerance && high <= c.tolerance ? 'supported' : high < -c.tolerance || low > c.tolerance ? 'refuted' : 'inconclusive';
    verdicts.push(v);
    parts.push(`${env}: mean relative throughput ${fmt(1 + m, 3)} over ${devs.length} points, 95% CI [${fmt(1 + low, 3)}, ${fmt(1 + high, 3)}] (${v})`);
  }
  if (parts.length === 0) return { verdict: 'inconclusive', evidence: `Only ${c.baseline} was measured: nothing to converge.` };
  return { verdict: combine(verdicts), evidence: `${parts.join('. ')}. Tolerance +-${c.tolerance * 100}%.` };
}

function judgeDropAt(c: DropAtClaim, points: readonly PointSummary[], present: Set<string>): Judgement {
  const verdicts: Verdict[] = [];
  const parts: string[] = [];
  for (const env of c.environments) {
    if (!present.has(env)) continue;
    const mine = points.filter((p) => p.environment === env && p.test === c.test && p.throughput.n > 0).sort((a, b) => a.value - b.value);
    const before = mine.filter((p) => p.value < c.at).at(-1);
    const after = mine.find((p) => p.value > c.at);
    if (!before || !after || !(before.throughput.mean > 0)) {
      verdicts.push('inconclusive');
      parts.push(`${env}: no points on both sides of ${c.at} B`);
      continue;
    }
    const ratio = after.throughput.mean / before.throughput.mean;
    const hb = before.throughput.ciHalfWidth;
    const ha = after.throughput.ciHalfWidth;
    const half = hb === null || ha === null || !(after.throughput.mean > 0) ? null : ratio * Math.hypot(hb / before.throughput.mean, ha / after.throughput.mean);
    const drop = 1 - ratio;
    let v: Verdict = 'inconclusive';
    if (half !== null) v = drop - half >= c.minimumDrop ? 'supported' : drop + half < c.minimumDrop ? 'refuted' : 'inconclusive';
    verdicts.push(v);
    parts.push(`${env}: ${before.value} B ${fmt(before.throughput.mean)} -> ${after.value} B ${fmt(after.throughput.mean)} x 10^6 bits/s, a drop of ${fmt(drop * 100, 1)}%${half === null ? ' (too few replicates for an interval)' : ` +- ${fmt(half * 100, 1)}%`} (${v})`);
  }
  if (parts.length === 0) return { verdict: 'inconclusive', evidence: 'None of the environments was measured.' };
  return { verdict: combine(verdicts), evidence: `${parts.join('. ')}. A sharp drop is at least ${c.minimumDrop * 100}%.` };
}

export { BASELINE };

/** A run as one side of a diff, with the paper's claims judged on it so the diff lists the verdicts that changed. */
export function judgedSide(run: { label: string; manifest: Manifest; records: readonly MeasurementRecord[] }): { label: string; manifest: Manifest; records: readonly MeasurementRecord[]; verdicts: ClaimResult[] } {
  return { label: run.label, manifest: run.manifest, records: run.records, verdicts: judgeClaims({ manifest: run.manifest, records: run.records }) };
}
