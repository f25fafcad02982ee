// The end of `virtnet run`: the throughput per environment, then only the claims the run could judge.

import { describe, expect, it } from 'vitest';
import { analyseRun } from '../../actions/lib/analyse/run.ts';
import { judgedHere } from '../../actions/lib/report/findings.ts';
import { loadRun } from '../../actions/lib/measure/run-dir.ts';
import { claimsOption } from './common.ts';
import { runEndLines } from './report.ts';

const COMMITTED = new URL('../../reports/runs/20261204T171317-f726c9', import.meta.url).pathname;

describe('the lines a run ends with', () => {
  const run = loadRun(COMMITTED);
  const analysis = analyseRun(run.manifest, run.results.records, claimsOption(undefined), run.results.probes);

  it('gives the throughput of each environment, from its own points', () => {
    const lines = runEndLines(analysis);
    for (const env of ['native', 'docker', 'kvm', 'osv']) {
      const line = lines.find((l) => l.trimStart().startsWith(`${env} `));
      expect(line, env).toMatch(
        /TCP mean 0-6000 B \d+\.\d\d, plateau \d+\.\d\d; UDP <= 1400 B \d+\.\d\d, >= 1500 B \d+\.\d\d, okay rate [01]\.\d{4}; round trip \d+ us$/,
      );
    }
    // The committed run's native plateau is the shaped link's: 94.1 x 10^6 bits/s.
    expect(lines.find((l) => l.trimStart().startsWith('native '))).toMatch(/plateau 94\.\d\d/);
  });

  it('lists only the claims the run could judge, counts the others, and ends with the counts line', () => {
    const lines = runEndLines(analysis);
    const judged = analysis.claims.filter(judgedHere);
    expect(judged.length).toBeGreaterThan(0);
    expect(judged.length).toBeLessThan(analysis.claims.length);
    for (const c of analysis.claims) {
      const listed = lines.some((l) => l.includes(`  ${c.id}: `));
      expect(listed, c.id).toBe(judged.includes(c));
    }
    expect(lines).toContain(
      `  ${analysis.claims.length - judged.length} other claims not judged here (an environment not measured, or TCG): see claims.md`,
    );
    expect(lines.at(-1)).toMatch(/^ {2}\d+ claims?: \d+ supported, \d+ refuted, \d+ inconclusive/);
  });
});
