import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_SCHEMAS, renderSchema, REPO } from './generate-schemas.ts';

describe('generated JSON Schema files', () => {
  it.each(GENERATED_SCHEMAS.map((entry) => [entry.file, entry] as const))('%s is current', (file, entry) => {
    const path = join(REPO, file);
    expect(existsSync(path), `${file} is missing: run node scripts/generate-schemas.ts`).toBe(true);
    expect(
      readFileSync(path, 'utf8') === renderSchema(entry),
      `${file} is stale: run node scripts/generate-schemas.ts`,
    ).toBe(true);
  });

  it('every plan in env/plans names the plan schema, so editors check it', () => {
    const plans = readdirSync(join(REPO, 'env', 'plans')).filter(
      (f) => f.endsWith('.json') && !f.endsWith('.schema.json') && !f.endsWith('-claims.json'),
    );
    expect(plans).toEqual(expect.arrayContaining(['paper.json', 'quick.json']));
    for (const file of plans)
      expect(JSON.parse(readFileSync(join(REPO, 'env', 'plans', file), 'utf8')).$schema, file).toBe(
        './plan.schema.json',
      );
  });

  it('the runner pairs file names its schema, so editors check it', () => {
    expect(JSON.parse(readFileSync(join(REPO, '.github', 'runner-pairs.json'), 'utf8')).$schema).toBe(
      './runner-pairs.schema.json',
    );
  });
});
