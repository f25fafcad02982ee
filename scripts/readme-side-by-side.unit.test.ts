// The README's side-by-side table is a committed run's, not a copy that can drift: it sits between
// markers naming the run, and must equal what scripts/readme-side-by-side.ts takes from that run.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeSideBySide, sideBySideSection } from './readme-side-by-side.ts';
import { REPO_DIR } from './cli/common.ts';

const MARKER = /<!-- side-by-side: (reports\/runs\/[A-Za-z0-9._-]+) -->\n([\s\S]*?)\n<!-- \/side-by-side -->/g;

describe('the README side-by-side table', () => {
  it('is, in every block, the output of scripts/readme-side-by-side.ts for the committed run its marker names', () => {
    const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(MARKER)];
    expect(
      blocks.length,
      'README.md has no <!-- side-by-side: reports/runs/ID --> ... <!-- /side-by-side --> block',
    ).toBeGreaterThan(0);
    // Every opening marker belongs to a whole block: one left open would escape the check.
    expect(blocks.length).toBe(readme.split('<!-- side-by-side: ').length - 1);
    for (const m of blocks) expect(m[2], m[1]).toBe(readmeSideBySide(join(REPO_DIR, m[1]!), m[1]!));
  });

  it('takes the section up to the next table, and names the file when a report has none', () => {
    const md =
      'Link: x\n\n### A\n\n| a |\n\n### Every environment side by side: y\n\n| b |\n|---|\n\nnote\n\n### C\n\n| c |\n';
    expect(sideBySideSection(md, 'r/tables.md')).toBe('| b |\n|---|\n\nnote');
    expect(sideBySideSection(md.replace('### C\n\n| c |\n', ''), 'r/tables.md')).toBe('| b |\n|---|\n\nnote');
    expect(() => sideBySideSection('### A\n', 'r/tables.md')).toThrow(
      /r\/tables\.md: no "### Every environment side by side" table/,
    );
  });
});
