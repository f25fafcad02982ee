// What one kind of claim is: its schema, the environments a claim of it needs, its judging rule
// and that rule in words. Each kind lives in its own file under kinds/; kinds.ts is the one table
// of them, from which the claims file's schema and the dispatch are made.

import type { z } from 'zod';
import type { PointSummary } from '../aggregate.ts';
import type { Part, RuleContext } from './rules.ts';

export interface ClaimKind<S extends z.ZodObject<{ kind: z.ZodLiteral<string> }>> {
  schema: S;
  /** The environments a claim needs. */
  environments: (c: z.infer<S>) => string[];
  /** The claim's parts, each with its p-values, on the run's points. */
  judge: (c: z.infer<S>, points: readonly PointSummary[], present: ReadonlySet<string>, ctx: RuleContext) => Part[];
  /** How a claim is judged, in words, from its parameters (shown beside the verdict). */
  describe: (c: z.infer<S>, alpha: number) => string;
}

/** Types a kind's functions by its schema. */
export function defineKind<S extends z.ZodObject<{ kind: z.ZodLiteral<string> }>>(kind: ClaimKind<S>): ClaimKind<S> {
  return kind;
}
