// The fields every claim kind builds its schema from (ids, environments, byte ranges, the paper's
// intervals), and the fields all kinds share. Pure: zod schemas only.

import { z } from 'zod';
import { TESTS } from '../../plan/plan.ts';

export const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected an id of lower-case letters, digits and dashes');
export const environment = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'expected an environment name such as native, docker, kvm or osv');
export const environments = z.array(environment).min(1);
export const bytes = z.number().int().nonnegative();
/** [from, to] in bytes of the swept size, both included. */
export const range = z
  .tuple([bytes, bytes])
  .refine(([from, to]) => from <= to, 'expected [from, to] with from <= to')
  .describe('[from, to] in bytes of the swept size, both included');
export const fraction = z.number().gt(0).lt(1);
/**
 * [low, high]: the interval the paper's number implies, in the metric's unit; high null when the
 * paper bounds it only from below ("above", "at least").
 */
export const interval = z
  .tuple([z.number(), z.number().nullable()])
  .refine(([low, high]) => high === null || low < high, 'expected [low, high] with low < high, or [low, null]')
  .describe("[low, high]: the interval the paper's words imply; high null when it bounds only from below");

export const METRICS = ['throughput', 'relativeThroughput', 'okRate'] as const;
export type Metric = (typeof METRICS)[number];
export type Interval = [number, number | null];

/** A claim about every part ("in every environment", "above both") or about some part ("at some point"). */
export const QUANTIFIERS = ['every', 'some'] as const;
export type Quantifier = (typeof QUANTIFIERS)[number];

export const common = {
  id,
  text: z.string().min(1).describe("The claim in the paper's words"),
  section: z.string().min(1).describe('Where the paper makes it: section and figure'),
  test: z.enum(TESTS),
  note: z
    .string()
    .min(1)
    .optional()
    .describe('Why a number was read the way it was, or what else the paper says on it'),
  contradicts: z.array(id).min(1).optional().describe('Ids of claims of the paper that say the opposite'),
  otherReading: z
    .strictObject({
      reading: z
        .string()
        .min(1)
        .describe('The other reading, in words (e.g. "over 2000-5000 B, where Fig. 4b\'s curves part")'),
      fields: z
        .record(z.string(), z.unknown())
        .describe(
          'The claim\'s fields as that reading sets them (e.g. {"range": [2000, 5000]}); the claim with them must be valid',
        ),
    })
    .optional()
    .describe("Another defensible reading of the paper's words: judged too, its verdict shown where it differs"),
  quantifier: z
    .enum(QUANTIFIERS)
    .optional()
    .describe(
      "The claim's shape. every (the default): it holds when every part holds, and one part shown to fail on an environment that can be judged refutes it. some: one part shown to hold supports it, and only every part shown to fail refutes it",
    ),
};

/** One series of the plan (a sweep's `series`), when the paper gives numbers per series; absent: every series of the test. */
export const series = z
  .string()
  .min(1)
  .optional()
  .describe(
    "One series of the plan (a sweep's series, e.g. from-100) when the paper gives numbers per series; absent: every series of the test",
  );
