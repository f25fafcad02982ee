// The paper's claims judged on a run: supported, refuted or inconclusive, each with the numbers
// behind it and the conditions it was judged under (the testbed, the accelerators). Pure: the
// claims file is loaded by the caller (file.ts) and passed in.
//
// Rules common to every kind (each kind's own rule: kinds/*.ts, listed in kinds.ts):
// - A part that involves an environment that ran under TCG (QEMU's software emulation) is shown but
//   not judged: an emulator's numbers say nothing about the paper's KVM. It stays out of the Holm
//   families, so it neither dilutes nor decides the others.
// - By the claim's shape: a claim about every part ("in every environment", "above both") is
//   refuted by a part shown to fail on any environment that can be judged, and supported only when
//   every part, on every environment it names, is shown to hold; a claim about some part is
//   supported by one part shown to hold, and refuted only when every part is shown to fail.
//   Otherwise inconclusive, with a qualifier per environment ("holds for native and docker; kvm and
//   osv not judged: TCG").
// - A claim that needs an environment the run lacks is never decided by the absence: a present
//   counterexample still refutes a claim about every part, a present example still supports one
//   about some part.
// - Holm's correction across the judged parts of one claim, at the file's alpha, for both the parts
//   that must hold and the parts that may fail.

import type { PointSummary } from '../aggregate.ts';
import { summarizePoints } from '../aggregate.ts';
import { environmentsOf } from '../analysis.ts';
import { holmAdjust } from '../../core/stats.ts';
import type { Manifest, MeasurementRecord } from '../../measure/records.ts';
import {
  claimEnvironments,
  kindOf,
  otherReadingClaim,
  type Claim,
  type ClaimsFile,
  type Quantifier,
} from './schema.ts';
import { fmtP, type Part } from './rules.ts';
import { claimLimits, nativeTcpRegime, regimeFigures, regimeLimit } from './limits.ts';

export type Verdict = 'supported' | 'refuted' | 'inconclusive';

export interface ClaimResult {
  id: string;
  text: string;
  section: string;
  kind: Claim['kind'];
  /** every: all parts must hold, one failing refutes; some: one holding supports. */
  quantifier: Quantifier;
  verdict: Verdict;
  /** Per environment, when some were not judged (TCG) or not measured: "holds for native and docker; kvm and osv not judged: TCG"; else null. */
  qualifier: string | null;
  /** Inconclusive only because parts ran under TCG: the judged parts say nothing against the claim. */
  onlyTcg: boolean;
  /** The finding in plain words, the statistics after: what decided the verdict, or what stood in its way. */
  finding: string;
  /** The numbers behind the verdict: each part with its outcome. */
  evidence: string;
  /** How the claim is judged, in words (from its kind and parameters). */
  judged: string;
  /** What the verdict was judged under: the link, the round trips, the loss model and the accelerators of the claim's environments. */
  conditions: string;
  /** Where a condition of this run makes the paper's effect impossible to see. */
  limits: string[];
  /** Environments the claim needs that the run lacks. */
  missing: string[];
  /** Why a number was read the way it was, from the claims file. */
  note: string | null;
  /** Claims of the paper that say the opposite. */
  contradicts: string[];
  /** The claim's other defensible reading, judged the same way: its verdict and finding; null when it has none. */
  otherReading: { reading: string; verdict: Verdict; qualifier: string | null; finding: string } | null;
  /** Each part's outcome after Holm's correction (parts with a TCG guest in a family of their own, marked and not judged). */
  parts: PartOutcome[];
}

export interface PartOutcome {
  label: string;
  outcome: 'holds' | 'fails' | 'undecided' | 'untested';
  tcg: boolean;
}

/** "inconclusive (holds for native; osv not judged: TCG)", or the bare verdict. */
export function verdictLabel(c: Pick<ClaimResult, 'verdict' | 'qualifier'>): string {
  return c.qualifier ? `${c.verdict} (${c.qualifier})` : c.verdict;
}

/** How many claims got each verdict, and how many inconclusive ones only for TCG. */
export interface VerdictCounts {
  supported: number;
  refuted: number;
  inconclusive: number;
  onlyTcg: number;
}

