// The library's stages and their direction, checked on every source's imports: a module may import
// from its own stage or a stage below it, never from one above, and the library never imports env/
// or scripts/ (env/ builds on the library, not the reverse). testing/, the one home of test helpers,
// stands above them all: it may build testbeds with env/, and only tests and benches import it.
// Across the whole project no files import each other in a circle, and the acts moved to their
// stage stay there (HOMES). actions/README.md "Code layout" explains the cut.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..');
const LIB = join(REPO, 'actions', 'lib');

/** Lowest first. `testing/` holds helpers for tests and benches: nothing but tests and benches may import it. */
export const STAGES = ['core', 'plan', 'measure', 'analyse', 'report', 'diff', 'site', 'action', 'testing'] as const;

const TESTING = join(LIB, 'testing');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory())
      return e.name === 'fixtures' || e.name === 'node_modules' || e.name === 'dist' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const MODULE_IMPORTS = [
  /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+['"](\.[^'"]+)['"]/g,
  /(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g,
  /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g,
];
const WORKER_URL = /new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Every relative module specifier of a source: static imports, re-exports, dynamic imports and, for
 * the stage rule but not for circles (a worker is started, not loaded into its starter), worker URLs.
 */
export function relativeImports(text: string, workers = true): string[] {
  const found: string[] = [];
  const patterns = workers ? [...MODULE_IMPORTS, WORKER_URL] : MODULE_IMPORTS;
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
      if (to === null && from === 'testing' && !relative(join(REPO, 'env'), target).startsWith('..')) continue;
      if (to === null) {
        problems.push(`${where} imports ${spec}: outside actions/lib (the library never imports env/ or scripts/)`);
        continue;
      }
      const rankFrom = STAGES.indexOf(from as (typeof STAGES)[number]);
      const rankTo = STAGES.indexOf(to as (typeof STAGES)[number]);
      if (to === 'testing' && from !== 'testing')
        problems.push(`${where} imports ${spec}: testing/ is for tests and benches only`);
      else if (rankTo > rankFrom) problems.push(`${where} (${from}) imports ${spec} (${to}): up a stage`);
    }
  }
  for (const file of sources(join(REPO, 'env'))) {
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = stageOf(resolve(dirname(file), spec));
      if (to === 'testing' || to === 'action')
        problems.push(
          `${relative(REPO, file)} imports ${spec}: env/ may use the library's stages up to site, not ${to}/`,
        );
    }
  }
  return problems;
}

describe('import direction', () => {
  it('finds the imports it checks (the parser is not blind)', () => {
    const text =
      "import { a } from './x.ts';\nimport type { B } from '../y/z.ts';\nexport { c } from './c.ts';\nconst w = new URL('./w.ts', import.meta.url);\nawait import('./d.ts');";
    expect(relativeImports(text).sort()).toEqual(['../y/z.ts', './c.ts', './d.ts', './w.ts', './x.ts']);
  });

  it('every library module imports only from its own stage or below, and never from env/ or scripts/', () => {
    const found = violations();
    expect(found.filter((v) => !PENDING.includes(v))).toEqual([]);
    expect(PENDING.filter((v) => !found.includes(v))).toEqual([]);
  });
});

/** Every source of the project (tests, fixtures and bundles left out). */
function projectSources(): string[] {
  return ['actions', 'env', 'scripts'].flatMap((d) => sources(join(REPO, d)));
}

const inside = (dir: string, file: string) => !relative(dir, file).startsWith('..');

/** Each source's relative module imports that name another source. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const targets = (f: string) =>
    relativeImports(readFileSync(f, 'utf8'), false).map((spec) => resolve(dirname(f), spec));
  return new Map(files.map((f) => [f, targets(f).filter((t) => known.has(t))]));
}

/** A graph's import circles: its strongly connected parts of two files or more, or a file importing itself (Tarjan). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const part: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      part.push(w);
    } while (w !== v);
    if (part.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(part.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Every file `from` reaches through imports (itself only when it is on a circle). */
function reachable(graph: ReadonlyMap<string, readonly string[]>, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(graph.get(from) ?? [])];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...(graph.get(f) ?? []));
  }
  return seen;
}

