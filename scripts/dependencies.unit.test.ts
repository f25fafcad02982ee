// Every runtime dependency in package.json is used: each is named, as an import specifier or a
// package whose files are loaded (vega-embed's browser build), in a source of the project. A
// dependency nothing uses is a supply-chain risk with no benefit, and a sign that code went around
// the tool the project chose (zx for processes, zod for schemas, @actions/* in actions).

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return ['node_modules', 'dist', 'fixtures', '.cache'].includes(e.name) ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const text = ['actions', 'env', 'scripts']
    .flatMap((d) => sources(join(REPO, d)))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');

  it.each(Object.keys(pkg.dependencies))('%s is used by a source', (name) => {
    // 'zx', 'zod/v4', "vega-embed": a specifier naming the package or a file in it.
    expect(
      new RegExp(`['"]${name.replace(/[/.]/g, '\\$&')}(/[^'"]*)?['"]`).test(text),
      `${name} is in package.json but no source names it`,
    ).toBe(true);
  });
});
