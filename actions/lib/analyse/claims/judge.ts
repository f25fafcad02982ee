// The paper's claims judged on a run: supported, refuted or inconclusive, each with the numbers
// behind it and the conditions it was judged under (the testbed, the accelerators). Pure: the
// claims file is loaded by the caller (file.ts) and passed in.
//
// Rules common to every kind (each kind's own rule: kinds/*.ts, listed in kinds.ts):
// - A claim that involves an environment that ran under TCG (QEMU's software emulation) is
//   "inconclusive (TCG, not KVM)": an emulator's numbers say nothing about the paper's KVM.
// - A claim that needs an environment the run lacks is never supported, and never refuted by the
//   absence; a present counterexample still refutes.
// - Holm's correction across the parts of one claim, at the file's alpha, for both the parts that
//   must hold and the parts that may fail.

import type { PointSummary } from '../aggregate.ts';
import { summarizePoints } from '../aggregate.ts';
import { environmentsOf } from '../analysis.ts';
import { holmAdjust, median } from '../../core/stats.ts';
import type { Manifest, MeasurementRecord } from '../../measure/records.ts';
import { claimEnvironments, kindOf, type Claim, type ClaimsFile } from './schema.ts';
import { fmtP, type Part } from './rules.ts';

export type Verdict = 'supported' | 'refuted' | 'inconclusive';

export const TCG_QUALIFIER = 'TCG, not KVM';

export interface ClaimResult {
  id: string;
  text: string;
  section: string;
  kind: Claim['kind'];
  verdict: Verdict;
  /** Why an inconclusive verdict could not be anything else, when it is a condition of the run ("TCG, not KVM"); else null. */
  qualifier: string | null;
  /** The numbers behind the verdict: each part with its outcome. */
  evidence: string;
  /** How the claim is judged, in words (from its kind and parameters). */
  judged: string;
  /** What the verdict was judged under: the testbed and the accelerators of the claim's environments. */
  conditions: string;
  /** Environments the claim needs that the run lacks. */
  missing: string[];
  /** Why a number was read the way it was, from the claims file. */
  note: string | null;
  /** Claims of the paper that say the opposite. */
  contradicts: string[];
  /** Each part's outcome after Holm's correction (parts with a TCG guest are computed but not judged). */
  parts: PartOutcome[];
}

export interface PartOutcome {
  label: string;
  outcome: 'holds' | 'fails' | 'undecided' | 'untested';
  tcg: boolean;
}

/** "inconclusive (TCG, not KVM)", or the bare verdict. */
export function verdictLabel(c: Pick<ClaimResult, 'verdict' | 'qualifier'>): string {
  return c.qualifier ? `${c.verdict} (${c.qualifier})` : c.verdict;
}

/** What a loaded run gives: its manifest and records, or summaries already computed. */
export interface ClaimsInput {
  manifest?: Partial<Pick<Manifest, 'environments' | 'environmentErrors' | 'environmentDescriptions' | 'link'>> | null;
  records?: readonly MeasurementRecord[];
  /** A LoadedRun (run-dir.ts) can be passed as it is. */
  results?: { records: readonly MeasurementRecord[] };
  points?: readonly PointSummary[];
}

type RunFacts = Pick<ClaimsInput, 'manifest'>;

/** Environments that ran under TCG, from the manifest. */
export function tcgEnvironments(input: RunFacts): string[] {
  return Object.entries(input.manifest?.environmentDescriptions ?? {})
    .filter(([, d]) => d?.accelerator === 'tcg')
    .map(([e]) => e)
    .sort();
}

/** The link: an embedded testbed with its rate and delay, or a real runner pair. */
export function testbedCondition(input: RunFacts): string {
  const link = input.manifest?.link;
  if (!link) return 'link not recorded';
  if (link.kind === 'external') return `a real runner pair (server ${link.serverAddress}; ${link.shaping})`;
  const rate = link.rateMbit ? `${link.rateMbit} Mbit/s shaped veth` : 'unshaped veth';
  const delay = link.oneWayDelayMicroseconds ? `${link.oneWayDelayMicroseconds} us one-way delay` : 'no delay line';
  return `embedded testbed (${rate}, ${delay})`;
}

function acceleratorCondition(input: RunFacts, environments: readonly string[]): string {
  const described = input.manifest?.environmentDescriptions;
  if (!described) return 'accelerators not recorded';
  const said = environments.flatMap((e) => {
    const d = described[e];
    if (!d) return [`${e} not measured`];
    return d.accelerator === 'none' ? [] : [`${e} on ${d.accelerator === 'tcg' ? 'TCG (software emulation)' : 'KVM'}`];
  });
  return said.length === 0 ? 'no guest (no accelerator)' : said.join(', ');
}

export function claimConditions(input: RunFacts, claim: Claim): string {
  return `${testbedCondition(input)}; ${acceleratorCondition(input, claimEnvironments(claim))}`;
}

/** Parts that can only refute (single points of a pooled test) are listed up to this many. */
const MAX_LISTED_REFUTING = 5;

