// The committed real runs, judged again and compared with the verdicts stored beside this test, so a
// rule change that flips a verdict shows in review (as a change to golden-verdicts.json). After a
// deliberate change: UPDATE_GOLDEN=1 npx vitest run --config scripts/vitest.config.ts <this file>.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadClaims } from './file.ts';
import { judgeClaims, verdictLabel } from './judge.ts';
import { loadRun } from '../../measure/run-dir.ts';

const REPO = new URL('../../../../', import.meta.url).pathname;
const RUNS = join(REPO, 'reports', 'runs');
const GOLDEN = new URL('./golden-verdicts.json', import.meta.url).pathname;
const CLAIMS = loadClaims('paper', join(REPO, 'env', 'plans'));

/** Per run and claim: the verdict, and each part's outcome (TCG parts too, marked: a rule change shows even where TCG hides the verdict). */
function judgedRuns(): Record<string, Record<string, { verdict: string; parts: string[] }>> {
  const out: Record<string, Record<string, { verdict: string; parts: string[] }>> = {};
  for (const name of readdirSync(RUNS).sort()) {
    const run = loadRun(join(RUNS, name));
    const claims = judgeClaims({ manifest: run.manifest, records: run.results.records }, CLAIMS);
    out[run.manifest.runId] = Object.fromEntries(
      claims.map((c) => [
        c.id,
        { verdict: verdictLabel(c), parts: c.parts.map((p) => `${p.label}: ${p.outcome}${p.tcg ? ' (TCG)' : ''}`) },
      ]),
    );
  }
  return out;
}

describe('golden verdicts of the committed runs', () => {
  it('every committed run under reports/runs/ gets the verdicts stored in golden-verdicts.json', () => {
    const now = judgedRuns();
    expect(Object.keys(now).length).toBeGreaterThan(0);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(now, null, 2)}\n`);
    expect(now).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });
});
