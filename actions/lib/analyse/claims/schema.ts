// The claims file's format: a strict zod schema, a discriminated union on `kind`, so a misspelled or
// missing field is an error naming the file, the claim, the field and the value rather than a claim
// silently judged on a default. Types derive from the schema. Pure: parsing, no file I/O (file.ts).

import { z } from 'zod';
import type { PointSummary } from '../aggregate.ts';
import { KINDS } from './kinds.ts';
import type { Part, RuleContext } from './rules.ts';

export const CLAIMS_FORMAT_VERSION = 2;

export { METRICS, QUANTIFIERS, type Interval, type Metric, type Quantifier } from './fields.ts';

/** The kinds' schemas as a tuple, in the table's order (a mapped type over a type parameter keeps the tuple). */
type SchemasOf<T extends readonly unknown[]> = {
  -readonly [I in keyof T]: T[I] extends { schema: infer S } ? S : never;
};
const KIND_SCHEMAS = KINDS.map((k) => k.schema) as unknown as SchemasOf<typeof KINDS>;

export const ClaimSchema = z.discriminatedUnion('kind', KIND_SCHEMAS);

export const ClaimsFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    $comment: z.string().optional(),
    formatVersion: z.literal(CLAIMS_FORMAT_VERSION),
    alpha: z
      .number()
      .gt(0)
      .lt(0.5)
      .describe(
        "Significance level of every rule; Holm's correction across the parts of each claim keeps it for the claim as a whole",
      ),
    notes: z
      .array(z.string().min(1))
      .optional()
      .describe('What the reader should know about the claims as a whole (where the paper contradicts itself)'),
    claims: z.array(ClaimSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.claims.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['claims', i, 'id'], message: 'duplicate id' });
      seen.add(c.id);
    });
    file.claims.forEach((c, i) => {
      if (!c.otherReading) return;
      const read = ClaimSchema.safeParse(otherReadingOf(c));
      if (!read.success)
        for (const issue of read.error.issues)
          ctx.addIssue({
            code: 'custom',
            path: [
              'claims',
              i,
              'otherReading',
              'fields',
              ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k)),
            ],
            message: `the claim read this way is not valid: ${issue.message}`,
          });
    });
    file.claims.forEach((c, i) => {
      (c.contradicts ?? []).forEach((other, j) => {
        if (!seen.has(other))
          ctx.addIssue({ code: 'custom', path: ['claims', i, 'contradicts', j], message: 'no claim has this id' });
      });
    });
  });

export type ClaimsFile = z.infer<typeof ClaimsFileSchema>;

/** The claim as its other reading sets it (unparsed: parse with ClaimSchema). */
export function otherReadingOf(c: { otherReading?: { fields: Record<string, unknown> } }): unknown {
  return { ...c, ...c.otherReading?.fields, otherReading: undefined };
}

/** The claim as its other reading sets it, or null when it has none. */
export function otherReadingClaim(c: Claim): Claim | null {
  return c.otherReading ? ClaimSchema.parse(otherReadingOf(c)) : null;
}
export type Claim = z.infer<typeof ClaimSchema>;
export type Kind = Claim['kind'];
export type ClaimOf<K extends Kind> = Extract<Claim, { kind: K }>;
export type { CompareClaim } from './kinds/compare.ts';
export type { ConvergeClaim } from './kinds/converge.ts';
export type { EquivalentClaim } from './kinds/equivalent.ts';
export type { EveryPointClaim } from './kinds/every-point.ts';
export type { FadesClaim } from './kinds/fades.ts';
export type { ReplicatesClaim } from './kinds/replicates-agree.ts';
export type { RiseClaim } from './kinds/rise.ts';
export type { StepClaim } from './kinds/step.ts';
export type { UnstableClaim } from './kinds/unstable.ts';

export const CLAIM_KINDS: readonly Kind[] = KIND_SCHEMAS.map((s) => s.shape.kind.value);

export class ClaimsFormatError extends Error {
  override name = 'ClaimsFormatError';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
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
      return issue.keys
        .map(
          (key) =>
            `${where(root, [...issue.path, key])}: unknown field (value ${show(valueAt(root, [...issue.path, key]))})${fields}`,
        )
        .join('\n');
    }
    const value = valueAt(root, issue.path);
    if (issue.code === 'invalid_union' && 'discriminator' in issue)
      return `${where(root, issue.path)}: got ${show(value)}, expected one of ${CLAIM_KINDS.join(', ')}`;
    const message =
      value === undefined && issue.code === 'invalid_type'
        ? `missing: expected ${issue.expected}`
        : issue.message.replace(/^Invalid input: /, '');
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
  return kindOf(c).environments(c);
}

/** The table's entry for a claim's kind, typed for any claim (each entry is typed for its own). */
export function kindOf(c: Claim): {
  environments: (c: Claim) => string[];
  judge: (c: Claim, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext) => Part[];
  describe: (c: Claim, alpha: number) => string;
} {
  const kind = KINDS.find((k) => k.schema.shape.kind.value === c.kind);
  if (!kind) throw new Error(`no claim kind ${JSON.stringify(c.kind)}: expected one of ${CLAIM_KINDS.join(', ')}`);
  return kind as never;
}