interface Decided {
  verdict: Verdict;
  evidence: string;
  parts: PartOutcome[];
}

/** Holm across the parts, both families; every part's outcome in the evidence. */
export function decide(parts: readonly Part[], alpha: number, tcg: ReadonlySet<string>): Decided {
  if (parts.length === 0) return { verdict: 'inconclusive', evidence: 'Nothing to compare: none of the claim\'s comparisons has its environments in this run.', parts: [] };
  const index = (pick: (p: Part) => number | null, include: (p: Part) => boolean) => {
    const list = parts.map((p, i) => ({ i, p: include(p) ? pick(p) : null })).filter((x): x is { i: number; p: number } => x.p !== null);
    const adjusted = holmAdjust(list.map((x) => x.p));
    return new Map(list.map((x, k) => [x.i, adjusted[k]!]));
  };
  const support = index((p) => p.pSupport, (p) => !p.onlyRefutes);
  const refute = index((p) => p.pRefute, () => true);
  const outcome = parts.map((p, i) => {
    const s = support.get(i);
    const r = refute.get(i);
    if (r !== undefined && r < alpha) return { kind: 'fails' as const, p: r, pair: null };
    if (s !== undefined && s < alpha) return { kind: 'holds' as const, p: s, pair: null };
    return { kind: p.note ? ('untested' as const) : ('undecided' as const), p: null, pair: [s, r] as const };
  });
  const mustHold = parts.map((p, i) => ({ p, o: outcome[i]! })).filter(({ p }) => !p.onlyRefutes);
  let verdict: Verdict = 'inconclusive';
  if (outcome.some((o) => o.kind === 'fails')) verdict = 'refuted';
  else if (mustHold.length > 0 && mustHold.every(({ o }) => o.kind === 'holds')) verdict = 'supported';
  // Parts that can only refute are listed when they do, the first few of them (a long list of
  // quiet points says nothing).
  const shown = parts.map((p, i) => ({ p, o: outcome[i]! })).filter(({ p, o }) => !p.onlyRefutes || o.kind === 'fails');
  const refutingOnly = shown.filter(({ p }) => p.onlyRefutes);
  const hidden = refutingOnly.slice(MAX_LISTED_REFUTING);
  const lines = shown
    .filter((x) => !hidden.includes(x))
    .map(({ p, o }) => {
      const tag = p.environments.some((e) => tcg.has(e))
        ? 'TCG: not judged'
        : o.kind === 'untested'
          ? 'cannot be tested'
          : o.kind === 'undecided'
            ? `undecided: Holm p ${o.pair![0] === undefined ? '-' : fmtP(o.pair![0])} that it holds, ${o.pair![1] === undefined ? '-' : fmtP(o.pair![1])} that it fails`
            : `${o.kind}, Holm p ${fmtP(o.p!)}`;
      return `${p.text} (${tag})`;
    });
  if (hidden.length > 0) lines.push(`and ${hidden.length} more like these`);
  const partOutcomes = parts.map((p, i) => ({ label: p.label, outcome: outcome[i]!.kind, tcg: p.environments.some((e) => tcg.has(e)) }));
  return { verdict, evidence: `${lines.join('. ')}.`, parts: partOutcomes };
}

/** Judges every claim on one run. */
export function judgeClaims(input: ClaimsInput, claimsFile: ClaimsFile): ClaimResult[] {
  const points = input.points ?? summarizePoints(input.records ?? input.results?.records ?? []);
  const present = new Set(environmentsOf(points));
  const tcg = new Set(tcgEnvironments(input).filter((e) => present.has(e)));
  const ctx = { alpha: claimsFile.alpha, level: 1 - claimsFile.alpha };
  return claimsFile.claims.map((claim) => {
    const needs = claimEnvironments(claim);
    const missing = needs.filter((e) => !present.has(e));
    const emulated = needs.filter((e) => tcg.has(e));
    const decided = decide(kindOf(claim).judge(claim, points, present, ctx), claimsFile.alpha, tcg);
    let { verdict, evidence } = decided;
    let qualifier: string | null = null;
    if (missing.length > 0 && verdict === 'supported') verdict = 'inconclusive';
    if (emulated.length > 0) {
      verdict = 'inconclusive';
      qualifier = TCG_QUALIFIER;
      evidence = `${emulated.join(' and ')} ran under TCG (QEMU's software emulation), not KVM: the claim is about KVM, so it is not judged. ${evidence}`;
    }
    const why = (e: string) => (input.manifest?.environmentErrors?.[e] ? `${e} (it failed: ${input.manifest.environmentErrors[e]})` : e);
    if (missing.length > 0) evidence = `Not measured in this run: ${missing.map(why).join(', ')}. ${evidence}`;
    return {
      id: claim.id,
      text: claim.text,
      section: claim.section,
      kind: claim.kind,
      verdict,
      qualifier,
      evidence,
      judged: kindOf(claim).describe(claim, claimsFile.alpha),
      conditions: claimConditions(input, claim),
      missing,
      note: claim.note ?? null,
      contradicts: claim.contradicts ?? [],
      parts: decided.parts,
    };
  });
}

