// The claims file's format: a strict zod schema, a discriminated union on `kind`, so a misspelled or
// missing field is an error naming the file, the claim, the field and the value rather than a claim
// silently judged on a default. Types derive from the schema. Pure: parsing, no file I/O (file.ts).

import { z } from 'zod';
import { TESTS } from '../../plan/plan.ts';

export const CLAIMS_FORMAT_VERSION = 2;

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected an id of lower-case letters, digits and dashes');
const environment = z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected an environment name such as native, docker, kvm or osv');
const environments = z.array(environment).min(1);
const bytes = z.number().int().nonnegative();
/** [from, to] in bytes of the swept size, both included. */
const range = z.tuple([bytes, bytes]).refine(([from, to]) => from <= to, 'expected [from, to] with from <= to').describe('[from, to] in bytes of the swept size, both included');
const fraction = z.number().gt(0).lt(1);
/**
 * [low, high]: the interval the paper's number implies, in the metric's unit; high null when the
 * paper bounds it only from below ("above", "at least").
 */
const interval = z.tuple([z.number(), z.number().nullable()]).refine(([low, high]) => high === null || low < high, 'expected [low, high] with low < high, or [low, null]').describe('[low, high]: the interval the paper\'s words imply; high null when it bounds only from below');

export const METRICS = ['throughput', 'relativeThroughput', 'okRate'] as const;
export type Metric = (typeof METRICS)[number];

const common = {
  id,
  text: z.string().min(1).describe('The claim in the paper\'s words'),
  section: z.string().min(1).describe('Where the paper makes it: section and figure'),
  test: z.enum(TESTS),
  note: z.string().min(1).optional().describe('Why a number was read the way it was, or what else the paper says on it'),
  contradicts: z.array(id).min(1).optional().describe('Ids of claims of the paper that say the opposite'),
};

/** One series of the plan (a sweep's `series`), when the paper gives numbers per series; absent: every series of the test. */
const series = z.string().min(1).optional().describe('One series of the plan (a sweep\'s series, e.g. from-100) when the paper gives numbers per series; absent: every series of the test');

export const CompareClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('compare'),
  series,
  range,
  metric: z.enum(METRICS),
  above: environments.optional().describe('Every environment in above beats every one in below'),
  below: environments.optional(),
  order: z.array(environment).min(2).optional().describe('Instead of above and below: each environment beats the next'),
  difference: interval.describe('The mean gap over the range (above - below), in the metric\'s unit'),
});

export const EveryPointClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('every-point'),
  series,
  parts: z.array(z.strictObject({ above: environment, below: environment, range })).min(1).describe('At every point of each part\'s range, above beats below'),
  difference: interval.describe('The gap at each point, 10^6 bits/s'),
});

export const StepClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('step'),
  environments,
  steps: z.array(z.strictObject({ series: z.string().min(1), from: bytes, to: bytes })).min(1).describe('The steps of the plan\'s grids that straddle the paper\'s step, each from one point to the next'),
  fall: interval.refine(([low, high]) => low > 0 && low < 1 && (high === null || high < 1), 'expected fractions of the value before the step, between 0 and 1').describe('The fall 1 - after/before, as a fraction'),
});

export const RiseClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('rise'),
  environments,
  series,
  range,
  rise: interval.refine(([low]) => low > -1, 'expected a rise above -1 (last/first - 1)').describe('The rise from the first to the last point, last/first - 1'),
  maximumStepFall: fraction.describe('No step between neighbouring points may fall by more than this fraction ("gradual")'),
});

export const UnstableClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('unstable'),
  environment,
  baseline: environment,
  range,
  spreadRatio: z.number().gt(1).describe('The environment\'s spread around a gradually increasing curve must be at least this many times the baseline\'s'),
});

export const ConvergeClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('converge'),
  environments,
  baseline: environment,
  diverge: range.describe('Where the curves must first be shown to diverge from the baseline\'s'),
  converge: range.describe('Where every point must lie within the tolerance of the baseline'),
  tolerance: fraction.describe('Largest relative deviation from the baseline that counts as converged'),
});

export const EquivalentClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('equivalent'),
  environments: z.array(environment).min(2).describe('Every pair of these is alike'),
  series,
  range,
  metric: z.enum(['throughput', 'okRate']),
  margin: z.union([z.strictObject({ relative: fraction }), z.strictObject({ absolute: z.number().gt(0) })]).describe('How far apart "alike" may be on average over the range: a fraction of the second environment\'s value, or an absolute amount'),
});

export const FadesClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('fades'),
  above: environment,
  below: environments,
  metric: z.enum(['throughput', 'okRate']),
  inside: range.describe('Where the advantage is claimed'),
  outside: range.describe('Where it is claimed to have faded'),
  fade: fraction.describe('Faded: the mean gap outside is less than (1 - fade) times the mean gap inside'),
});

export const ReplicatesClaimSchema = z.strictObject({
  ...common,
  kind: z.literal('replicates-agree'),
  environments,
  maximumSpread: fraction.describe('Largest replicate standard deviation, as a fraction of the point\'s mean, that is "negligible"'),
});

const KIND_SCHEMAS = [CompareClaimSchema, EveryPointClaimSchema, StepClaimSchema, RiseClaimSchema, UnstableClaimSchema, ConvergeClaimSchema, EquivalentClaimSchema, FadesClaimSchema, ReplicatesClaimSchema] as const;

