// The library's stages and their direction, checked on every source's imports: a module may import
// from its own stage or a stage below it, never from one above, and the library never imports env/
// or scripts/ (env/ builds on the library, not the reverse). actions/README.md "Code layout" explains the cut.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..');
const LIB = join(REPO, 'actions', 'lib');

/** Lowest first. `testing/` holds helpers for tests and benches: nothing but tests may import it. */
export const STAGES = ['core', 'plan', 'measure', 'analyse', 'report', 'diff', 'site', 'action', 'testing'] as const;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'node_modules' || e.name === 'dist' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every relative module specifier of a source: static imports, re-exports, dynamic imports, worker URLs. */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+['"](\.[^'"]+)['"]/g,
    /(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g,
    /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g,
    /new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]!);
  return found;
}

function stageOf(file: string): string | null {
  const rel = relative(LIB, file);
  if (rel.startsWith('..')) return null;
  const stage = rel.split('/')[0]!;
  return stage;
}

/** Known debts being paid off; each must go, and the test below fails once one is stale. */
const PENDING: string[] = [];

export function violations(): string[] {
  const problems: string[] = [];
  for (const file of sources(LIB)) {
    const from = stageOf(file)!;
    if (!(STAGES as readonly string[]).includes(from)) {
      problems.push(`${relative(REPO, file)}: not in a stage folder (${STAGES.join(', ')})`);
      continue;
    }
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      const where = relative(REPO, file);
      const to = stageOf(target);
      if (to === null) {
        problems.push(`${where} imports ${spec}: outside actions/lib (the library never imports env/ or scripts/)`);
        continue;
      }
      const rankFrom = STAGES.indexOf(from as (typeof STAGES)[number]);
      const rankTo = STAGES.indexOf(to as (typeof STAGES)[number]);
      if (to === 'testing' && from !== 'testing') problems.push(`${where} imports ${spec}: testing/ is for tests and benches only`);
      else if (rankTo > rankFrom) problems.push(`${where} (${from}) imports ${spec} (${to}): up a stage`);
    }
  }
  for (const file of sources(join(REPO, 'env'))) {
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = stageOf(resolve(dirname(file), spec));
      if (to === 'testing' || to === 'action') problems.push(`${relative(REPO, file)} imports ${spec}: env/ may use the library's stages up to site, not ${to}/`);
    }
  }
  return problems;
}

describe('import direction', () => {
  it('finds the imports it checks (the parser is not blind)', () => {
    const text = "import { a } from './x.ts';\nimport type { B } from '../y/z.ts';\nexport { c } from './c.ts';\nconst w = new URL('./w.ts', import.meta.url);\nawait import('./d.ts');";
    expect(relativeImports(text).sort()).toEqual(['../y/z.ts', './c.ts', './d.ts', './w.ts', './x.ts']);
  });

  it('every library module imports only from its own stage or below, and never from env/ or scripts/', () => {
    const found = violations();
    expect(found.filter((v) => !PENDING.includes(v))).toEqual([]);
    expect(PENDING.filter((v) => !found.includes(v))).toEqual([]);
  });
});