/** Where each act now lives: it is declared in that file alone, and no file hands it on. */
const HOMES: Record<string, string> = {
  analyseRun: 'actions/lib/analyse/run.ts',
  RunAnalysis: 'actions/lib/analyse/run.ts',
  environmentTitle: 'actions/lib/analyse/environment-names.ts',
  ENVIRONMENT_ORDER: 'actions/lib/analyse/environment-names.ts',
  renderReport: 'actions/lib/report/report-files.ts',
  renderAnalysedReport: 'actions/lib/report/report-files.ts',
  writeReportFiles: 'actions/lib/report/report-files.ts',
  commitRun: 'actions/lib/report/report-files.ts',
  readIfExists: 'actions/lib/site/build.ts',
  checkRunId: 'actions/lib/core/file-names.ts',
  spawnServe: 'actions/start-environment/src/serve-process.ts',
  stopServe: 'actions/start-environment/src/serve-process.ts',
  testbedLockPath: 'env/testbed/testbed.ts',
};

export function homeProblems(files: readonly string[], homes: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
  for (const [name, home] of Object.entries(homes)) {
    const kinds = '(?:function\\*?|const|let|interface|type|class|enum)';
    const declared = new RegExp(`(?:^|\\n)export\\s+(?:declare\\s+)?(?:async\\s+)?${kinds}\\s+${name}\\b`);
    const handedOn = new RegExp(`(?:^|\\n)\\s*export\\s+(?:type\\s+)?\\{[^}]*\\b${name}\\b[^}]*\\}\\s*from`);
    const declaring = files.filter((f) => declared.test(texts.get(f)!)).map((f) => relative(REPO, f));
    if (declaring.length !== 1 || declaring[0] !== home) {
      problems.push(`${name}: declared in ${declaring.join(', ') || 'no file'}, its home is ${home}`);
    }
    for (const f of files.filter((f) => handedOn.test(texts.get(f)!))) {
      problems.push(`${relative(REPO, f)} re-exports ${name}: import it from ${home}`);
    }
  }
  return problems;
}

/** Test helpers outside actions/lib/testing/, and sources other than tests and benches that import it. */
function testingProblems(files: readonly string[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const problems: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || ['node_modules', 'dist', 'fixtures'].includes(e.name)) continue;
      const p = join(dir, e.name);
      if (e.name === 'testing' && p !== TESTING)
        problems.push(`${relative(REPO, p)}/: test helpers live in actions/lib/testing/`);
      walk(p);
    }
  };
  for (const d of ['actions', 'env', 'scripts']) walk(join(REPO, d));
  const importsVitest = /(?:^|\n)\s*import\s[^;]*?\sfrom\s+['"]vitest['"]/;
  for (const f of files.filter((f) => !inside(TESTING, f))) {
    const where = relative(REPO, f);
    if (importsVitest.test(readFileSync(f, 'utf8')))
      problems.push(`${where}: a test helper (it imports vitest) outside actions/lib/testing/`);
    const bench = /^scripts\/bench[^/]*\.ts$/.test(where);
    if (!bench && (graph.get(f) ?? []).some((t) => inside(TESTING, t))) {
      problems.push(`${where}: imports actions/lib/testing/, which is for tests and benches only`);
    }
  }
  return problems;
}

describe('the whole project', () => {
  const files = projectSources();
  const graph = importGraph(files);

  it('finds circles and only circles', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
      ['e', ['e']],
      ['f', []],
    ]);
    expect(circles(g)).toEqual([['a', 'b', 'c'], ['e']]);
  });

  it('has no import circle (between scripts/cli/ files or anywhere else)', () => {
    expect(circles(graph).map((c) => c.map((f) => relative(REPO, f)).join(' -> '))).toEqual([]);
  });

  it('keeps each act in its stage: a run analysed in analyse/, its report on disk in report/, serve-process beside its action', () => {
    expect(homeProblems(files, HOMES)).toEqual([]);
  });

  it('does single-run work without the site builder: analyse/ and report/ reach nothing of site/, the diffs not site/build.ts', () => {
    const site = join(LIB, 'site');
    for (const file of files.filter((f) => ['analyse', 'report'].includes(stageOf(f) ?? ''))) {
      const reached = [...reachable(graph, file)].filter((t) => inside(site, t)).map((t) => relative(REPO, t));
      expect(reached, relative(REPO, file)).toEqual([]);
    }
    for (const entry of ['actions/diff-results/src/main.ts', 'scripts/cli/diff.ts']) {
      expect(reachable(graph, join(REPO, entry)).has(join(site, 'build.ts')), entry).toBe(false);
    }
  });

  it('keeps test helpers in one home, actions/lib/testing/, imported by tests and benches alone', () => {
    expect(testingProblems(files, graph)).toEqual([]);
  });
});