/** What a run can and cannot test, said before its verdicts. */
export interface ClaimsScope {
  /** The testbed and every environment's accelerator. */
  conditions: string;
  canTest: string[];
  cannotTest: string[];
}

/**
 * The run's reach: which claims its environments and accelerators let it judge, and whether its
 * link shows the window-limited TCP regime where the paper's TCP differences live.
 */
export function claimsScope(input: ClaimsInput, claimsFile: ClaimsFile, results: readonly ClaimResult[]): ClaimsScope {
  const points = input.points ?? summarizePoints(input.records ?? input.results?.records ?? []);
  const measured = environmentsOf(points);
  // In the run's own order when it has one.
  const present = [...(input.manifest?.environments ?? []).filter((e) => measured.includes(e)), ...measured.filter((e) => !input.manifest?.environments?.includes(e))];
  // The claims name the paper's environments; a variant (kvm-e1000 on TCG, say) is measured but judges none.
  const involved = new Set(claimsFile.claims.flatMap((c) => claimEnvironments(c)));
  const tcg = tcgEnvironments(input).filter((e) => present.includes(e) && involved.has(e));
  const canTest: string[] = [];
  const cannotTest: string[] = [];
  const judgeable = results.filter((r) => r.missing.length === 0 && r.qualifier === null);
  canTest.push(`${judgeable.length} of ${results.length} claims: their environments were measured${tcg.length ? ' and none ran under TCG' : ''} (${present.join(', ') || 'none'} measured).`);
  const missing = [...new Set(results.flatMap((r) => r.missing))];
  for (const e of missing) {
    const n = results.filter((r) => r.missing.includes(e)).length;
    const error = input.manifest?.environmentErrors?.[e];
    cannotTest.push(`${n} claim${n === 1 ? '' : 's'} involving ${e}: not measured${error ? ` (it failed: ${error})` : ''}.`);
  }
  for (const e of tcg) {
    const n = results.filter((r) => claimEnvironments(claimsFile.claims.find((c) => c.id === r.id)!).includes(e)).length;
    cannotTest.push(`${n} claim${n === 1 ? '' : 's'} involving ${e}: it ran under TCG (software emulation), not KVM.`);
  }
  const native = points.filter((p) => p.environment === 'native' && p.test === 'TCP_STREAM' && p.throughput.n > 0).sort((a, b) => a.value - b.value);
  if (native.length >= 4) {
    const smallest = native[0]!;
    const plateau = median(native.slice(Math.floor((2 * native.length) / 3)).map((p) => p.throughput.mean));
    const share = smallest.throughput.mean / plateau;
    const figures = `native TCP at -s ${smallest.value}: ${smallest.throughput.mean.toFixed(1)} of its ${plateau.toFixed(1)} x 10^6 bits/s plateau (${(share * 100).toFixed(0)}%)`;
    if (share >= 0.95) cannotTest.push(`The window-limited TCP regime, where the paper's TCP differences live (2000-6000 B): ${figures}, so the link is the bottleneck at every socket size, and the TCP claims only test whether the environments differ at line rate.`);
    else canTest.push(`The window-limited TCP regime: ${figures}.`);
  }
  const fewest = Math.min(...points.filter((p) => p.throughput.n > 0).map((p) => p.throughput.n));
  if (Number.isFinite(fewest) && fewest < 2) cannotTest.push('Any test over replicates: some points have a single replicate.');
  const accelerators = Object.entries(input.manifest?.environmentDescriptions ?? {}).map(([e, d]) => `${e}: ${d?.accelerator === 'tcg' ? 'TCG' : d?.accelerator === 'kvm' ? 'KVM' : 'no hypervisor'}`);
  return { conditions: `${testbedCondition(input)}; ${accelerators.join(', ') || 'accelerators not recorded'}`, canTest, cannotTest };
}

/** The scope as Markdown lines (claims.md, job summaries). */
export function scopeMarkdown(s: ClaimsScope): string {
  return [`**Conditions:** ${s.conditions}.`, '', '**This run can test:**', ...s.canTest.map((l) => `- ${l}`), '', '**This run cannot test:**', ...(s.cannotTest.length ? s.cannotTest.map((l) => `- ${l}`) : ['- (nothing this run lacks)']), ''].join('\n');
}

/** A run as one side of a diff, with the claims judged on it so the diff lists the verdicts that changed. */
export function judgedSide(run: { label: string; manifest: Manifest; records: readonly MeasurementRecord[] }, claimsFile: ClaimsFile): { label: string; manifest: Manifest; records: readonly MeasurementRecord[]; verdicts: ClaimResult[] } {
  return { label: run.label, manifest: run.manifest, records: run.records, verdicts: judgeClaims({ manifest: run.manifest, records: run.records }, claimsFile) };
}
