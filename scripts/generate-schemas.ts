// JSON Schema files generated from the zod schemas, so editors complete and check the JSON files
// that reference them with "$schema". `node scripts/generate-schemas.ts` rewrites them;
// scripts/generate-schemas.unit.test.ts fails when one is stale.

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { planSchema } from '../actions/lib/plan/plan.ts';
import { ClaimsFileSchema } from '../actions/lib/analyse/claims/schema.ts';
import { variantsFileSchema } from '../env/variants.ts';
import { runnerPairsSchema } from '../actions/lib/measure/runner-pairs.ts';

export interface GeneratedSchema {
  /** Where the file goes, relative to the repository. */
  file: string;
  title: string;
  schema: z.ZodType;
}

/** Every generated schema: one line each. */
export const GENERATED_SCHEMAS: readonly GeneratedSchema[] = [
  { file: 'env/plans/plan.schema.json', title: 'virtnet sweep plan', schema: planSchema },
  {
    file: 'env/variants.schema.json',
    title: 'virtnet environment variants: named environments, each a base environment with options',
    schema: variantsFileSchema,
  },
  {
    file: '.github/runner-pairs.schema.json',
    title: 'virtnet runner pairs: the self-hosted runner pairs that measure, one run each',
    schema: runnerPairsSchema,
  },
  {
    file: 'env/plans/claims.schema.json',
    title: "virtnet claims file: the paper's claims and how each is judged",
    schema: ClaimsFileSchema,
  },
];

export const REPO = resolve(import.meta.dirname, '..');

/** The file's text: the schema of what a file may hold (defaults optional), pretty-printed. */
export function renderSchema(entry: GeneratedSchema): string {
  const { $schema, ...rest } = z.toJSONSchema(entry.schema, { io: 'input', target: 'draft-2020-12' });
  const document = {
    $schema,
    $comment: 'Generated from the zod schema by `node scripts/generate-schemas.ts`: do not edit.',
    title: entry.title,
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

if (import.meta.main) {
  for (const entry of GENERATED_SCHEMAS) {
    writeFileSync(join(REPO, entry.file), renderSchema(entry));
    console.log(`wrote ${entry.file}`);
  }
}