export const ClaimSchema = z.discriminatedUnion('kind', KIND_SCHEMAS).superRefine((c, ctx) => {
  if (c.kind !== 'compare') return;
  const pairs = c.above !== undefined || c.below !== undefined;
  if (pairs && c.order !== undefined) ctx.addIssue({ code: 'custom', path: ['order'], message: 'give either "above" and "below" or "order", not both' });
  else if (pairs && (c.above === undefined || c.below === undefined)) ctx.addIssue({ code: 'custom', path: [c.above === undefined ? 'above' : 'below'], message: 'missing: "above" and "below" go together' });
  else if (!pairs && c.order === undefined) ctx.addIssue({ code: 'custom', path: ['above'], message: 'missing: a compare claim needs "above" and "below", or "order"' });
});

export const ClaimsFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    $comment: z.string().optional(),
    formatVersion: z.literal(CLAIMS_FORMAT_VERSION),
    alpha: z.number().gt(0).lt(0.5).describe('Significance level of every rule; Holm\'s correction across the parts of each claim keeps it for the claim as a whole'),
    notes: z.array(z.string().min(1)).optional().describe('What the reader should know about the claims as a whole (where the paper contradicts itself)'),
    claims: z.array(ClaimSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.claims.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['claims', i, 'id'], message: 'duplicate id' });
      seen.add(c.id);
    });
    file.claims.forEach((c, i) => {
      (c.contradicts ?? []).forEach((other, j) => {
        if (!seen.has(other)) ctx.addIssue({ code: 'custom', path: ['claims', i, 'contradicts', j], message: 'no claim has this id' });
      });
    });
  });

export type ClaimsFile = z.infer<typeof ClaimsFileSchema>;
export type Claim = z.infer<typeof ClaimSchema>;
export type Kind = Claim['kind'];
export type ClaimOf<K extends Kind> = Extract<Claim, { kind: K }>;
export type CompareClaim = ClaimOf<'compare'>;
export type EveryPointClaim = ClaimOf<'every-point'>;
export type StepClaim = ClaimOf<'step'>;
export type RiseClaim = ClaimOf<'rise'>;
export type UnstableClaim = ClaimOf<'unstable'>;
export type ConvergeClaim = ClaimOf<'converge'>;
export type EquivalentClaim = ClaimOf<'equivalent'>;
export type FadesClaim = ClaimOf<'fades'>;
export type ReplicatesClaim = ClaimOf<'replicates-agree'>;
export type Interval = [number, number | null];

export const CLAIM_KINDS: readonly Kind[] = KIND_SCHEMAS.map((s) => s.shape.kind.value);

export class ClaimsFormatError extends Error {
  override name = 'ClaimsFormatError';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** claims[4] (tcp-kvm-unstable).fall[0]: the path a reader can find in the file, with the claim's id. */
function where(root: unknown, path: readonly PropertyKey[]): string {
  let text = '';
  path.forEach((key, i) => {
    text += typeof key === 'number' ? `[${key}]` : `${text ? '.' : ''}${String(key)}`;
    if (i === 1 && path[0] === 'claims') {
      const claimId = (valueAt(root, path.slice(0, 2)) as { id?: unknown } | undefined)?.id;
      if (typeof claimId === 'string') text += ` (${claimId})`;
    }
  });
  return text || '(the file)';
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** One line per problem: where, the value found, what was expected. */
export function formatClaimsIssues(root: unknown, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const kind = (valueAt(root, issue.path) as { kind?: unknown } | undefined)?.kind;
      const schema = KIND_SCHEMAS.find((s) => s.shape.kind.value === kind);
      const fields = schema ? `; a ${String(kind)} claim has ${Object.keys(schema.shape).join(', ')}` : '';
      return issue.keys.map((key) => `${where(root, [...issue.path, key])}: unknown field (value ${show(valueAt(root, [...issue.path, key]))})${fields}`).join('\n');
    }
    const value = valueAt(root, issue.path);
    if (issue.code === 'invalid_union' && 'discriminator' in issue) return `${where(root, issue.path)}: got ${show(value)}, expected one of ${CLAIM_KINDS.join(', ')}`;
    const message = value === undefined && issue.code === 'invalid_type' ? `missing: expected ${issue.expected}` : issue.message.replace(/^Invalid input: /, '');
    return `${where(root, issue.path)}: ${message} (got ${show(value)})`;
  });
}

/** Validates a parsed claims file; every problem names the file, the claim, the field path and the value. */
export function parseClaims(value: unknown, source: string): ClaimsFile {
  const result = ClaimsFileSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = formatClaimsIssues(value, result.error.issues).flatMap((l) => l.split('\n'));
  throw new ClaimsFormatError(`${source} is not a valid claims file:\n  - ${lines.join('\n  - ')}`);
}

/** The environments a claim needs. */
export function claimEnvironments(c: Claim): string[] {
  switch (c.kind) {
    case 'compare':
      return [...new Set([...(c.above ?? []), ...(c.below ?? []), ...(c.order ?? [])])];
    case 'every-point':
      return [...new Set(c.parts.flatMap((p) => [p.above, p.below]))];
    case 'step':
    case 'rise':
    case 'replicates-agree':
    case 'equivalent':
      return [...c.environments];
    case 'unstable':
      return [c.environment, c.baseline];
    case 'converge':
      return [c.baseline, ...c.environments];
    case 'fades':
      return [c.above, ...c.below];
  }
}
