// The README's verdict table is the committed run's, not a copy that can drift: it sits between
// markers naming the run, and must equal what scripts/readme-verdicts.ts makes from that run.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeVerdictTable, verdictTable } from './readme-verdicts.ts';
import { REPO_DIR } from './cli/common.ts';

const MARKER = /<!-- verdicts: (reports\/runs\/[A-Za-z0-9._-]+) -->\n([\s\S]*?)\n<!-- \/verdicts -->/;

describe('the README verdict table', () => {
  it('is the output of scripts/readme-verdicts.ts for the committed run its marker names', () => {
    const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
    const m = MARKER.exec(readme);
    expect(m, 'README.md has no <!-- verdicts: reports/runs/ID --> ... <!-- /verdicts --> block').not.toBeNull();
    expect(m![2]).toBe(readmeVerdictTable(join(REPO_DIR, m![1]!), m![1]!));
  });

  it('opens with the counts and gives each finding whole, with what the testbed cannot show', () => {
    const long = `native - docker: ${'0.12345 '.repeat(40).trim()}`;
    const table = verdictTable(
      [
        {
          section: 'IV',
          text: 'claim a',
          verdict: 'refuted',
          qualifier: null,
          onlyTcg: false,
          finding: long,
          limits: ['The link loses nothing.'],
        },
        {
          section: 'IV',
          text: 'claim b',
          verdict: 'inconclusive',
          qualifier: 'kvm not judged: TCG',
          onlyTcg: true,
          finding: 'Not judged.',
          limits: [],
        },
      ],
      'reports/runs/x/claims.md',
    );
    expect(table.split('\n')[0]).toBe(
      '**2 claims: 0 supported, 1 refuted, 1 inconclusive (1 of them only because a guest ran under TCG).** The evidence of each, its conditions and how it is judged: [claims.md](reports/runs/x/claims.md).',
    );
    expect(table).toContain(`| IV | claim a | refuted | ${long} Cannot show here: The link loses nothing. |`);
    expect(table).toContain('| IV | claim b | inconclusive (kvm not judged: TCG) | Not judged. |');
    expect(table).not.toContain('…');
  });
});