/** Counted claims: a verdict, and whether an inconclusive one is so only for TCG (absent in analyses older than that field). */
type Counted = Pick<ClaimResult, 'verdict'> & { onlyTcg?: boolean };

export function countVerdicts(claims: readonly Counted[]): VerdictCounts {
  const n = (v: Verdict) => claims.filter((c) => c.verdict === v).length;
  return {
    supported: n('supported'),
    refuted: n('refuted'),
    inconclusive: n('inconclusive'),
    onlyTcg: claims.filter((c) => c.verdict === 'inconclusive' && c.onlyTcg === true).length,
  };
}

/** The counts in one line, for the terminal, the report, the job summary and the README. */
export function countsLine(claims: readonly Counted[]): string {
  const c = countVerdicts(claims);
  const tcg = c.onlyTcg === 0 ? '' : ` (${c.onlyTcg} of them only because a guest ran under TCG)`;
  return `${claims.length} claim${claims.length === 1 ? '' : 's'}: ${c.supported} supported, ${c.refuted} refuted, ${c.inconclusive} inconclusive${tcg}`;
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

/** The loss model: the embedded testbed loses a packet only when a queue overflows. */
function lossCondition(input: RunFacts): string | null {
  const link = input.manifest?.link;
  if (!link) return null;
  return link.kind === 'external'
    ? 'losses as the real link has them'
    : 'no loss emulated (a packet is lost only when a queue overflows)';
}

/** Each environment's measured round trip (TCP_RR), where the manifest has it. */
function roundTripCondition(input: RunFacts, environments: readonly string[]): string | null {
  const described = input.manifest?.environmentDescriptions ?? {};
  const said = environments.flatMap((e) => {
    const us = described[e]?.roundTrip?.tcpMicroseconds;
    return typeof us === 'number' ? [`${e} ${Math.round(us)} us`] : [];
  });
  return said.length === 0 ? null : `round trip (TCP_RR) ${said.join(', ')}`;
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
  const envs = claimEnvironments(claim);
  return [
    testbedCondition(input),
    lossCondition(input),
    roundTripCondition(input, envs),
    acceleratorCondition(input, envs),
  ]
    .filter((s) => s !== null)
    .join('; ');
}

/** Parts listed in a finding, per outcome, before "and N more". */
const MAX_IN_FINDING = 6;

/** Parts that can only refute (single points of a pooled test) are listed up to this many. */
const MAX_LISTED_REFUTING = 5;

interface Decided {
  verdict: Verdict;
  /** Inconclusive, and the judged parts would let the TCG parts decide. */
  onlyTcg: boolean;
  evidence: string;
  finding: string;
  parts: PartOutcome[];
}

type Outcome =
  | { kind: 'holds' | 'fails'; p: number; pair: null }
  | { kind: 'undecided' | 'untested'; p: null; pair: readonly [number | undefined, number | undefined] };

/** Holm across one family of parts, for holding and failing; each part's outcome. */
function outcomesOf(parts: readonly Part[], alpha: number): Outcome[] {
  const index = (pick: (p: Part) => number | null, include: (p: Part) => boolean) => {
    const list = parts
      .map((p, i) => ({ i, p: include(p) ? pick(p) : null }))
      .filter((x): x is { i: number; p: number } => x.p !== null);
    const adjusted = holmAdjust(list.map((x) => x.p));
    return new Map(list.map((x, k) => [x.i, adjusted[k]!]));
  };
  const support = index(
    (p) => p.pSupport,
    (p) => !p.onlyRefutes,
  );
  const refute = index(
    (p) => p.pRefute,
    () => true,
  );
  return parts.map((p, i) => {
    const s = support.get(i);
    const r = refute.get(i);
    if (r !== undefined && r < alpha) return { kind: 'fails', p: r, pair: null };
    if (s !== undefined && s < alpha) return { kind: 'holds', p: s, pair: null };
    return { kind: p.note ? 'untested' : 'undecided', p: null, pair: [s, r] };
  });
}

const listed = (names: readonly string[]) =>
  names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

/**
 * Decides a claim from its parts by its shape. TCG parts are a family of their own, shown but never
 * deciding; every judged part's outcome is in the evidence.
 */
export function decide(
  parts: readonly Part[],
  alpha: number,
  tcg: ReadonlySet<string>,
  quantifier: Quantifier = 'every',
  missing: readonly string[] = [],
): Decided {
  if (parts.length === 0)
    return {
      verdict: 'inconclusive',
      onlyTcg: false,
      finding: "Nothing to compare: none of the claim's comparisons has its environments in this run.",
      evidence: "Nothing to compare: none of the claim's comparisons has its environments in this run.",
      parts: [],
    };
  const emulated = (p: Part) => p.environments.some((e) => tcg.has(e));
  const judgedIdx = parts.map((p, i) => ({ p, i })).filter(({ p }) => !emulated(p));
  const tcgIdx = parts.map((p, i) => ({ p, i })).filter(({ p }) => emulated(p));
  const outcome: Outcome[] = new Array(parts.length);
  for (const family of [judgedIdx, tcgIdx])
    outcomesOf(
      family.map((x) => x.p),
      alpha,
    ).forEach((o, k) => (outcome[family[k]!.i] = o));
  const judged = judgedIdx.map(({ p, i }) => ({ p, o: outcome[i]! }));
  const mustHold = judged.filter(({ p }) => !p.onlyRefutes);
  const anyTcg = tcgIdx.length > 0;
  let verdict: Verdict = 'inconclusive';
  let onlyTcg = false;
  if (quantifier === 'every') {
    if (judged.some(({ o }) => o.kind === 'fails')) verdict = 'refuted';
    else if (!anyTcg && missing.length === 0 && mustHold.length > 0 && mustHold.every(({ o }) => o.kind === 'holds'))
      verdict = 'supported';
    else onlyTcg = anyTcg && missing.length === 0 && mustHold.every(({ o }) => o.kind === 'holds');
  } else {
    if (mustHold.some(({ o }) => o.kind === 'holds')) verdict = 'supported';
    else if (!anyTcg && missing.length === 0 && mustHold.length > 0 && mustHold.every(({ o }) => o.kind === 'fails'))
      verdict = 'refuted';
    else onlyTcg = anyTcg && missing.length === 0 && mustHold.every(({ o }) => o.kind === 'fails');
  }
  // Parts that can only refute are listed when they do, the first few of them (a long list of
  // quiet points says nothing).
  const shown = parts.map((p, i) => ({ p, o: outcome[i]! })).filter(({ p, o }) => !p.onlyRefutes || o.kind === 'fails');
  const refutingOnly = shown.filter(({ p }) => p.onlyRefutes);
  const hidden = refutingOnly.slice(MAX_LISTED_REFUTING);
  const decisive = (o: Outcome) =>
    quantifier === 'every'
      ? o.kind === 'fails' || verdict === 'supported'
      : o.kind === 'holds' || verdict === 'refuted';
  const lines = shown
    .filter((x) => !hidden.includes(x))
    .map(({ p, o }) => {
      const p1 = (v: number | undefined) => (v === undefined ? 'none' : fmtP(v));
      let tag: string;
      if (emulated(p))
        tag = `TCG: not judged; on its own it ${o.kind === 'holds' ? 'would hold' : o.kind === 'fails' ? 'would fail' : o.kind === 'untested' ? 'cannot be tested' : 'is undecided'}`;
      else if (o.kind === 'untested') tag = 'cannot be tested';
      else if (o.kind === 'undecided')
        tag = `undecided: shown neither to hold (Holm-adjusted p ${p1(o.pair[0])}) nor to fail (${p1(o.pair[1])})${p.underpowered ? `; ${p.underpowered}` : ''}`;
      else
        tag = `${o.kind === 'holds' ? 'holds' : 'fails'}, Holm-adjusted p ${fmtP(o.p!)}${decisive(o) ? '' : quantifier === 'every' ? '' : ', not enough on its own'}`;
      return `${p.text} (${tag})`;
    });
  if (hidden.length > 0) lines.push(`and ${hidden.length} more like these`);
  const partOutcomes = parts.map((p, i) => ({ label: p.label, outcome: outcome[i]!.kind, tcg: emulated(p) }));
  // The finding: the parts that decided the verdict, else what each judged part showed.
  // Parts that can only refute say something only when they do.
  const by = (kind: Outcome['kind']) =>
    judged
      .filter(({ p, o }) => o.kind === kind && (!p.onlyRefutes || kind === 'fails'))
      .map(({ p }) => `${p.finding ?? p.text}${kind === 'undecided' && p.underpowered ? ` (${p.underpowered})` : ''}`);
  // A long list (every step of a rise) is cut after a few, saying how many more (analysis.json has each part).
  const few = (list: readonly string[]) =>
    list.length <= MAX_IN_FINDING
      ? list.join('; ')
      : `${list.slice(0, MAX_IN_FINDING).join('; ')}; and ${list.length - MAX_IN_FINDING} more parts like these (each part's outcome: analysis.json)`;
  let finding: string;
  if (verdict === 'refuted')
    finding =
      quantifier === 'every' ? `Shown to fail: ${few(by('fails'))}.` : `Every part shown to fail: ${few(by('fails'))}.`;
  else if (verdict === 'supported')
    finding =
      quantifier === 'every' ? `Every part shown to hold: ${few(by('holds'))}.` : `Shown to hold: ${few(by('holds'))}.`;
  else {
    const said = (['holds', 'fails', 'undecided', 'untested'] as const)
      .map((k) => ({ k, list: by(k) }))
      .filter(({ list }) => list.length > 0)
      .map(
        ({ k, list }) =>
          `${k === 'holds' ? 'Holds' : k === 'fails' ? 'Fails' : k === 'undecided' ? 'Undecided' : 'Cannot be tested'}: ${few(list)}.`,
      );
    // The TCG parts' own numbers, said as such: not judged, but not hidden either.
    const tcgEnvs = [...new Set(tcgIdx.flatMap(({ p }) => p.environments.filter((e) => tcg.has(e))))].sort();
    const tcgSaid = tcgIdx
      .filter(({ p, i }) => !p.onlyRefutes || outcome[i]!.kind === 'fails')
      .map(({ p }) => p.finding ?? p.text);
    if (tcgEnvs.length > 0) said.push(`Not judged (${listed(tcgEnvs)} under TCG): ${few(tcgSaid)}.`);
    if (missing.length > 0) said.push(`Not measured: ${listed(missing)}.`);
    finding = said.join(' ');
  }
  return { verdict, onlyTcg, finding, evidence: `${lines.join('. ')}.`, parts: partOutcomes };
}

/** Per environment of the claim: what its judged parts showed, or why it was not judged. */
function qualifierOf(
  envs: readonly string[],
  parts: readonly Part[],
  outcomes: readonly PartOutcome[],
  tcg: ReadonlySet<string>,
  missing: readonly string[],
): string {
  const groups = new Map<string, string[]>();
  const add = (status: string, env: string) => groups.set(status, [...(groups.get(status) ?? []), env]);
  // The reference every pair shares (native in "none beats native", the baseline of a convergence)
  // takes its partners' outcomes: it is said through them ("fails for docker"), not on its own.
  const reference = (env: string) =>
    parts.length > 1 && parts.every((p) => p.environments.length > 1 && p.environments.includes(env));
  for (const env of envs) {
    if (missing.includes(env)) add('not measured', env);
    else if (tcg.has(env)) add('not judged: TCG', env);
    else if (!reference(env)) {
      const mine = outcomes.filter((o, i) => !o.tcg && parts[i]!.environments.includes(env) && !parts[i]!.onlyRefutes);
      const failing = outcomes.some((o, i) => !o.tcg && parts[i]!.environments.includes(env) && o.outcome === 'fails');
      if (failing) add('fails for', env);
      else if (mine.length > 0 && mine.every((o) => o.outcome === 'holds')) add('holds for', env);
      else if (mine.some((o) => o.outcome === 'undecided')) add('undecided for', env);
      else if (mine.length > 0) add('cannot be tested for', env);
    }
  }
  const order = ['holds for', 'fails for', 'undecided for', 'cannot be tested for', 'not judged: TCG', 'not measured'];
  return order
    .filter((s) => groups.has(s))
    .map((s) => (s.endsWith(' for') ? `${s} ${listed(groups.get(s)!)}` : `${listed(groups.get(s)!)} ${s}`))
    .join('; ');
}

/** Judges every claim on one run. */
export function judgeClaims(input: ClaimsInput, claimsFile: ClaimsFile): ClaimResult[] {
  const points = input.points ?? summarizePoints(input.records ?? input.results?.records ?? []);
  return claimsFile.claims.map((claim) => {
    const result = judgeClaim(input, claimsFile.alpha, points, claim);
    const other = otherReadingClaim(claim);
    if (!other) return result;
    const read = judgeClaim(input, claimsFile.alpha, points, other);
    const otherReading = {
      reading: claim.otherReading!.reading,
      verdict: read.verdict,
      qualifier: read.qualifier,
      finding: read.finding,
    };
    const differs = read.verdict !== result.verdict;
    const evidence = differs
      ? `${result.evidence} Read otherwise (${otherReading.reading}): ${verdictLabel(read)}. ${read.evidence}`
      : result.evidence;
    const finding = differs
      ? `${result.finding} Read otherwise (${otherReading.reading}), ${verdictLabel(read)}: ${read.finding}`
      : result.finding;
    return { ...result, evidence, finding, otherReading };
  });
}

function judgeClaim(input: ClaimsInput, alpha: number, points: readonly PointSummary[], claim: Claim): ClaimResult {
  const present = new Set(environmentsOf(points));
  const tcg = new Set(tcgEnvironments(input).filter((e) => present.has(e)));
  const ctx = { alpha, level: 1 - alpha };
  const claimsFile = { alpha };
  {
    const needs = claimEnvironments(claim);
    const missing = needs.filter((e) => !present.has(e));
    const emulated = needs.filter((e) => tcg.has(e));
    const quantifier = claim.quantifier ?? 'every';
    const parts = kindOf(claim).judge(claim, points, present, ctx);
    // An absent environment decides nothing: it cannot complete a claim about every part, nor
    // refute one about some part.
    const decided = decide(parts, claimsFile.alpha, tcg, quantifier, missing);
    const { verdict, onlyTcg } = decided;
    let { evidence } = decided;
    const qualifier =
      emulated.length > 0 || missing.length > 0 ? qualifierOf(needs, parts, decided.parts, tcg, missing) || null : null;
    if (emulated.length > 0)
      evidence = `${listed(emulated)} ran under TCG (QEMU's software emulation), not on KVM as in the paper: ${emulated.length === 1 ? 'its' : 'their'} parts are shown but not judged. ${evidence}`;
    const why = (e: string) =>
      input.manifest?.environmentErrors?.[e] ? `${e} (it failed: ${input.manifest.environmentErrors[e]})` : e;
    if (missing.length > 0) evidence = `Not measured in this run: ${missing.map(why).join(', ')}. ${evidence}`;
    return {
      id: claim.id,
      text: claim.text,
      section: claim.section,
      kind: claim.kind,
      quantifier,
      verdict,
      qualifier,
      onlyTcg: verdict === 'inconclusive' && onlyTcg,
      finding: decided.finding,
      evidence,
      judged: kindOf(claim).describe(claim, claimsFile.alpha),
      conditions: claimConditions(input, claim),
      limits: claimLimits(input, claim, points),
      missing,
      note: claim.note ?? null,
      contradicts: claim.contradicts ?? [],
      otherReading: null,
      parts: decided.parts,
    };
  }
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
  const present = [
    ...(input.manifest?.environments ?? []).filter((e) => measured.includes(e)),
    ...measured.filter((e) => !input.manifest?.environments?.includes(e)),
  ];
  // The claims name the paper's environments; a variant (kvm-e1000 on TCG, say) is measured but judges none.
  const involved = new Set(claimsFile.claims.flatMap((c) => claimEnvironments(c)));
  const tcg = tcgEnvironments(input).filter((e) => present.includes(e) && involved.has(e));
  const canTest: string[] = [];
  const cannotTest: string[] = [];
  const tcgOf = (r: ClaimResult) =>
    claimEnvironments(claimsFile.claims.find((c) => c.id === r.id)!).some((e) => tcg.includes(e));
  const whole = results.filter((r) => r.missing.length === 0 && !tcgOf(r));
  canTest.push(
    `${whole.length} of ${results.length} claims in full: their environments were measured${tcg.length ? ' and none ran under TCG' : ''} (${present.join(', ') || 'none'} measured).`,
  );
  const partly = results.filter((r) => !whole.includes(r) && r.parts.some((p) => !p.tcg && p.outcome !== 'untested'));
  if (partly.length > 0)
    canTest.push(
      `${partly.length} more in part: the parts on environments measured${tcg.length ? ' without TCG' : ''} are judged, and one shown to fail refutes a claim about every part (${partly.map((r) => r.id).join(', ')}).`,
    );
  const missing = [...new Set(results.flatMap((r) => r.missing))];
  for (const e of missing) {
    const n = results.filter((r) => r.missing.includes(e)).length;
    const error = input.manifest?.environmentErrors?.[e];
    cannotTest.push(
      `${n} claim${n === 1 ? '' : 's'} involving ${e}: not measured${error ? ` (it failed: ${error})` : ''}.`,
    );
  }
  for (const e of tcg) {
    const n = results.filter((r) =>
      claimEnvironments(claimsFile.claims.find((c) => c.id === r.id)!).includes(e),
    ).length;
    cannotTest.push(`${n} claim${n === 1 ? '' : 's'} involving ${e}: it ran under TCG (software emulation), not KVM.`);
  }
  const regime = nativeTcpRegime(points);
  if (regime?.lineRate)
    cannotTest.push(
      `The window-limited TCP regime, where the paper's TCP differences live (2000-6000 B): ${regimeFigures(regime)}, so the link is the bottleneck at every socket size, and the TCP claims only test whether the environments differ at line rate.`,
    );
  else if (regime) {
    canTest.push(`The window-limited TCP regime: ${regimeFigures(regime)}.`);
    if (regime.oneStep) cannotTest.push(`The paper's gradual change over 2000-6000 B: ${regimeLimit(regime)}.`);
  }
  const fewest = Math.min(...points.filter((p) => p.throughput.n > 0).map((p) => p.throughput.n));
  if (Number.isFinite(fewest) && fewest < 2)
    cannotTest.push('Any test over replicates: some points have a single replicate.');
  const accelerators = Object.entries(input.manifest?.environmentDescriptions ?? {}).map(
    ([e, d]) => `${e}: ${d?.accelerator === 'tcg' ? 'TCG' : d?.accelerator === 'kvm' ? 'KVM' : 'no hypervisor'}`,
  );
  return {
    conditions: `${testbedCondition(input)}; ${accelerators.join(', ') || 'accelerators not recorded'}`,
    canTest,
    cannotTest,
  };
}

/** The scope as Markdown lines (claims.md, job summaries). */
export function scopeMarkdown(s: ClaimsScope): string {
  return [
    `**Conditions:** ${s.conditions}.`,
    '',
    '**This run can test:**',
    ...s.canTest.map((l) => `- ${l}`),
    '',
    '**This run cannot test:**',
    ...(s.cannotTest.length ? s.cannotTest.map((l) => `- ${l}`) : ['- (nothing this run lacks)']),
    '',
  ].join('\n');
}

/** A run as one side of a diff, with the claims judged on it so the diff lists the verdicts that changed. */
export function judgedSide(
  run: { label: string; manifest: Manifest; records: readonly MeasurementRecord[] },
  claimsFile: ClaimsFile,
): { label: string; manifest: Manifest; records: readonly MeasurementRecord[]; verdicts: ClaimResult[] } {
  return {
    label: run.label,
    manifest: run.manifest,
    records: run.records,
    verdicts: judgeClaims({ manifest: run.manifest, records: run.records }, claimsFile),
  };
}
